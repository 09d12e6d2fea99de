import { assertSafeId, assertSafeValue } from '../store/safe.js';
import type { CoreContext } from './context.js';

/**
 * Where a surface can reach a person later (a Teams conversation reference: service URL,
 * tenant, the bot's and the person's ids, and the 1:1 conversation when there is one).
 * One document per surface and Baton user, overwritten as the platform tells us more.
 */
export interface ConversationRefDoc {
  /** `<surface>:<user id>`. */
  _id: string;
  surface: string;
  user: string;
  /** Surface-specific, flat strings (e.g. Teams `{ serviceUrl, tenantId, userId, conversationId }`). */
  ref: Record<string, string>;
  updated_at: Date;
  [key: string]: unknown;
}

/** Conversation references of people, and the note a surface leaves when it cannot reach someone. */
export class ConversationService {
  constructor(private readonly ctx: CoreContext) {}

  private get refs() {
    return this.ctx.store.collection<ConversationRefDoc>('conversation_refs');
  }

  /**
   * Saves (merges) what a surface knows about reaching a user; fields already stored and not
   * given stay (a channel message does not erase the 1:1 conversation of an earlier DM).
   */
  async save(surface: string, userId: string, ref: Record<string, string>): Promise<void> {
    assertSafeId(surface, 'surface');
    assertSafeId(userId, 'user id');
    assertSafeValue(ref, 'conversation reference');
    const set: Record<string, unknown> = { surface, user: userId, updated_at: this.ctx.now() };
    for (const [k, v] of Object.entries(ref)) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(k)) throw new Error(`bad reference key ${k}`);
      if (typeof v === 'string' && v !== '') set[`ref.${k}`] = v;
    }
    await this.refs.updateOne({ _id: `${surface}:${userId}` }, { $set: set }, { upsert: true });
  }

  /** Forgets parts of a stored reference (e.g. the 1:1 chat of someone who uninstalled the bot). */
  async forget(surface: string, userId: string, keys: string[]): Promise<void> {
    assertSafeId(surface, 'surface');
    assertSafeId(userId, 'user id');
    const unset: Record<string, ''> = {};
    for (const k of keys) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(k)) throw new Error(`bad reference key ${k}`);
      unset[`ref.${k}`] = '';
    }
    await this.refs.updateOne(
      { _id: `${surface}:${userId}` },
      { $unset: unset, $set: { updated_at: this.ctx.now() } },
    );
  }

  /** The stored reference of a user on a surface, or null. */
  async get(surface: string, userId: string): Promise<Record<string, string> | null> {
    assertSafeId(surface, 'surface');
    assertSafeId(userId, 'user id');
    const doc = await this.refs.findOne({ _id: `${surface}:${userId}` });
    return doc?.ref ?? null;
  }

  /**
   * Notes in the waiting job's log (and the server log) that a task copy could not be
   * delivered to someone on a surface, and why. Once per task, user and surface.
   */
  async noteUndelivered(taskId: string, surface: string, userId: string, reason: string): Promise<void> {
    assertSafeId(taskId, 'task id');
    const task = await this.ctx.db.tasks.findOne({ _id: taskId });
    if (!task) return;
    const key = `${surface}:undelivered:${taskId}:${userId}`;
    const dedupe = this.ctx.store.collection<{ _id: string; expires_at: Date }>('dedupe');
    const seen = await dedupe.findOne({ _id: key });
    if (seen) return;
    const now = this.ctx.now();
    try {
      await dedupe.insertOne({ _id: key, expires_at: new Date(now.getTime() + 30 * 24 * 3600_000) });
    } catch {
      return; // noted by someone else at the same moment
    }
    this.ctx.logger.warn({ task: taskId, user: userId, surface, reason }, 'task copy not delivered');
    if (!task.job_id) return;
    const job = await this.ctx.db.jobs.findOne({ _id: task.job_id });
    if (!job) return;
    // Appending to the log changes neither the job's pc nor its status (the engine's compare-and-set).
    await this.ctx.db.jobs.updateOne(
      { _id: job._id },
      {
        $push: {
          log: {
            pc: job.pc,
            step: task.step_id ?? task.title,
            action: `deliver:${surface}`,
            status: 'failed',
            started_at: now,
            finished_at: now,
            error: reason,
          },
        },
      },
    );
  }
}
