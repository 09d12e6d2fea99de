import { randomUUID } from 'node:crypto';
import { isDuplicateKeyError } from '../store/port.js';
import { assertSafeId, assertSafeValue } from '../store/safe.js';
import type { CoreContext } from './context.js';
import { NotFoundError } from './errors.js';
import type { Delivery, NotificationDoc, User } from './types.js';

/**
 * An action a person took on a surface (a button click) that the surface acknowledged to
 * the platform before carrying it out. Held in the store until carried out, so a crash in
 * between loses nothing: the next start (or a sweep) carries it out.
 */
export interface HeldAction {
  _id: string;
  surface: string;
  /** What the surface needs to carry it out again (no secrets: ids, the chosen outcome). */
  payload: Record<string, unknown>;
  created_at: Date;
  claimed_at?: Date | undefined;
  [key: string]: unknown;
}

/** How many listed copies of a task (see `recordListedCopy`) are kept, and updated when it changes. */
export const LISTED_COPIES_KEPT = 20;

/**
 * What surfaces record about the messages they post, so they can update every copy of a
 * task later and never post the same notification twice; plus a claim-once primitive for
 * platform retries (Slack's X-Slack-Retry-Num, Teams' activity ids).
 */
export class DeliveryService {
  constructor(private readonly ctx: CoreContext) {}

  /** Records a posted copy of a task (idempotent per surface, user and reference). */
  async recordTaskDelivery(taskId: string, delivery: Omit<Delivery, 'at'>): Promise<void> {
    assertSafeId(taskId, 'task id');
    assertSafeValue(delivery, 'delivery');
    const entry: Delivery = { ...delivery, at: this.ctx.now() };
    await this.ctx.db.tasks.updateOne(
      {
        _id: taskId,
        deliveries: { $not: { $elemMatch: { surface: delivery.surface, user: delivery.user } } },
      },
      { $push: { deliveries: entry } },
    );
  }

  /**
   * Records a copy of a task posted in answer to a person asking for their open tasks, beside
   * the task's own copy: it is updated with the task's copies (see `taskCopies`). The latest
   * `LISTED_COPIES_KEPT` of a task are kept (someone asking again and again adds copies).
   */
  async recordListedCopy(taskId: string, delivery: Omit<Delivery, 'at'>): Promise<void> {
    assertSafeId(taskId, 'task id');
    assertSafeValue(delivery, 'delivery');
    const entry: Delivery = { ...delivery, at: this.ctx.now() };
    await this.ctx.db.tasks.updateOne(
      { _id: taskId },
      { $push: { listed_copies: { $each: [entry], $slice: -LISTED_COPIES_KEPT } } },
    );
  }

  /** Every posted copy of a task on a surface that shows it: its own copies and the listed ones. */
  async taskCopies(taskId: string, surface: string): Promise<Delivery[]> {
    assertSafeId(taskId, 'task id');
    const task = await this.ctx.db.tasks.findOne({ _id: taskId });
    if (!task) throw new NotFoundError(`No task ${taskId}.`);
    return [...(task.deliveries ?? []), ...(task.listed_copies ?? [])].filter((d) => d.surface === surface);
  }

  /**
   * A surface has handed a copy of the task to every assignee it could (posted, already
   * recorded, or not reachable there): redelivery no longer hands it the task.
   */
  async copiesComplete(taskId: string, surface: string): Promise<void> {
    assertSafeId(taskId, 'task id');
    assertSafeId(surface, 'surface');
    await this.ctx.db.tasks.updateOne(
      { _id: taskId, status: 'open' },
      { $addToSet: { copies_complete: surface } },
    );
  }

  /** A surface's copies of a closed task show it closed now: redelivery no longer hands it the task. */
  async copiesUpdated(taskId: string, surface: string): Promise<void> {
    assertSafeId(taskId, 'task id');
    assertSafeId(surface, 'surface');
    const after = await this.ctx.db.tasks.findOneAndUpdate(
      { _id: taskId, copies_outdated: surface },
      { $pull: { copies_outdated: surface } },
      { returnDocument: 'after' },
    );
    if (after && (after.copies_outdated ?? []).length === 0)
      await this.ctx.db.tasks.updateOne(
        { _id: taskId, copies_outdated: { $size: 0 } },
        { $unset: { copies_outdated: '' } },
      );
  }

  /** The posted copies of a task, optionally of one surface. */
  async taskDeliveries(taskId: string, surface?: string): Promise<Delivery[]> {
    assertSafeId(taskId, 'task id');
    const task = await this.ctx.db.tasks.findOne({ _id: taskId });
    if (!task) throw new NotFoundError(`No task ${taskId}.`);
    return (task.deliveries ?? []).filter((d) => surface === undefined || d.surface === surface);
  }

  /**
   * Marks a notification as delivered on a surface (and no longer owed there). Its `status`
   * sums up the surfaces: delivered once any surface delivered it.
   */
  async notificationDelivered(id: string, delivery: Omit<Delivery, 'at'>): Promise<void> {
    assertSafeId(id, 'notification id');
    assertSafeValue(delivery, 'delivery');
    await this.ctx.db.notifications.updateOne(
      { _id: id },
      {
        $set: { status: 'delivered' },
        $push: { deliveries: { ...delivery, at: this.ctx.now() } },
        $pull: { owed: delivery.surface },
      },
    );
  }

  /**
   * A surface could not deliver a notification for good (the person blocked the bot...): it is
   * not tried there again. Undeliverable (it stays visible in the portal) while no surface has
   * delivered it; other surfaces still deliver theirs, and one that had a passing failure still
   * owes it (see `notificationOwed`).
   */
  async notificationUndeliverable(id: string, surface: string, error: string): Promise<void> {
    assertSafeId(id, 'notification id');
    assertSafeId(surface, 'surface');
    await this.ctx.db.notifications.updateOne(
      { _id: id },
      {
        $push: { deliveries: { surface, user: '', ref: {}, at: this.ctx.now(), error } },
        $pull: { owed: surface },
      },
    );
    await this.ctx.db.notifications.updateOne(
      { _id: id, status: 'pending' },
      { $set: { status: 'undeliverable' } },
    );
  }

  /**
   * A surface's post of a notification had a passing failure: it still owes it, and redelivery
   * hands it the notification again whatever other surfaces did meanwhile.
   */
  async notificationOwed(id: string, surface: string): Promise<void> {
    assertSafeId(id, 'notification id');
    assertSafeId(surface, 'surface');
    await this.ctx.db.notifications.updateOne({ _id: id }, { $addToSet: { owed: surface } });
  }

  /** Whether `surface` has nothing more to do for a notification (posted it, or refused for good). */
  notificationDoneOn(n: NotificationDoc, surface: string): boolean {
    if (n.deliveries.some((d) => d.surface === surface)) return true;
    return n.status !== 'pending' && !(n.owed ?? []).includes(surface);
  }

  /** A user's notifications, newest first. */
  async notificationsFor(actor: User, limit = 50): Promise<NotificationDoc[]> {
    return this.ctx.db.notifications
      .find({ to: actor._id }, { sort: { created_at: -1 }, limit: Math.min(limit, 200) })
      .toArray();
  }

  private get held() {
    return this.ctx.store.collection<HeldAction>('held_actions');
  }

  /** Holds an action before the surface acknowledges it; returns its id for `releaseAction`. */
  async holdAction(surface: string, payload: Record<string, unknown>): Promise<string> {
    assertSafeValue(payload, 'action');
    const id = `ha_${randomUUID()}`;
    const now = this.ctx.now();
    await this.held.insertOne({ _id: id, surface, payload, created_at: now, claimed_at: now });
    return id;
  }

  /** The action was carried out (or refused for good): forget it. */
  async releaseAction(id: string): Promise<void> {
    assertSafeId(id, 'action id');
    await this.held.deleteOne({ _id: id });
  }

  /** The held actions that answer the task `taskId` (held clicks are few: each lives from its ack to its carrying out). */
  async heldForTask(taskId: string, limit = 10): Promise<HeldAction[]> {
    assertSafeId(taskId, 'task id');
    return this.held.find({ 'payload.task_id': taskId }, { limit }).toArray();
  }

  /**
   * Claims the actions of a surface that nobody carried out: held by a process for longer
   * than `staleMs` (that process died, or is so far behind that taking over is right; the
   * core's compare-and-set decides anyway). Each is claimed by one caller only.
   */
  async claimHeldActions(surface: string, staleMs: number, limit = 500): Promise<HeldAction[]> {
    const now = this.ctx.now();
    const before = new Date(now.getTime() - staleMs);
    const candidates = await this.held
      .find({ surface, claimed_at: { $lte: before } }, { sort: { created_at: 1 }, limit })
      .toArray();
    const out: HeldAction[] = [];
    for (const c of candidates) {
      const claimed = await this.held.findOneAndUpdate(
        { _id: c._id, claimed_at: c.claimed_at ?? c.created_at },
        { $set: { claimed_at: now } },
        { returnDocument: 'after' },
      );
      if (claimed) out.push(claimed);
    }
    return out;
  }

  /**
   * Claims `key` once within `ttlMs`: true for the first caller, false for every later one
   * (a platform retry of an event already being processed).
   */
  async claimOnce(key: string, ttlMs = 24 * 3600_000): Promise<boolean> {
    assertSafeId(key, 'dedupe key');
    const now = this.ctx.now();
    const dedupe = this.ctx.store.collection<{ _id: string; expires_at: Date }>('dedupe');
    try {
      await dedupe.insertOne({ _id: key, expires_at: new Date(now.getTime() + ttlMs) });
      if (Math.random() < 0.01) await dedupe.deleteMany({ expires_at: { $lt: now } });
      return true;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const existing = await dedupe.findOne({ _id: key });
      if (existing && existing.expires_at < now) {
        const { modifiedCount } = await dedupe.updateOne(
          { _id: key, expires_at: existing.expires_at },
          { $set: { expires_at: new Date(now.getTime() + ttlMs) } },
        );
        return modifiedCount === 1;
      }
      return false;
    }
  }

  /**
   * What the holder of a `claimOnce` key did (e.g. the id of the request it filed), kept
   * with the claim so a later retry can answer with it; without `result`, reads it back
   * (null: no claim, or no result yet).
   */
  async claimResult(key: string, result?: string): Promise<string | null> {
    assertSafeId(key, 'dedupe key');
    const dedupe = this.ctx.store.collection<{ _id: string; expires_at: Date; result?: string }>('dedupe');
    if (result !== undefined) {
      await dedupe.updateOne({ _id: key }, { $set: { result } });
      return result;
    }
    const claim = await dedupe.findOne({ _id: key });
    return claim && claim.expires_at >= this.ctx.now() && typeof claim.result === 'string'
      ? claim.result
      : null;
  }

  /** Whether `key` is claimed (and not expired). */
  async isClaimed(key: string): Promise<boolean> {
    assertSafeId(key, 'dedupe key');
    const dedupe = this.ctx.store.collection<{ _id: string; expires_at: Date }>('dedupe');
    const claim = await dedupe.findOne({ _id: key });
    return claim !== null && claim.expires_at >= this.ctx.now();
  }

  /**
   * Gives back a `claimOnce` claim (taken for `ttlMs`) that has no result and was taken over
   * `staleMs` ago: its holder died before finishing (a crash between claiming and the work).
   * True when it was given back.
   */
  async releaseStaleClaim(key: string, ttlMs: number, staleMs: number): Promise<boolean> {
    assertSafeId(key, 'dedupe key');
    const dedupe = this.ctx.store.collection<{ _id: string; expires_at: Date; result?: string }>('dedupe');
    const claim = await dedupe.findOne({ _id: key });
    if (!claim || typeof claim.result === 'string') return false;
    if (claim.expires_at.getTime() - ttlMs > this.ctx.now().getTime() - staleMs) return false;
    const { deletedCount } = await dedupe.deleteOne({
      _id: key,
      expires_at: claim.expires_at,
      result: { $exists: false },
    });
    return deletedCount === 1;
  }

  /** Gives a claim back: the work failed and may be tried again. */
  async releaseClaim(key: string): Promise<void> {
    assertSafeId(key, 'dedupe key');
    await this.ctx.store.collection<{ _id: string }>('dedupe').deleteOne({ _id: key });
  }
}
