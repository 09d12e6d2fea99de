import { isDuplicateKeyError } from '../store/port.js';
import { assertSafeId, assertSafeValue } from '../store/safe.js';
import type { CoreContext } from './context.js';
import { NotFoundError } from './errors.js';
import type { Delivery, NotificationDoc, User } from './types.js';

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

  /** The posted copies of a task, optionally of one surface. */
  async taskDeliveries(taskId: string, surface?: string): Promise<Delivery[]> {
    assertSafeId(taskId, 'task id');
    const task = await this.ctx.db.tasks.findOne({ _id: taskId });
    if (!task) throw new NotFoundError(`No task ${taskId}.`);
    return (task.deliveries ?? []).filter((d) => surface === undefined || d.surface === surface);
  }

  /** Marks a notification as delivered on a surface. */
  async notificationDelivered(id: string, delivery: Omit<Delivery, 'at'>): Promise<void> {
    assertSafeId(id, 'notification id');
    assertSafeValue(delivery, 'delivery');
    await this.ctx.db.notifications.updateOne(
      { _id: id },
      { $set: { status: 'delivered' }, $push: { deliveries: { ...delivery, at: this.ctx.now() } } },
    );
  }

  /** Marks a notification that no surface could deliver (it stays visible in the portal). */
  async notificationUndeliverable(id: string, surface: string, error: string): Promise<void> {
    assertSafeId(id, 'notification id');
    await this.ctx.db.notifications.updateOne(
      { _id: id, status: 'pending' },
      {
        $set: { status: 'undeliverable' },
        $push: { deliveries: { surface, user: '', ref: {}, at: this.ctx.now(), error } },
      },
    );
  }

  /** A user's notifications, newest first. */
  async notificationsFor(actor: User, limit = 50): Promise<NotificationDoc[]> {
    return this.ctx.db.notifications
      .find({ to: actor._id }, { sort: { created_at: -1 }, limit: Math.min(limit, 200) })
      .toArray();
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
}
