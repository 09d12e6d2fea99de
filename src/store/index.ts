/** Store entry point: picks the engine (MongoDB when a URL is given, else embedded SQLite). */

import type { Store } from './port.js';

export type {
  Collection,
  Cursor,
  Doc,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  IndexOptions,
  SortSpec,
  Store,
  StoreKind,
  Update,
  UpdateOptions,
  UpdateResult,
} from './port.js';
export { dropIndexIfExists, isDuplicateKeyError } from './port.js';
export { assertSafeId, assertSafeValue, UnsafeInputError } from './safe.js';

export interface OpenStoreOptions {
  /** Directory of the embedded database (`baton.db`). */
  dataDir: string;
  /** When set (non-empty), use MongoDB instead of the embedded engine. */
  mongodbUrl?: string;
}

/** Opens the configured store engine. Engines are loaded lazily so the other one's driver is not required. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.mongodbUrl && opts.mongodbUrl.trim() !== '') {
    const { MongoStore } = await import('./mongo/mongo-store.js');
    return MongoStore.connect(opts.mongodbUrl);
  }
  const { SqliteStore } = await import('./sqlite/sqlite-store.js');
  return SqliteStore.open(opts.dataDir);
}
