/**
 * The Microsoft Teams surface as a Fastify plugin: `POST /api/messages` through botbuilder's
 * CloudAdapter (which validates every activity's JWT when MICROSOFT_APP_ID is set), a
 * dispatcher for the activities Baton handles, and the outbound delivery of task cards and
 * notifications. Nothing outside `adapters/teams/` imports botbuilder.
 */
import type { Activity, TurnContext } from 'botbuilder';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import { isBatonError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import type { Logger } from '../../src/logger.js';
import { type AdaptiveCardJson, loadCards } from '../cards/cards.js';
import { createWorkQueue } from '../slack/queue.js';
import { type BatonCloudAdapter, createTeamsAuth, teamsMode } from './auth.js';
import { exampleId, md, renderHelp, runCommand } from './commands.js';
import { ConnectorError, type ConnectorOptions, type OutgoingActivity, TeamsConnector } from './connector.js';
import { ADAPTIVE_CARD, type TeamsDeps } from './deps.js';
import { renderRequestForm, submitAddField, submitCreateApp, submitRequestForm } from './forms.js';
import { attachment, FALLBACK_VERB_KEY, fitCard, messageCard, VERB } from './render.js';
import { deliverOpenTasks, handleTaskAction, startTaskDelivery } from './tasks.js';
import { createTeamsUserDirectory, isPersonal } from './users.js';

/** How long a posted welcome counts as given (a reinstall within it brings none). */
const WELCOME_MS = 365 * 24 * 3600_000;

export { teamsMode } from './auth.js';

export interface TeamsPluginOptions {
  baton: Baton;
  config: Config;
  logger: Logger;
  /** Outbound token source (tests: a fixed token instead of Azure AD). */
  token?: (serviceUrl: string) => Promise<string | null>;
  /** Connector retry settings (tests: no real sleeping). */
  connector?: Partial<Omit<ConnectorOptions, 'token' | 'logger'>>;
  /** How long an invoke may take before Teams is answered with a "working on it" card (default 4000 ms). */
  invokeBudgetMs?: number;
  /** Called with the surface once it is built (tests and embedders). */
  onSurface?: (surface: TeamsSurface) => void;
}

export interface TeamsSurface {
  deps: TeamsDeps;
  adapter: BatonCloudAdapter;
  mode: 'jwt' | 'anonymous';
  /** Handles one HTTP request to /api/messages (status, body). */
  handle(req: { headers: Record<string, string | string[] | undefined>; body: unknown }): Promise<{
    status: number;
    body: unknown;
    headers: Record<string, string>;
  }>;
  /** Resolves when no work started after an answer is still running. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type InvokeValue = {
  action?: { type?: string; verb?: string; data?: Record<string, unknown> };
  trigger?: string;
};

export function createTeamsSurface(options: TeamsPluginOptions): TeamsSurface {
  const { baton, config } = options;
  const mode = teamsMode(config);
  if (!mode.on) throw new Error(`The Teams surface is off: ${mode.reason}.`);
  const logger = options.logger.child({ component: 'teams' });
  const auth = createTeamsAuth(config);
  const connector = new TeamsConnector({ ...options.connector, token: options.token ?? auth.token, logger });
  const inflight = new Set<Promise<unknown>>();
  let cards: TeamsDeps['cards'] = null;
  try {
    cards = loadCards(undefined, { logger });
  } catch (err) {
    logger.error({ error: (err as Error).message }, 'teams: cards not loaded; using the built-in layout');
  }
  const deps: TeamsDeps = {
    baton,
    config,
    logger,
    connector,
    users: createTeamsUserDirectory({ baton, connector, logger }),
    cards,
    queue: createWorkQueue({ concurrency: 8 }),
    publicUrl: config.BATON_PUBLIC_URL,
    track(work) {
      const p = work.catch((err: unknown) => logger.error({ err }, 'teams: background work failed'));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
  };
  const adapter = auth.adapter;
  adapter.onTurnError = async (_ctx, err) => {
    logger.error({ err }, 'teams: a turn failed');
  };
  const stopDelivery = startTaskDelivery(deps);
  const budgetMs = options.invokeBudgetMs ?? 4000;

  /** Where replies to an activity go: the thread in a channel, the chat otherwise. */
  const replier = (a: Partial<Activity>) => async (out: OutgoingActivity) => {
    const serviceUrl = a.serviceUrl ?? '';
    const conversationId = a.conversation?.id ?? '';
    if (!serviceUrl || !conversationId) throw new Error('activity without serviceUrl or conversation');
    const threaded = a.conversation?.conversationType === 'channel' && a.id;
    const activity = await deps.queue.call(() =>
      threaded
        ? connector.reply(serviceUrl, conversationId, a.id!, out)
        : connector.send(serviceUrl, conversationId, out),
    );
    return { serviceUrl, conversation: conversationId, activity };
  };

  /**
   * The welcome, once per person: marked done only once posted. One that could not be posted
   * is owed, and comes before the answer to the person's next message in their chat with Baton
   * (or at the next install).
   */
  async function welcome(a: Partial<Activity>, user: User): Promise<void> {
    const done = `teams:welcome:${user._id}`;
    const owed = `teams:welcome-owed:${user._id}`;
    if (!(await baton.deliveries.claimOnce(done, WELCOME_MS))) return;
    try {
      await replier(a)({
        type: 'message',
        text: `Hi ${md(user.name)}! ${renderHelp(user, await exampleId(deps, user))}`,
        textFormat: 'markdown',
      });
    } catch (err) {
      logger.warn(
        { user: user._id, error: (err as Error).message },
        'teams: welcome not posted; it comes with the next answer',
      );
      await baton.deliveries.releaseClaim(done).catch(() => undefined);
      await baton.deliveries.claimOnce(owed, WELCOME_MS).catch(() => false);
      return;
    }
    await baton.deliveries.releaseClaim(owed).catch(() => undefined);
  }

  /**
   * Baton added to a team (or a group chat): a short welcome in the channel it was added to,
   * saying how to use it there. Once per conversation, marked done only once posted.
   */
  async function welcomeTeam(a: Partial<Activity>): Promise<void> {
    const serviceUrl = a.serviceUrl ?? '';
    const conversationId = a.conversation?.id ?? '';
    const key = `teams:team-welcome:${conversationId}`.slice(0, 200);
    if (!(await baton.deliveries.claimOnce(key, WELCOME_MS))) return;
    const name = a.recipient?.name || 'Baton';
    try {
      await deps.queue.call(() =>
        connector.send(serviceUrl, conversationId, {
          type: 'message',
          text: [
            `Hi everyone! I'm ${md(name)}: I help you file requests and act on approvals without leaving Teams.`,
            `@mention me with **help** (**@${md(name)} help**) to see what you can do here.`,
            'Your own requests and tasks come to your personal chat with me (Apps → Baton).',
          ].join('\n\n'),
          textFormat: 'markdown',
        }),
      );
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'teams: welcome to a team not posted');
      await baton.deliveries.releaseClaim(key).catch(() => undefined);
    }
  }

  async function onMessage(a: Partial<Activity>): Promise<void> {
    const reply = replier(a);
    try {
      const legacy = legacyAction(a.value);
      if (legacy) {
        await onLegacySubmit(a, legacy);
        return;
      }
      const actor = await deps.users.fromActivity(a);
      if (isPersonal(a) && (await baton.deliveries.isClaimed(`teams:welcome-owed:${actor._id}`)))
        await welcome(a, actor);
      if (!a.text && a.value) {
        await reply({
          type: 'message',
          text: 'This card is from an older version of Baton: type **help** to start again.',
        });
        return;
      }
      await runCommand(deps, a, actor, reply);
    } catch (err) {
      logger.error({ err }, 'teams: message not handled');
      if (err instanceof ConnectorError) return; // the connector is what failed: no one to tell
      await reply({
        type: 'message',
        text: 'Something went wrong on our side; please try again in a moment.',
      }).catch(() => {});
    }
  }

  /**
   * A button pressed in a Teams client without Universal Actions: its Action.Submit fallback
   * arrives as a message with `value`. It runs exactly as the Action.Execute would have, and
   * since a message gets no card in answer, the card clicked is replaced with the result in
   * a personal chat (as the invoke's answer would be), or the result is posted under it in a
   * channel or group chat (where the card is everyone's).
   */
  async function onLegacySubmit(a: Partial<Activity>, action: InvokeValue['action']): Promise<void> {
    const card = await cardFor({ ...a, value: { action, trigger: 'manual' } });
    const serviceUrl = a.serviceUrl ?? '';
    const conversationId = a.conversation?.id ?? '';
    const out: OutgoingActivity = { type: 'message', attachments: [attachment(card)] };
    if (isPersonal(a) && a.replyToId) {
      try {
        await deps.queue.call(() => connector.update(serviceUrl, conversationId, a.replyToId!, out));
        return;
      } catch (err) {
        logger.warn({ error: (err as Error).message }, 'teams: clicked card not updated; answering below it');
      }
    }
    await replier(a)(out);
  }

  async function cardFor(a: Partial<Activity>): Promise<AdaptiveCardJson> {
    const value = (a.value ?? {}) as InvokeValue;
    const verb = value.action?.verb ?? '';
    const data = value.action?.data && typeof value.action.data === 'object' ? value.action.data : {};
    try {
      const actor = await deps.users.fromActivity(a);
      switch (verb) {
        case VERB.completeTask:
        case VERB.refreshTask:
          return await handleTaskAction(deps, actor, verb, data);
        case VERB.submitRequest:
          return await submitRequestForm(deps, a, actor, data);
        case VERB.openForm: {
          const app = await baton.apps.get(String(data.app ?? ''));
          return renderRequestForm(app);
        }
        case VERB.createApp:
          return await submitCreateApp(deps, actor, data, a);
        case VERB.addField:
          return await submitAddField(deps, actor, data, a);
        default:
          return messageCard(
            `This button (${verb || 'no verb'}) is not one of Baton's.`,
            undefined,
            'Attention',
          );
      }
    } catch (err) {
      if (isBatonError(err)) return messageCard(err.message, undefined, 'Attention');
      logger.error({ err, verb }, 'teams: card action failed');
      return messageCard(
        'Something went wrong on our side; please try again in a moment.',
        undefined,
        'Attention',
      );
    }
  }

  /** Answers inside Teams' budget: a slow action answers "working on it" and its card replaces that later. */
  async function onCardAction(a: Partial<Activity>): Promise<AdaptiveCardJson> {
    const work = cardFor(a);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), budgetMs);
    });
    const first = await Promise.race([work, late]);
    clearTimeout(timer);
    if (first) return first;
    const verb = (a.value as InvokeValue)?.action?.verb;
    logger.warn({ verb }, 'teams: card action slower than the invoke budget');
    // A refresh is one viewer's view: it must not replace the message everyone sees.
    if (verb === VERB.refreshTask) {
      deps.track(work);
      return messageCard('Loading this task…', 'It shows its latest state the next time you open it.');
    }
    deps.track(
      work.then(async (final) => {
        if (!a.replyToId || !a.serviceUrl || !a.conversation?.id) return;
        await deps.queue.call(() =>
          connector.update(a.serviceUrl!, a.conversation!.id, a.replyToId!, {
            type: 'message',
            attachments: [attachment(final)],
          }),
        );
      }),
    );
    return messageCard('Working on it…', 'This card updates when it is done.');
  }

  async function onTurn(ctx: TurnContext): Promise<void> {
    const a = ctx.activity;
    if (a.type === 'invoke') {
      if (a.name === 'adaptiveCard/action') {
        const card = await onCardAction(a);
        await ctx.sendActivity({
          type: 'invokeResponse',
          value: { status: 200, body: { statusCode: 200, type: ADAPTIVE_CARD, value: fitCard(card) } },
        });
      } else {
        await ctx.sendActivity({ type: 'invokeResponse', value: { status: 501 } });
      }
      return;
    }
    if (a.type === 'message') {
      // Teams redelivers a message it got no answer for: handle each activity id once.
      if (
        a.id &&
        !(await baton.deliveries.claimOnce(
          `teams:activity:${a.conversation?.id ?? ''}:${a.id}`.slice(0, 200),
        ))
      )
        return;
      deps.track(onMessage(a));
      return;
    }
    if (a.type === 'installationUpdate' || a.type === 'conversationUpdate') {
      const action = (a as { action?: string }).action;
      const botAdded = (a.membersAdded ?? []).some((m) => m.id === a.recipient?.id);
      // Teams tells an uninstall twice: installationUpdate `remove`, and a conversationUpdate
      // with the bot in membersRemoved (in either order). Neither may store the chat again.
      const botRemoved = (a.membersRemoved ?? []).some((m) => m.id === a.recipient?.id);
      if (!a.from?.id || a.from.id === a.recipient?.id) return;
      if (action === 'remove' || action === 'remove-upgrade' || botRemoved) {
        // Uninstalled from a personal scope: that chat is gone (a reinstall brings a new one).
        if (isPersonal(a)) deps.track(deps.users.forgetConversation(a));
        return;
      }
      deps.track(
        (async () => {
          const user = await deps.users.fromActivity(a);
          const personal = isPersonal(a);
          // A welcome once, when the bot arrives in someone's personal chat.
          if (!personal && botAdded) await welcomeTeam(a);
          if (personal && (action === 'add' || botAdded)) {
            await welcome(a, user);
            // Tasks assigned before Baton could reach this person arrive now.
            const posted = await deliverOpenTasks(deps, user);
            if (posted > 0)
              logger.info({ user: user._id, tasks: posted }, 'teams: posted open tasks after install');
          }
        })(),
      );
    }
  }

  return {
    deps,
    adapter,
    mode: mode.auth,
    async handle(req) {
      const body =
        req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : undefined;
      let turned = false;
      if (!body || typeof body.type !== 'string' || body.type === '')
        return badRequest('expected a Bot Framework activity (JSON with a type)');
      // Nothing can be answered or attributed without these: refuse before anything runs.
      const missing = missingParts(body);
      if (missing.length > 0) return badRequest(`the activity has no ${missing.join(', ')}`);
      // Not CloudAdapter.process, which prints each refused token's stack (see BatonCloudAdapter).
      const authorization = req.headers.authorization;
      let invoke: { status: number; body?: unknown } | undefined;
      try {
        invoke = await adapter.runActivity(
          typeof authorization === 'string' ? authorization : '',
          withDates(body) as unknown as Activity,
          async (ctx) => {
            turned = true;
            await onTurn(ctx);
          },
        );
      } catch (err) {
        if (turned) throw err;
        // Before the turn there is only authentication: a missing, expired or foreign token
        // (botbuilder's AuthenticationError), or one jsonwebtoken could not even read. Nothing ran.
        logger.warn(
          { reason: String((err as Error)?.message ?? err).slice(0, 300) },
          'teams: an activity without a valid token was refused',
        );
        return {
          status: 401,
          body: {
            error: 'teams.unauthorized',
            message: authorization
              ? "The activity's Bot Framework token was refused (expired, for another bot or service URL, or not signed by the Bot Framework)."
              : 'The activity has no Bot Framework token (Authorization: Bearer …).',
          },
          headers: {},
        };
      }
      return { status: invoke?.status ?? 200, body: invoke?.body, headers: {} };
    },
    async idle() {
      while (inflight.size > 0 || deps.queue.size > 0) {
        await Promise.allSettled([...inflight]);
        await deps.queue.idle();
      }
    },
    async stop() {
      stopDelivery();
      await Promise.allSettled([...inflight]);
    },
  };
}

/** The Action.Execute behind an Action.Submit fallback's `value` (see withSubmitFallbacks), if it is one. */
function legacyAction(value: unknown): InvokeValue['action'] | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { [FALLBACK_VERB_KEY]: verb, ...data } = value as Record<string, unknown>;
  if (typeof verb !== 'string' || verb === '') return undefined;
  return { type: 'Action.Execute', verb, data };
}

/** What CloudAdapter.process does to an activity before its turn: its times as Dates (the raw text kept). */
function withDates(body: Record<string, unknown>): Record<string, unknown> {
  const activity: Record<string, unknown> = { ...body };
  for (const [key, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['expiration', 'rawExpiration'],
    ['localTimestamp', 'rawLocalTimestamp'],
  ] as const) {
    const value = activity[key];
    if (typeof value === 'string') {
      activity[raw] = value;
      activity[key] = new Date(value);
    }
  }
  return activity;
}

/** A 400 in the server's error shape (nothing was processed). */
function badRequest(why: string): { status: number; body: unknown; headers: Record<string, string> } {
  return { status: 400, body: { error: 'baton.bad_request', message: `Bad Request: ${why}` }, headers: {} };
}

/** The parts every activity from a channel carries that Baton needs (serviceUrl, conversation, sender). */
function missingParts(body: Record<string, unknown>): string[] {
  const idOf = (x: unknown) =>
    x &&
    typeof x === 'object' &&
    typeof (x as { id?: unknown }).id === 'string' &&
    (x as { id: string }).id !== '';
  const missing: string[] = [];
  if (typeof body.serviceUrl !== 'string' || body.serviceUrl === '') missing.push('serviceUrl');
  if (!idOf(body.conversation)) missing.push('conversation.id');
  if (!idOf(body.from)) missing.push('from.id');
  return missing;
}

/**
 * `POST /api/messages`. Registered in its own scope; Teams sends JSON, parsed by Fastify's
 * default parser (CloudAdapter wants the parsed body).
 */
export const teamsPlugin: FastifyPluginAsync<TeamsPluginOptions> = async (fastify, options) => {
  const surface = createTeamsSurface(options);
  options.onSurface?.(surface);
  fastify.post('/api/messages', async (req, reply) => {
    const res = await surface.handle({ headers: req.headers, body: req.body });
    reply.code(res.status);
    if (res.body === undefined || res.body === null) return reply.send();
    if (typeof res.body === 'string') return reply.type('text/plain; charset=utf-8').send(res.body);
    return reply.type('application/json; charset=utf-8').send(res.body);
  });
  fastify.addHook('onClose', async () => {
    await surface.stop();
  });
};
