import type { FastifyInstance } from 'fastify';
import type { Baton } from '../../src/core/baton.js';
import type { NotificationDoc, RequestDoc, TaskDoc, User } from '../../src/core/types.js';
import { isOperator } from '../../src/core/users.js';
import type { Logger } from '../../src/logger.js';
import type { WebKit } from './kit.js';

/**
 * Live updates: `GET /events` is a server-sent event stream per signed-in user, fed by
 * `baton.events`. It sends `change` events naming the request that changed, only to people
 * who may see it: the inbox page is told about tasks assigned to the viewer (or one of their
 * groups) and about their own requests; a request page about its request. The page then
 * fetches the fragment it shows again. Comments every 15 s keep proxies from closing idle
 * streams; every stream is ended when the server closes.
 */

const HEARTBEAT_MS = 15_000;
/** Per-user cap: an open tab per page is plenty. */
const MAX_STREAMS_PER_USER = 20;

interface Stream {
  user: User;
  /** The request this stream watches (a request page), if any. */
  request: string | undefined;
  send(event: string, data: unknown): void;
  end(): void;
}

export interface Live {
  register(app: FastifyInstance, kit: WebKit): void;
  /** Open streams (tests, metrics). */
  count(): number;
}

export function createLive({ baton, logger }: { baton: Baton; logger: Logger }): Live {
  const streams = new Set<Stream>();

  const assignedTo = async (user: User, task: TaskDoc): Promise<boolean> => {
    for (const key of [task.assignee_key, task.delegated_from]) {
      if (!key) continue;
      if (key === `user:${user._id}`) return true;
      if (key.startsWith('group:') && (await baton.groups.isMember(key.slice('group:'.length), user._id)))
        return true;
    }
    return task.completed_by === user._id;
  };

  const fanOut = async (requestId: string, task: TaskDoc | null, request: RequestDoc | null) => {
    if (streams.size === 0) return;
    const req = request ?? (await baton.requests.load(requestId));
    for (const stream of streams) {
      try {
        let relevant = false;
        if (stream.request !== undefined) relevant = stream.request === requestId;
        else if (task && (await assignedTo(stream.user, task))) relevant = true;
        else if (req && req.requester === stream.user._id) relevant = true;
        if (relevant && stream.request !== undefined && req && !isOperator(stream.user)) {
          // A request page was opened by someone allowed to see it; check again (tasks move).
          relevant = await baton.requests.canSee(stream.user, req);
        }
        if (relevant) stream.send('change', { request: requestId, task: task?._id ?? null });
      } catch (err) {
        logger.warn({ err }, 'web: live update not sent');
      }
    }
  };

  const onTask = (task: TaskDoc) => void fanOut(task.request_id, task, null);
  // A notification for someone: their inbox shows it under "Updates for you".
  const onNotification = (n: NotificationDoc) => {
    for (const stream of streams)
      if (stream.request === undefined && stream.user._id === n.to)
        stream.send('change', { request: n.request_id ?? null, task: null });
  };
  const onRequest = (request: RequestDoc) => void fanOut(request._id, null, request);
  let listening = false;
  const listen = () => {
    if (listening) return;
    listening = true;
    baton.events.on('task.opened', onTask);
    baton.events.on('task.closed', onTask);
    baton.events.on('task.reassigned', onTask);
    baton.events.on('task.responded', onTask);
    baton.events.on('request.created', onRequest);
    baton.events.on('request.changed', onRequest);
    baton.events.on('notification', onNotification);
  };
  const unlisten = () => {
    if (!listening) return;
    listening = false;
    baton.events.off('task.opened', onTask);
    baton.events.off('task.closed', onTask);
    baton.events.off('task.reassigned', onTask);
    baton.events.off('task.responded', onTask);
    baton.events.off('request.created', onRequest);
    baton.events.off('request.changed', onRequest);
    baton.events.off('notification', onNotification);
  };

  return {
    count: () => streams.size,
    register(app, kit) {
      app.get<{ Querystring: { request?: string } }>('/events', async (req, reply) => {
        const user = await kit.requireUser(req, reply);
        if (!user) return reply;
        const requestId = typeof req.query.request === 'string' ? req.query.request : undefined;
        if (requestId !== undefined) {
          try {
            await baton.requests.get(user, requestId);
          } catch (err) {
            return kit.fail(req, reply, user, err);
          }
        }
        if ([...streams].filter((s) => s.user._id === user._id).length >= MAX_STREAMS_PER_USER)
          return reply.status(429).send({ error: 'baton.too_many_streams', message: 'Too many open pages.' });
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write('retry: 2000\n\n');
        const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
        heartbeat.unref();
        const stream: Stream = {
          user,
          request: requestId,
          send(event, data) {
            res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
          },
          end() {
            clearInterval(heartbeat);
            streams.delete(stream);
            if (streams.size === 0) unlisten();
            if (!res.writableEnded) res.end();
          },
        };
        streams.add(stream);
        listen();
        stream.send('ready', { request: requestId ?? null });
        req.raw.on('close', () => stream.end());
        res.on('error', () => stream.end());
      });
      // Streams never end by themselves: end them before the server waits for connections.
      app.addHook('preClose', async () => {
        for (const s of [...streams]) s.end();
      });
    },
  };
}
