/**
 * The store port: a narrow subset of the MongoDB driver's `Collection` API.
 *
 * The driver's own `Collection` satisfies it (MongoDB engine); the embedded engine
 * (SQLite) adapts to it. Queries and updates are written once, in MongoDB syntax.
 * Every document has a string `_id`.
 */

export type Doc = { _id: string } & Record<string, unknown>;

/** A MongoDB query filter. Supported: equality (incl. dotted paths and array membership), $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $nor $not $regex $size $elemMatch. */
export type Filter = Record<string, unknown>;

/** A MongoDB update document. Supported: $set $unset $inc $push (with $each) $pull $addToSet $setOnInsert $min $max. */
export type Update = Record<string, unknown>;

export type SortSpec = Record<string, 1 | -1>;

export interface FindOptions {
  sort?: SortSpec;
  limit?: number;
  skip?: number;
  projection?: Record<string, 0 | 1>;
}

export interface UpdateOptions {
  upsert?: boolean;
}

export interface FindOneAndUpdateOptions {
  /** 'before' (default, as in the driver) or 'after'. */
  returnDocument?: 'before' | 'after';
  upsert?: boolean;
  sort?: SortSpec;
}

export interface UpdateResult {
  matchedCount: number;
  modifiedCount: number;
  upsertedCount: number;
  upsertedId: string | null;
}

export interface IndexOptions {
  unique?: boolean;
  name?: string;
  /** Only documents where every key exists are indexed (and checked for uniqueness). */
  sparse?: boolean;
}

export interface Cursor<T> {
  /** All matching documents. */
  toArray(): Promise<T[]>;
}

export interface Collection<T extends Doc = Doc> {
  /** Inserts one document; a duplicate `_id` or unique-index violation rejects with a DuplicateKeyError-compatible error (`code === 11000`). */
  insertOne(doc: T): Promise<{ acknowledged: boolean; insertedId: string }>;
  /** Inserts several documents in order (atomically on the embedded engine). */
  insertMany(docs: T[]): Promise<{ acknowledged: boolean; insertedCount: number }>;
  /** The first matching document, honouring `sort`, or null. */
  findOne(filter: Filter, options?: FindOptions): Promise<T | null>;
  /** Matching documents with sort/skip/limit. */
  find(filter: Filter, options?: FindOptions): Cursor<T>;
  /** Updates the first match (or inserts when `upsert` and nothing matched). */
  updateOne(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  /** Updates every match. */
  updateMany(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  /** Atomically finds, updates and returns one document (before or after the update), or null. */
  findOneAndUpdate(filter: Filter, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null>;
  /** Deletes the first match. */
  deleteOne(filter: Filter): Promise<{ deletedCount: number }>;
  /** Deletes every match. */
  deleteMany(filter: Filter): Promise<{ deletedCount: number }>;
  /** Number of matching documents. */
  countDocuments(filter?: Filter): Promise<number>;
  /** Creates an index if it does not exist; returns its name. */
  createIndex(keys: SortSpec, options?: IndexOptions): Promise<string>;
  /**
   * Drops the index of that name (as `createIndex` returned it). Rejects as MongoDB does when
   * there is none (`code` 27, IndexNotFound); see `dropIndexIfExists`.
   */
  dropIndex(name: string): Promise<unknown>;
}

export type StoreKind = 'embedded' | 'mongodb';

export interface Store {
  readonly kind: StoreKind;
  /** A collection by name (created on first use). */
  collection<T extends Doc = Doc>(name: string): Collection<T>;
  /** Drops every collection (tests only). */
  dropAll(): Promise<void>;
  /**
   * Resolves once every write applied before the call is durable (committed). Engines that
   * acknowledge a write only once it is durable resolve at once.
   */
  durable(): Promise<void>;
  /**
   * Optional: acknowledge writes as soon as they are applied (visible to every later
   * operation of this process) rather than once committed. The caller takes over the
   * durability barrier: nothing may leave the process (a reply, an event, a message on a
   * platform) before `durable()` resolved. `onLost` is called when a COMMIT fails, i.e.
   * writes already acknowledged are gone: the process must not go on as if they were there.
   */
  acknowledgeOnApply?(onLost: (err: unknown) => void): void;
  /** Optional: the barrier of the writes not yet durable (what `durable()` would wait for), or null when none. */
  pending?(): Promise<void> | null;
  /** Flushes and closes. */
  close(): Promise<void>;
}

/** Drops the named index when it exists; resolves to whether it did. */
export async function dropIndexIfExists(c: Collection, name: string): Promise<boolean> {
  try {
    await c.dropIndex(name);
    return true;
  } catch (err) {
    // 27: IndexNotFound; 26: NamespaceNotFound (MongoDB, for a collection never written).
    const code = (err as { code?: unknown })?.code;
    if (code === 27 || code === 26) return false;
    throw err;
  }
}

/** True when `err` is a unique-key violation from either engine. */
export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
