import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { KnownBlock, SectionBlock } from '@slack/web-api';
import { isBatonError } from '../../src/core/errors.js';
import type { RequestDoc, TaskDoc, User } from '../../src/core/types.js';
import { isAdmin } from '../../src/core/users.js';
import { truncate } from './blockkit.js';
import { renderRequest } from './commands.js';
import type { SlackDeps } from './deps.js';
import { slackDate, slackQueue, taskButtons } from './tasks.js';

/** How long changes for one viewer are gathered before their Home tab is published again. */
const DEBOUNCE_MS = 300;
/** Slack refuses views with more than 100 blocks. */
const MAX_BLOCKS = 100;
/** Open tasks on one page of the Home tab (each is two blocks: its line and its buttons). */
export const HOME_PAGE_SIZE = 15;
/** Action id of the Home tab's "Previous" and "Next" buttons (value: the page to show, from 0). */
export const HOME_PAGE_ACTION = 'baton_home_page';
/** Action id of the "Details" button of a task's or a request's line (value: the request id). */
export const HOME_REQUEST_ACTION = 'baton_home_request';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text, emoji: true } };
}

/** Slack refuses a view whose section text is longer than 3000 characters (app names and stages have no limit). */
function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } };
}

/** A line about one request, with a button that opens it (fields, stage, open tasks, history). */
function requestSection(text: string, requestId: string): KnownBlock {
  return {
    ...section(text),
    accessory: {
      type: 'button',
      action_id: HOME_REQUEST_ACTION,
      text: { type: 'plain_text', text: 'Details' },
      value: requestId,
    },
  };
}

/** A name or stage inside a line that goes on (a date after it must not be cut off). */
function short(text: string): string {
  return truncate(esc(text), 300);
}

function note(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

/** What a Home tab shows beyond the viewer's data: which page of their tasks, and a line on top. */
export interface HomeOptions {
  /** The page of open tasks (from 0); past the last one, the last one is shown. */
  page?: number;
  /** A line on top (mrkdwn): what became of the viewer's last click on the tab. */
  note?: string;
}

/** The Home tab of one viewer: their open tasks (actionable, by pages), their recent requests, and for admins apps and recipes. */
export async function renderHome(
  deps: SlackDeps,
  viewer: User,
  options: HomeOptions = {},
): Promise<KnownBlock[]> {
  const { baton } = deps;
  const appName = new Map<string, string>();
  const nameOf = async (key: string) => {
    if (!appName.has(key)) appName.set(key, (await baton.apps.find(key))?.name ?? key);
    return appName.get(key)!;
  };

  const blocks: KnownBlock[] = [];
  if (options.note) blocks.push(note(truncate(options.note, 3000)));
  const total = await baton.tasks.countOpenFor(viewer);
  const pages = Math.max(1, Math.ceil(total / HOME_PAGE_SIZE));
  // A page emptied by tasks decided since (or a stale button): the last page there is.
  const page = Math.min(Math.max(0, Math.floor(options.page ?? 0)), pages - 1);
  const open = await baton.tasks.listOpenFor(viewer, { limit: (page + 1) * HOME_PAGE_SIZE });
  const tasks = open.slice(page * HOME_PAGE_SIZE);
  blocks.push(header(`Your open tasks (${total})`));
  if (tasks.length === 0) blocks.push(note('Nothing is waiting for you.'));
  for (const task of tasks) {
    const request = await baton.requests.load(task.request_id);
    blocks.push(requestSection(await taskLine(task, request, nameOf), task.request_id));
    blocks.push(...(await taskButtons(deps, task, viewer)));
  }
  if (pages > 1) {
    const first = page * HOME_PAGE_SIZE + 1;
    blocks.push(note(`Tasks ${first}–${first + tasks.length - 1} of ${total}, oldest first.`));
    const nav = (text: string, to: number) => ({
      type: 'button' as const,
      action_id: `${HOME_PAGE_ACTION}:${to}`,
      text: { type: 'plain_text' as const, text, emoji: true },
      value: String(to),
    });
    blocks.push({
      type: 'actions',
      block_id: 'baton_home_pages',
      elements: [
        ...(page > 0 ? [nav('← Previous', page - 1)] : []),
        ...(page < pages - 1 ? [nav('Next →', page + 1)] : []),
      ],
    });
  }

  blocks.push({ type: 'divider' });
  const requests = await baton.requests.listMine(viewer, { limit: 10 });
  blocks.push(header('Your recent requests'));
  if (requests.length === 0) blocks.push(note('You have not filed any requests yet.'));
  for (const r of requests) {
    blocks.push(
      requestSection(
        `*${esc(r._id)}* · ${short(await nameOf(r.app))} — stage *${short(r.stage)}*\nFiled ${slackDate(r.created_at)}`,
        r._id,
      ),
    );
  }

  if (isAdmin(viewer)) {
    blocks.push({ type: 'divider' });
    const apps = await baton.apps.list();
    blocks.push(header(`Apps (${apps.length})`));
    if (apps.length === 0) blocks.push(note('No apps are installed yet.'));
    for (const a of apps.slice(0, 15)) {
      const def = a.definition;
      blocks.push(
        section(
          `*${esc(def.name)}* (\`${esc(a._id)}\`) — ${def.fields.length} field${def.fields.length === 1 ? '' : 's'}, stages: ${esc(def.stages.join(' → '))}`,
        ),
      );
    }
    if (apps.length > 15)
      blocks.push(note(`And ${apps.length - 15} more: \`/baton admin apps list\` lists them all.`));
    const recipes = await baton.recipes.list(viewer);
    const failed = await baton.recipes.listJobs(viewer, { status: 'failed', limit: 500 });
    const failing = new Map<string, number>();
    for (const job of failed) failing.set(job.recipe, (failing.get(job.recipe) ?? 0) + 1);
    blocks.push(header(`Recipes (${recipes.length})`));
    if (recipes.length === 0) blocks.push(note('No recipes are installed yet.'));
    const icon = { running: ':large_green_circle:', stopped: ':white_circle:', invalid: ':red_circle:' };
    for (const r of recipes.slice(0, 25)) {
      const problems = r.problems.filter((p) => p.severity === 'error').length;
      // Warnings too: a group it assigns to that does not exist fails its first job there.
      const warnings = r.problems.length - problems;
      const failures = failing.get(r._id) ?? 0;
      const extra = [
        problems > 0 ? `${problems} problem${problems === 1 ? '' : 's'}` : '',
        warnings > 0 ? `:warning: ${warnings} warning${warnings === 1 ? '' : 's'}` : '',
        failures > 0 ? `${failures} failing job${failures === 1 ? '' : 's'}` : '',
      ]
        .filter((x) => x !== '')
        .join(', ');
      blocks.push(section(`${icon[r.state]} *${esc(r.name)}* — ${r.state}${extra ? ` · ${extra}` : ''}`));
    }
    if (recipes.length > 25)
      blocks.push(note(`And ${recipes.length - 25} more: \`/baton admin recipes list\` lists them all.`));
  }
  if (blocks.length > MAX_BLOCKS) {
    blocks.length = MAX_BLOCKS - 1;
    blocks.push(note('More is waiting than fits here: use `/baton tasks` and `/baton requests`.'));
  }
  return blocks;
}

async function taskLine(
  task: TaskDoc,
  request: RequestDoc | null,
  nameOf: (key: string) => Promise<string>,
): Promise<string> {
  // Titles are rendered templates of any length: one too long would make Slack refuse the whole tab.
  const parts = [`*${truncate(esc(task.title), 2000)}*`];
  const where = [`${esc(task.request_id)}`, short(await nameOf(task.app))];
  if (request) where.push(`stage ${short(request.stage)}`);
  if (task.assignee.type === 'group') where.push(`for group ${esc(task.assignee.name)}`);
  if (task.expires_at) where.push(`expires ${slackDate(task.expires_at)}`);
  parts.push(where.join(' · '));
  return parts.join('\n');
}

/** Publishes the viewer's Home tab. */
export async function publishHome(
  deps: SlackDeps,
  viewer: User,
  slackUserId: string,
  options: HomeOptions = {},
): Promise<void> {
  const blocks = await renderHome(deps, viewer, options);
  await slackQueue(deps).call(() =>
    deps.client.views.publish({
      user_id: slackUserId,
      view: { type: 'home', callback_id: 'baton:home', blocks },
    }),
  );
}

/** The Home tabs of the people who have one open, as the task buttons on them need it. */
export interface HomeTab {
  /**
   * Publishes the person's Home tab now, with `note` on top (what became of their click on it:
   * a refusal, "Approved by you"); the note stays on the tab until they open it again or
   * click again. From then on the tab is refreshed whenever what it shows changes.
   */
  show(viewer: User, slackUserId: string, note?: string): Promise<void>;
}

/**
 * Publishes the Home tab when a person opens it, and again (debounced per person) when
 * something they see there changes: a task opened, answered, closed or reassigned for them,
 * one of their requests changed. Only people who opened their Home tab or clicked on it since
 * this process started are refreshed; everyone else gets a fresh tab the next time they open it.
 */
export function registerHome(app: App, deps: SlackDeps): HomeTab {
  const { baton, logger } = deps;
  /** Baton user id → their Slack id, the page of tasks they are on, and the note on top. */
  const viewers = new Map<string, { slack: string; page: number; note?: string | undefined }>();
  const admins = new Set<string>(); // viewers whose tab shows apps, recipes and failing jobs
  const timers = new Map<string, NodeJS.Timeout>();

  /** Remembers who looks at their tab, and publishes it now. */
  const show = async (viewer: User, slackId: string, state: { page: number; note?: string | undefined }) => {
    viewers.set(viewer._id, { slack: slackId, ...state });
    if (isAdmin(viewer)) admins.add(viewer._id);
    else admins.delete(viewer._id);
    clearTimeout(timers.get(viewer._id));
    timers.delete(viewer._id);
    await publishHome(deps, viewer, slackId, state);
  };
  const refresh = async (userId: string) => {
    const state = viewers.get(userId);
    if (!state) return;
    const viewer = await baton.users.find(userId);
    if (viewer) await publishHome(deps, viewer, state.slack, state);
  };
  const schedule = (userId: string) => {
    if (!viewers.has(userId)) return;
    clearTimeout(timers.get(userId));
    const timer = setTimeout(() => {
      timers.delete(userId);
      refresh(userId).catch((err: unknown) =>
        logger.warn({ user: userId, error: (err as Error).message }, 'slack: Home tab not refreshed'),
      );
    }, DEBOUNCE_MS);
    timer.unref();
    timers.set(userId, timer);
  };
  const forTask = async (task: TaskDoc) => {
    const people = new Set<string>();
    const keys = [task.assignee_key, task.delegated_from].filter((k): k is string => typeof k === 'string');
    for (const key of keys) {
      if (key.startsWith('user:')) people.add(key.slice('user:'.length));
      else if (key.startsWith('group:')) {
        const group = await baton.groups.find(key.slice('group:'.length));
        for (const m of group?.members ?? []) people.add(m);
      }
    }
    if (task.completed_by) people.add(task.completed_by);
    for (const id of people) schedule(id);
  };
  const onTask = (task: TaskDoc) => {
    forTask(task).catch((err: unknown) =>
      logger.warn({ task: task._id, error: (err as Error).message }, 'slack: Home refresh failed'),
    );
  };
  const onRequest = (request: RequestDoc) => schedule(request.requester);
  baton.events.on('task.opened', onTask);
  baton.events.on('task.closed', onTask);
  baton.events.on('task.reassigned', onTask);
  // A member's answer to a task with a quorum takes it off their list (it waits on the others).
  baton.events.on('task.responded', onTask);
  baton.events.on('request.changed', onRequest);
  baton.events.on('request.created', onRequest);
  // Joining or leaving a group changes whose Home tab lists the group's tasks.
  baton.events.on('group.changed', ({ added, removed }) => {
    for (const id of [added, removed]) if (id) schedule(id);
  });
  // Admins' tabs list apps and recipes with their failing jobs: refresh them when those change.
  const onCatalog = () => {
    for (const id of admins) schedule(id);
  };
  baton.events.on('catalog.changed', onCatalog);
  baton.events.on('job.changed', (job) => {
    if (job.status === 'failed' || (job.reruns ?? 0) > 0) onCatalog();
  });

  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== undefined && event.tab !== 'home') return;
    try {
      // Opened anew: the first page, without the note of an earlier click.
      await show(await deps.users.toBaton(event.user), event.user, { page: 0 });
    } catch (err) {
      logger.warn({ slack_user: event.user, error: (err as Error).message }, 'slack: Home tab not published');
    }
  });

  // "Previous" and "Next" under the open tasks.
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: new RegExp(`^${HOME_PAGE_ACTION}`) },
    async ({ ack, body, action }) => {
      await ack();
      try {
        const page = Number.parseInt(action.value ?? '0', 10);
        await show(await deps.users.toBaton(body.user.id), body.user.id, {
          page: Number.isFinite(page) ? page : 0,
        });
      } catch (err) {
        logger.warn(
          { slack_user: body.user.id, error: (err as Error).message },
          'slack: Home tab not published',
        );
      }
    },
  );

  // "Details" of a task's or a request's line: the request in a modal, as `/baton show` has it.
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: HOME_REQUEST_ACTION },
    async ({ ack, body, action }) => {
      await ack();
      const id = action.value ?? '';
      try {
        const viewer = await deps.users.toBaton(body.user.id);
        try {
          // The core decides who may see it (the requester, who acts on it, admins).
          const request = await baton.requests.get(viewer, id);
          const blocks = await renderRequest(deps, request);
          await slackQueue(deps).call(() =>
            deps.client.views.open({
              trigger_id: body.trigger_id,
              view: {
                type: 'modal',
                title: { type: 'plain_text', text: truncate(request._id, 24) },
                close: { type: 'plain_text', text: 'Close' },
                blocks,
              },
            }),
          );
        } catch (err) {
          if (!isBatonError(err)) throw err;
          await show(viewer, body.user.id, {
            page: viewers.get(viewer._id)?.page ?? 0,
            note: `:no_entry: ${esc(err.message)}`,
          });
        }
      } catch (err) {
        logger.warn(
          { slack_user: body.user.id, request: id, error: (err as Error).message },
          'slack: request not shown',
        );
      }
    },
  );

  return {
    show: (viewer, slackId, note) =>
      show(viewer, slackId, { page: viewers.get(viewer._id)?.page ?? 0, note }),
  };
}
