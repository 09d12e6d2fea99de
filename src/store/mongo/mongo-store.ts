/**
 * The MongoDB store engine: a thin wrapper over the official driver (v7). The driver's
 * own `Collection` already satisfies the port (`findOneAndUpdate` returns the document
 * itself since driver v6), so `collection()` hands it out unchanged.
 */

import { type Db, MongoClient } from 'mongodb';
import type { Collection, Doc, Store } from '../port.js';

export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  private closed = false;

  private constructor(
    readonly client: MongoClient,
    /** The driver's database handle (used by Agenda's mongo backend). */
    readonly db: Db,
  ) {}

  /** Connects to `url`; the database is `dbName`, else the one named in the URL, else `baton`. */
  static async connect(url: string, dbName?: string): Promise<MongoStore> {
    const client = new MongoClient(url, { ignoreUndefined: true });
    await client.connect();
    const name =
      dbName ?? (client.options.dbName && client.options.dbName !== 'test' ? client.options.dbName : 'baton');
    return new MongoStore(client, client.db(name));
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`Invalid collection name "${name}": must match [A-Za-z_][A-Za-z0-9_]*`);
    }
    return this.db.collection(name) as unknown as Collection<T>;
  }

  async dropAll(): Promise<void> {
    const cols = await this.db.listCollections({}, { nameOnly: true }).toArray();
    for (const c of cols) {
      if (!c.name.startsWith('system.')) await this.db.collection(c.name).drop();
    }
  }

  /** The driver acknowledges a write once the server has it (write concern), so it is durable already. */
  durable(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}
