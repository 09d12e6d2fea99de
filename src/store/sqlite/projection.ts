/** MongoDB-style find projections applied in memory (inclusion or exclusion, dotted paths). */

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Date);
}

/** Projects `src` (an object or array of objects) down to `segs`; returns the projected container or undefined. */
function pick(src: unknown, segs: string[]): unknown {
  if (Array.isArray(src)) {
    return src.filter((e) => isObj(e)).map((e) => pick(e, segs) ?? {});
  }
  if (!isObj(src)) return undefined;
  const [head, ...rest] = segs as [string, ...string[]];
  if (!(head in src)) return undefined;
  const v = src[head];
  if (rest.length === 0) return { [head]: v };
  if (!isObj(v) && !Array.isArray(v)) return undefined;
  const sub = pick(v, rest);
  return sub === undefined ? undefined : { [head]: sub };
}

function merge(dst: Obj, src: Obj): void {
  for (const k of Object.keys(src)) {
    const a = dst[k];
    const b = src[k];
    if (isObj(a) && isObj(b)) merge(a, b);
    else dst[k] = b;
  }
}

function omit(target: unknown, segs: string[]): void {
  if (Array.isArray(target)) {
    for (const e of target) omit(e, segs);
    return;
  }
  if (!isObj(target)) return;
  const [head, ...rest] = segs as [string, ...string[]];
  if (rest.length === 0) delete target[head];
  else omit(target[head], rest);
}

/** Applies `projection` to `doc` (which may be mutated); returns the projected document. */
export function applyProjection<T extends Obj>(doc: T, projection: Record<string, 0 | 1 | boolean>): T {
  const keys = Object.keys(projection);
  if (keys.length === 0) return doc;
  const nonId = keys.filter((k) => k !== '_id');
  const inclusive = nonId.length > 0 ? Boolean(projection[nonId[0]!]) : Boolean(projection._id);
  for (const k of nonId) {
    if (Boolean(projection[k]) !== inclusive) {
      throw new Error('A projection cannot mix inclusion and exclusion (except for _id)');
    }
  }
  if (!inclusive) {
    for (const k of keys) omit(doc, k.split('.'));
    return doc;
  }
  const out: Obj = {};
  if (projection._id !== 0 && (projection._id as unknown) !== false && '_id' in doc) out._id = doc._id;
  for (const k of nonId) {
    const segs = k.split('.');
    const head = segs[0]!;
    if (segs.length === 1) {
      if (head in doc) out[head] = doc[head];
      continue;
    }
    const v = pick(doc, segs);
    if (v !== undefined && isObj(v)) merge(out, v);
  }
  return out as T;
}
