import {
  type AppDefinition,
  AppDefinitionSchema,
  closestKey,
  idPrefixFor,
  MAX_NAME_LENGTH,
} from '../recipes/schema.js';
import { isDuplicateKeyError } from '../store/port.js';
import { assertSafeValue } from '../store/safe.js';
import type { CoreContext } from './context.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import type { AppDoc, DefinitionSource, User } from './types.js';
import { requireAdmin } from './users.js';

type Field = AppDefinition['fields'][number];

const APP_KEY = /^[a-z][a-z0-9-]*$/;

/** The stage a cancelled request moves to (`Engine.cancelRequest`). */
const CANCELLED_STAGE = /^(cancell?ed|withdrawn)$/i;

/** The stage of an app that cancelled requests move to (`Cancelled`, `Canceled` or `Withdrawn`), if it has one. */
export function cancelledStageOf(app: { stages: string[] }): string | undefined {
  return app.stages.find((s) => CANCELLED_STAGE.test(s.trim()));
}

/** Turns zod issues for an app definition into one readable message. */
function parseApp(input: unknown): AppDefinition {
  const result = AppDefinitionSchema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.join('.') || 'app';
    fields[path] ??= issue.message;
  }
  const summary = Object.entries(fields)
    .map(([p, m]) => `${p}: ${m}`)
    .join('; ');
  throw new ValidationError(`The app is not valid: ${summary}`, fields);
}

export class AppService {
  /** Parsed definitions by key; invalidated on every write through this service. */
  private readonly cache = new Map<string, AppDefinition>();

  constructor(private readonly ctx: CoreContext) {}

  async list(): Promise<AppDoc[]> {
    return this.ctx.db.apps.find({}, { sort: { _id: 1 } }).toArray();
  }

  async find(key: string): Promise<AppDefinition | null> {
    if (!APP_KEY.test(key)) return null;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const doc = await this.ctx.db.apps.findOne({ _id: key });
    if (!doc) return null;
    this.cache.set(key, doc.definition);
    return doc.definition;
  }

  async get(key: string): Promise<AppDefinition> {
    const app = await this.find(key);
    if (!app) {
      const known = (await this.list()).map((a) => a._id);
      // A typo of a key ("it-acess"): say which app was probably meant.
      const meant =
        typeof key === 'string' && key.length <= 64 ? closestKey(key.toLowerCase(), known) : undefined;
      throw new NotFoundError(
        `No app named "${key}".${meant ? ` Did you mean ${meant}?` : ''}${known.length ? ` Apps: ${known.join(', ')}.` : ' No apps are installed yet.'}`,
      );
    }
    return app;
  }

  /**
   * The app a person names in a command: its key in any case (`Time-Off`), or its name as the
   * forms and pickers show it, in any case and spacing (`time off`), the prefix of its
   * requests' ids (`pto`), or its key followed by other words (`time-off please`). Not found: NotFoundError listing the apps there are.
   */
  async resolve(typed: string): Promise<AppDefinition> {
    const text = typed.trim();
    const byKey = await this.find(text.toLowerCase());
    if (byKey) return byKey;
    const fold = (s: string) => s.normalize('NFKC').toLocaleLowerCase().replace(/\s+/g, ' ').trim();
    const named = (await this.list()).filter(
      (a) =>
        fold(a.definition.name) === fold(text) ||
        a._id === fold(text).replace(/ /g, '-') ||
        // The prefix of its requests' ids, as people see them (PO-12: "new po").
        idPrefixFor(a.definition).toLowerCase() === fold(text),
    );
    if (named.length === 1) return named[0]!.definition;
    const first = text.split(/\s+/)[0] ?? '';
    return (first !== text ? await this.find(first.toLowerCase()) : null) ?? this.get(text);
  }

  /** Creates an app from a definition (admins). */
  async create(actor: User, input: unknown): Promise<AppDefinition> {
    requireAdmin(actor, 'create apps');
    assertSafeValue(input, 'app');
    const def = parseApp({ kind: 'app', ...(input as object) });
    await this.assertOwnPrefix(def);
    const now = this.ctx.now();
    try {
      await this.ctx.db.apps.insertOne({
        _id: def.key,
        definition: def,
        source: 'store',
        created_at: now,
        updated_at: now,
      });
    } catch (err) {
      if (isDuplicateKeyError(err)) throw new ConflictError(`An app with the key ${def.key} already exists.`);
      throw err;
    }
    this.cache.set(def.key, def);
    this.ctx.logger.info({ actor: actor._id, app: def.key }, 'app created');
    this.ctx.events.emit('catalog.changed', { kind: 'app', key: def.key });
    return def;
  }

  /**
   * The definition to install from a file or pack over what is stored: the file's, plus the
   * fields and stages admins added to the stored app that the file does not have (an added
   * stage goes after the stage it followed). Returns what was kept, for the log.
   */
  async withAdminAdditions(
    def: AppDefinition,
  ): Promise<{ definition: AppDefinition; kept: { fields: string[]; stages: string[] } }> {
    const doc = await this.ctx.db.apps.findOne({ _id: def.key });
    const added = doc?.admin_added;
    const kept = { fields: [] as string[], stages: [] as string[] };
    if (!doc || !added) return { definition: def, kept };
    const fields = [...def.fields];
    for (const key of added.fields ?? []) {
      const field = doc.definition.fields.find((f) => f.key === key);
      if (field && !fields.some((f) => f.key === key)) {
        fields.push(field);
        kept.fields.push(key);
      }
    }
    const stages = [...def.stages];
    for (const stage of added.stages ?? []) {
      if (stages.includes(stage) || !doc.definition.stages.includes(stage)) continue;
      const before = doc.definition.stages.slice(0, doc.definition.stages.indexOf(stage)).reverse();
      const anchor = before.find((s) => stages.includes(s));
      stages.splice(anchor === undefined ? stages.length : stages.indexOf(anchor) + 1, 0, stage);
      kept.stages.push(stage);
    }
    return { definition: parseApp({ ...def, fields, stages }), kept };
  }

  /** Installs or replaces an app from a file or template pack (no actor: start-up, or checked by the caller). */
  async install(def: AppDefinition, source: DefinitionSource, file?: string): Promise<void> {
    await this.assertOwnPrefix(def);
    const now = this.ctx.now();
    await this.ctx.db.apps.updateOne(
      { _id: def.key },
      { $set: { definition: def, source, file, updated_at: now }, $setOnInsert: { created_at: now } },
      { upsert: true },
    );
    this.cache.set(def.key, def);
    this.ctx.events.emit('catalog.changed', { kind: 'app', key: def.key });
  }

  /**
   * Request ids are `<prefix>-<number>`, numbered per app: two apps with one prefix would both
   * make PUR-1, and the second could never file a request. Refuses a prefix another app has.
   */
  private async assertOwnPrefix(def: AppDefinition): Promise<void> {
    const prefix = idPrefixFor(def);
    const other = (await this.list()).find(
      (doc) => doc._id !== def.key && idPrefixFor(doc.definition) === prefix,
    )?.definition;
    if (!other) return;
    const message = `The request ids ${prefix}-1, ${prefix}-2… are those of the app ${other.name} (${other.key}): give ${def.name} an id prefix of its own${def.id_prefix ? '' : ` (without one, its key gives ${prefix})`}.`;
    throw new ValidationError(message, { id_prefix: message });
  }

  async addField(actor: User, key: string, field: unknown): Promise<AppDefinition> {
    requireAdmin(actor, 'change apps');
    assertSafeValue(field, 'field');
    const app = await this.get(key);
    const f = field as Partial<Field>;
    if (app.fields.some((x) => x.key === f.key)) {
      throw new ConflictError(`${app.name} already has a field "${f.key}".`);
    }
    return this.replace(
      app,
      { ...app, fields: [...app.fields, field as Field] },
      { fields: [String(f.key)] },
    );
  }

  async addStage(actor: User, key: string, stage: string, position?: number): Promise<AppDefinition> {
    requireAdmin(actor, 'change apps');
    const app = await this.get(key);
    const name = typeof stage === 'string' ? stage.trim() : '';
    if (name === '') throw new ValidationError('A stage needs a name.', { stage: 'Stage is required' });
    if (name.length > MAX_NAME_LENGTH) {
      const message = `Stage names are at most ${MAX_NAME_LENGTH} characters (this one has ${name.length}).`;
      throw new ValidationError(message, { stage: message });
    }
    // People type stages in any case and spacing (`admin requests move PTO-4 on hold`): one that
    // differs from another only so could not be told apart.
    const fold = (x: string) => x.normalize('NFKC').toLocaleLowerCase().replace(/\s+/g, ' ').trim();
    const same = app.stages.find((s) => fold(s) === fold(name));
    if (same !== undefined)
      throw new ConflictError(
        `${app.name} already has a stage "${same}"${same === name ? '' : ' (stage names are told apart regardless of case and spacing)'}.`,
      );
    const stages = [...app.stages];
    stages.splice(position ?? stages.length, 0, name);
    return this.replace(app, { ...app, stages }, { stages: [name] });
  }

  private async replace(
    old: AppDefinition,
    next: unknown,
    added: { fields?: string[]; stages?: string[] } = {},
  ): Promise<AppDefinition> {
    const def = parseApp(next);
    const push: Record<string, unknown> = {};
    if (added.fields?.length) push['admin_added.fields'] = { $each: added.fields };
    if (added.stages?.length) push['admin_added.stages'] = { $each: added.stages };
    const { modifiedCount } = await this.ctx.db.apps.updateOne(
      { _id: old.key },
      {
        $set: { definition: def, updated_at: this.ctx.now() },
        ...(Object.keys(push).length > 0 ? { $push: push } : {}),
      },
    );
    if (modifiedCount === 0) throw new NotFoundError(`No app named "${old.key}".`);
    this.cache.set(def.key, def);
    this.ctx.events.emit('catalog.changed', { kind: 'app', key: def.key });
    return def;
  }

  /** Drops cached definitions (another instance may have changed them). */
  invalidate(key?: string): void {
    if (key) this.cache.delete(key);
    else this.cache.clear();
  }
}
