/**
 * Commands by message to the bot (a personal chat, or an @mention in a channel or group
 * chat): the same verbs, arguments and authorization as Slack's `/baton` (the shared
 * grammar in `adapters/commands/grammar.ts`; every action is a core call with the Baton user
 * as actor), answered with Teams markdown or Adaptive Cards.
 */
import type { Activity } from 'botbuilder';
import type { Baton } from '../../src/core/baton.js';
import { isBatonError, ValidationError } from '../../src/core/errors.js';
import { historyExpiry } from '../../src/core/tasks.js';
import type { JobDoc, Role, User } from '../../src/core/types.js';
import { normalizeEmail, requireAdmin, requireOperator } from '../../src/core/users.js';
import type { AdaptiveCardJson } from '../cards/cards.js';
import {
  exampleAppKey,
  exampleGroup,
  exampleJob,
  exampleRecipe,
  exampleRequestId,
} from '../commands/examples.js';
import {
  afterFirst,
  allowed,
  COMMANDS,
  type CommandSpec,
  commandsUnder,
  firstAndRest,
  levelOf,
  parseCommand,
  peopleTokens,
  personThenRole,
  requestIdArg,
  unquote,
  withdrawnText,
} from '../commands/grammar.js';
import { createGroup, deleteGroup, deletionNotes } from '../commands/groups.js';
import { conditionText } from '../commands/jobs.js';
import { missingGroupNotes, problemsToShow, problemText } from '../commands/problems.js';
import { lowerFirst, triggerText } from '../commands/recipes.js';
import { exampleStage, moveRequest } from '../commands/stages.js';
import { ConnectorError, type OutgoingActivity } from './connector.js';
import type { TeamsDeps } from './deps.js';
import { renderAddFieldForm, renderAppPicker, renderCreateAppForm, renderRequestForm } from './forms.js';
import {
  attachment,
  cardDate,
  forTeams,
  inertText,
  renderRequestCard,
  summaryText,
  textCard,
} from './render.js';
import { listedCopyPosted, personalConversation, taskCardActivity } from './tasks.js';
import { isPersonal } from './users.js';

/** A mention of someone in the message, replaced in the text by a token the parser keeps whole. */
interface Mention {
  token: string;
  account: { id: string; name?: string; aadObjectId?: string };
}

/** Text with the bot's mention removed and other mentions replaced by `@mention0`, `@mention1`… */
export function commandText(activity: Partial<Activity>): { text: string; mentions: Mention[] } {
  // A client or proxy may send digits as a number: read it as typed; anything else that is
  // not text (an object, a list) as nothing typed.
  const raw: unknown = activity.text;
  let text =
    typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
  const mentions: Mention[] = [];
  for (const entity of Array.isArray(activity.entities) ? activity.entities : []) {
    if (!entity || typeof entity !== 'object') continue;
    if (entity.type !== 'mention') continue;
    const e = entity as { mentioned?: { id?: string; name?: string; aadObjectId?: string }; text?: string };
    const mentioned = e.mentioned;
    if (!mentioned?.id || typeof e.text !== 'string') continue;
    if (mentioned.id === activity.recipient?.id) {
      text = text.split(e.text).join(' ');
      continue;
    }
    // Teams sends a mention of "Megan Bowen" as `<at>Megan</at> <at>Bowen</at>`, one entity per
    // word with the same id: every part is the same person's token (merged below).
    // Entities come in the order of the text: each replaces its own occurrence (two people
    // may share a first name).
    const replaceOnce = (token: string) => {
      const at = text.indexOf(e.text!);
      if (at !== -1) text = `${text.slice(0, at)} ${token} ${text.slice(at + e.text!.length)}`;
    };
    const known = mentions.find((m) => m.account.id === mentioned.id);
    if (known) {
      replaceOnce(known.token);
      if (mentioned.name) known.account.name = [known.account.name, mentioned.name].filter(Boolean).join(' ');
      continue;
    }
    const token = `@mention${mentions.length}`;
    replaceOnce(token);
    mentions.push({
      token,
      account: {
        id: mentioned.id,
        ...(mentioned.name ? { name: mentioned.name } : {}),
        ...(mentioned.aadObjectId ? { aadObjectId: mentioned.aadObjectId } : {}),
      },
    });
  }
  text = text
    .replace(/<at>[^<]*<\/at>/g, ' ') // a mention without an entity (the bot's own, in old clients)
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});/gi, decodeEntity)
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/(@mention\d+)(?: \1\b)+/g, '$1')
    .trim();
  return { text, mentions };
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * One HTML entity of a message's text (Teams sends the text as HTML: `&nbsp;`, `&quot;`,
 * `&#39;`…), in one pass so `&amp;lt;` stays the `&lt;` that was typed; unknown ones are kept.
 */
function decodeEntity(entity: string, name: string): string {
  if (name.startsWith('#')) {
    const code =
      name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  }
  return ENTITIES[name.toLowerCase()] ?? entity;
}

/** Escapes markdown in text coming from people (names, titles, values). */
export function md(text: string): string {
  return inertText(text.replace(/([\\`*_{}[\]<>#|])/g, '\\$1'));
}

/**
 * Command placeholders (`show <ID>`) in Baton's own markdown: Teams reads `<ID>` as an HTML tag
 * and drops it ("show " alone), so the brackets are escaped and shown as typed.
 */
export function placeholders(text: string): string {
  return text.replace(/[<>]/g, '\\$&');
}

/** A recipe's problems as list items under it: errors, then warnings (⚠️), three at most. */
function problemLines(
  baton: Baton,
  problems: { file: string; line: number; message: string; severity: string }[],
): string {
  return problemsToShow(problems)
    .map((p) => `\n  - ${p.severity === 'error' ? '' : '⚠️ '}${md(problemText(baton, p))}`)
    .join('');
}

/** Where a reply was posted (`activity` is empty when the connector's answer named none). */
export interface Posted {
  serviceUrl: string;
  conversation: string;
  activity: string;
}

type Reply = (activity: OutgoingActivity) => Promise<Posted | undefined>;

interface Ctx {
  deps: TeamsDeps;
  actor: User;
  activity: Partial<Activity>;
  mentions: Mention[];
  reply: Reply;
}

const say = async (ctx: Ctx, text: string): Promise<void> => {
  await ctx.reply({ type: 'message', text: forTeams(text), textFormat: 'markdown' });
};
const card = async (ctx: Ctx, c: AdaptiveCardJson, summary?: string): Promise<void> => {
  await ctx.reply({
    type: 'message',
    attachments: [attachment(c)],
    ...(summary ? { summary: summaryText(summary) } : {}),
  });
};

function need(value: string | undefined, what: string, example: string): string {
  if (!value) throw new ValidationError(`Which ${what}? For example: ${example}`);
  return value;
}

/** As `need`, with an example made (only when it is missing) from what this Baton has. */
async function needOne(
  value: string | undefined,
  what: string,
  example: () => Promise<string>,
): Promise<string> {
  return value || need(value, what, await example());
}

/** A request id for a usage example, as this person's ids look (see `exampleRequestId`). */
export function exampleId(deps: TeamsDeps, actor: User): Promise<string> {
  return exampleRequestId(deps.baton, actor);
}

/**
 * Free text of a command (a cancel reason) as people read it: the `@mention0` tokens that stand
 * for people @mentioned in the message become their names.
 */
async function readable(ctx: Ctx, text: string): Promise<string> {
  let out = text;
  for (const m of ctx.mentions) {
    const known = m.account.aadObjectId
      ? await ctx.deps.baton.users.lookup(`teams:${m.account.aadObjectId}`)
      : null;
    const name = known?.name ?? m.account.name ?? 'someone';
    out = out.replace(new RegExp(`${m.token}\\b`, 'g'), () => name);
  }
  return out;
}

/** A person named in a command: an @mention, an email, or a Baton id. */
async function person(ctx: Ctx, token: string | undefined): Promise<User> {
  if (!token) throw new ValidationError('Mention the person, e.g. @Alice.');
  const mention = ctx.mentions.find((m) => m.token === token);
  if (mention) return ctx.deps.users.fromAccount(ctx.activity, mention.account);
  const user = await ctx.deps.baton.users.lookup(token);
  if (!user && normalizeEmail(token))
    throw new ValidationError(
      `I don't know who ${token} is: Teams doesn't let me look people up by email, so @mention them, or have them open Baton in Teams (or write to it) once.`,
    );
  if (!user) throw new ValidationError(`I don't know who ${token} is: @mention them, or give their email.`);
  return user;
}

/** One command in a list: its usage and what it does. */
function helpLine(c: CommandSpec): string {
  return `- **${placeholders([...c.words, c.args].filter((x) => x !== '').join(' '))}**: ${placeholders(c.summary)}`;
}

/** `help`: the verbs this person can use; `example`, a request id as theirs look (see `exampleId`). */
export function renderHelp(user: User, example = 'PTO-42'): string {
  const level = levelOf(user);
  const mine = COMMANDS.filter((c) => allowed(c.level, level)).map((c) => ({
    ...c,
    summary: c.summary.replaceAll('PTO-42', example),
  }));
  const basic = mine.filter((c) => c.words[0] !== 'admin').map(helpLine);
  const admin = mine.filter((c) => c.words[0] === 'admin').map(helpLine);
  return [
    '**What you can ask Baton** (type it here, or @mention Baton in a channel)',
    ...basic,
    ...(admin.length > 0 ? ['', `**${level === 'admin' ? 'Admin' : 'Operator'} commands**`, ...admin] : []),
  ].join('\n');
}

function jobLine(j: JobDoc): string {
  // Where a job is (or stopped); a completed job is at no step any more.
  const step = j.current_step && j.status !== 'completed' ? `, at ${md(j.current_step)}` : '';
  const err = j.error ? `: _${md(j.error.message.slice(0, 200))}_` : '';
  const stopped = j.stop_reason ? `, stopped: _${md(j.stop_reason.slice(0, 200))}_` : '';
  return `- \`${j._id}\` ${md(j.recipe)}, **${j.status}**, ${j.request_id}${step}${err}${stopped}`;
}

type Handler = (ctx: Ctx, args: string[], rest: string) => Promise<void>;

// A command someone may not use is refused first (the core refuses it again), before they are
// asked for what is missing: nobody is sent to look up names for a command they cannot run.
const handlers: Record<string, Handler> = {
  help: async (ctx) => say(ctx, renderHelp(ctx.actor, await exampleId(ctx.deps, ctx.actor))),

  new: async (ctx, _args, rest) => {
    // An app's key or its name as people see it ("new time off").
    const named = unquote(rest.trim());
    if (named) {
      const app = await ctx.deps.baton.apps.resolve(named);
      await card(ctx, renderRequestForm(app), `New request: ${app.name}`);
      return;
    }
    const apps = await ctx.deps.baton.apps.list();
    if (apps.length === 0) {
      await say(ctx, 'No apps are installed yet. An admin can add one with **admin apps create**.');
      return;
    }
    await card(
      ctx,
      renderAppPicker(
        apps.map((a) => ({ key: a._id, name: a.definition.name, description: a.definition.description })),
      ),
      'New request',
    );
  },

  requests: async (ctx) => {
    const list = await ctx.deps.baton.requests.listMine(ctx.actor, { limit: 10 });
    if (list.length === 0) {
      await say(ctx, 'You have no requests yet. File one with **new**.');
      return;
    }
    // A card: in its TextBlock, when each was filed reads in the reader's zone (`cardDate`).
    const lines = await Promise.all(
      list.map(async (r) => {
        const app = await ctx.deps.baton.apps.find(r.app);
        return `- **${r._id}** ${app?.name ?? r.app}, ${r.stage}, filed ${cardDate(r.created_at)}`;
      }),
    );
    await card(
      ctx,
      textCard('Your recent requests', [lines.join('\n'), `Type **show ${list[0]!._id}** for one.`]),
      'Your recent requests',
    );
  },

  tasks: async (ctx) => {
    const list = await ctx.deps.baton.tasks.listOpenFor(ctx.actor, { limit: 10 });
    if (list.length === 0) {
      await say(ctx, 'You have no open tasks. 🎉');
      return;
    }
    await say(ctx, `**Your open tasks** (${list.length}${list.length === 10 ? '+' : ''})`);
    // Each task as its card with its buttons (the same as in the task's own message), recorded
    // as a copy of it, so it shows the task closed, expired or reassigned as its own message does.
    for (const t of list) {
      const posted = await ctx.reply(await taskCardActivity(ctx.deps, t, ctx.actor));
      if (posted?.activity)
        await listedCopyPosted(ctx.deps, t._id, ctx.actor._id, posted).catch((err: unknown) =>
          // The card is shown: only its later updates are lost.
          ctx.deps.logger.warn({ task: t._id, err }, 'teams: listed task card not recorded'),
        );
    }
  },

  show: async (ctx, args) => {
    const id = await needOne(
      requestIdArg(args[0]),
      'request',
      async () => `show ${await exampleRequestId(ctx.deps.baton, ctx.actor)}`,
    );
    const request = await ctx.deps.baton.requests.get(ctx.actor, id);
    const view = await ctx.deps.baton.views.request(request);
    const tasks = (await ctx.deps.baton.tasks.listForRequest(request._id)).filter((t) => t.status === 'open');
    const openTasks = await Promise.all(
      tasks.map(
        async (t) => `${t.title}: waiting on ${await ctx.deps.baton.tasks.describeAssignee(t.assignee)}`,
      ),
    );
    // In the card's TextBlock, times (a task's expiry too) read in the reader's zone.
    const history = request.history.slice(-10).map((h) => {
      const expiry = historyExpiry(h);
      return `${cardDate(h.at)}: ${expiry ? `${expiry.before}, expires ${cardDate(expiry.at)}` : h.text}`;
    });
    await card(
      ctx,
      renderRequestCard(ctx.deps, view, { openTasks, history, historyTotal: request.history.length }),
      `${request._id}: ${request.stage}`,
    );
  },

  cancel: async (ctx, args, rest) => {
    const id = await needOne(
      requestIdArg(args[0]),
      'request',
      async () => `cancel ${await exampleRequestId(ctx.deps.baton, ctx.actor)} [reason]`,
    );
    const reason = await readable(ctx, afterFirst(rest));
    const request = await ctx.deps.baton.engine.cancelRequest(ctx.actor, id, reason || undefined);
    await say(
      ctx,
      `✅ ${request._id} is cancelled (stage **${md(request.stage)}**); ${withdrawnText(request.withdrawn_tasks)}.`,
    );
  },

  'admin apps list': async (ctx) => {
    requireOperator(ctx.actor, 'list apps with their fields');
    const apps = await ctx.deps.baton.apps.list();
    if (apps.length === 0) {
      await say(ctx, 'No apps yet. Create one with **admin apps create**.');
      return;
    }
    const lines = apps.map((a) => {
      const d = a.definition;
      return `- **${md(d.name)}** (\`${d.key}\`): stages ${md(d.stages.join(' → '))}; ${d.fields.length} field${d.fields.length === 1 ? '' : 's'}${d.fields.length ? `: ${d.fields.map((f) => `${f.key} (${f.type}${f.on_form === false ? ', set by recipes' : ''})`).join(', ')}` : ''}`;
    });
    await say(ctx, `**Apps**\n${lines.join('\n')}`);
  },

  'admin apps create': async (ctx, args, rest) => {
    if (args.length === 0) {
      requireAdmin(ctx.actor, 'create apps');
      await card(ctx, renderCreateAppForm(), 'New app');
      return;
    }
    const key = args[0]!.toLowerCase();
    // Without a name, the key as typed (KB2 stays KB2; its key is kb2).
    const name = afterFirst(rest) || args[0]!;
    const app = await ctx.deps.baton.apps.create(ctx.actor, {
      key,
      name,
      stages: ['Submitted', 'Approved', 'Rejected'],
      fields: [],
    });
    await say(
      ctx,
      `App **${md(app.name)}** (\`${app.key}\`) created with stages ${app.stages.join(', ')}. Add fields with **admin apps add field ${app.key}**.`,
    );
  },

  'admin apps add field': async (ctx, _args, rest) => {
    requireAdmin(ctx.actor, 'change apps');
    const named = await needOne(
      firstAndRest(rest).first,
      'app',
      async () => `admin apps add field ${await exampleAppKey(ctx.deps.baton)}`,
    );
    // Its key, its name (in quotes when it has spaces) or its id prefix, as for `new`.
    const app = await ctx.deps.baton.apps.resolve(named);
    await card(ctx, renderAddFieldForm(app), `New field for ${app.name}`);
  },

  'admin apps add stage': async (ctx, _args, rest) => {
    requireAdmin(ctx.actor, 'change apps');
    const { first, after } = firstAndRest(rest);
    const named = await needOne(
      first,
      'app',
      async () => `admin apps add stage ${await exampleAppKey(ctx.deps.baton)} Cancelled`,
    );
    // Its key, its name (in quotes when it has spaces) or its id prefix, as for `new`.
    const { key } = await ctx.deps.baton.apps.resolve(named);
    const stage = need(after, 'stage', `admin apps add stage ${key} Cancelled`);
    const app = await ctx.deps.baton.apps.addStage(ctx.actor, key, stage);
    await say(ctx, `**${md(app.name)}** stages: ${md(app.stages.join(' → '))}`);
  },

  'admin recipes list': async (ctx) => {
    const list = await ctx.deps.baton.recipes.list(ctx.actor);
    if (list.length === 0) {
      await say(ctx, 'No recipes installed.');
      return;
    }
    const icon = { running: '🟢', stopped: '⚪', invalid: '🔴' } as const;
    const lines = await Promise.all(
      list.map(async (r) => {
        // What starts it, in the portal's words: "when a Leave request is filed".
        const words = await triggerText(ctx.deps.baton, r);
        const trigger = words ? `, ${md(lowerFirst(words))}` : '';
        return `- ${icon[r.state]} **${md(r.name)}**: ${r.state}${trigger}${problemLines(ctx.deps.baton, r.problems)}`;
      }),
    );
    await say(ctx, `**Recipes**\n${lines.join('\n')}`);
  },

  'admin recipes start': async (ctx, args) => {
    requireOperator(ctx.actor, 'start recipes');
    const name = await needOne(
      args[0],
      'recipe',
      async () => `admin recipes start ${await exampleRecipe(ctx.deps.baton, ctx.actor, 'stopped')}`,
    );
    const before = await ctx.deps.baton.recipes.get(ctx.actor, name);
    const r = await ctx.deps.baton.recipes.start(ctx.actor, name);
    await say(
      ctx,
      before.state === 'running'
        ? `Recipe **${md(r.name)}** was already running.`
        : `Recipe **${md(r.name)}** is running.`,
    );
  },

  'admin recipes stop': async (ctx, args) => {
    requireOperator(ctx.actor, 'stop recipes');
    const name = await needOne(
      args[0],
      'recipe',
      async () => `admin recipes stop ${await exampleRecipe(ctx.deps.baton, ctx.actor, 'running')}`,
    );
    const before = await ctx.deps.baton.recipes.get(ctx.actor, name);
    const r = await ctx.deps.baton.recipes.stop(ctx.actor, name);
    if (before.state === 'stopped') {
      await say(ctx, `Recipe **${md(r.name)}** was already stopped.`);
      return;
    }
    // Stopping keeps new events from starting it; jobs under way (waiting on a task or a timer) carry on.
    let underway = 0;
    for (const status of ['running', 'waiting'] as const)
      underway += (await ctx.deps.baton.recipes.listJobs(ctx.actor, { status, recipe: r._id, limit: 500 }))
        .length;
    const jobs =
      underway === 0
        ? ''
        : ` ${underway === 1 ? '1 job' : `${underway}${underway === 500 ? '+' : ''} jobs`} already under way carr${underway === 1 ? 'ies' : 'y'} on (see **admin jobs list waiting**).`;
    await say(ctx, `Recipe **${md(r.name)}** is stopped: new events no longer start it.${jobs}`);
  },

  'admin recipes install': async (ctx, args) => {
    const pack = args[0];
    if (!pack) {
      requireAdmin(ctx.actor, 'install template packs');
      const packs = ctx.deps.baton.recipes.listPacks();
      await say(
        ctx,
        packs.length > 0
          ? `Template packs: ${packs.map((p) => `\`${p}\``).join(', ')}. Install one with **admin recipes install \\<pack\\>**.`
          : 'No template packs are available.',
      );
      return;
    }
    const report = await ctx.deps.baton.recipes.installPack(ctx.actor, pack);
    const errors = report.problems.filter((p) => p.severity === 'error');
    const problems = errors.length;
    // Say what went wrong: nothing else shows an app the pack could not install.
    const why = errors
      .slice(0, 3)
      .map((p) => `\n  - ${md(problemText(ctx.deps.baton, p))}`)
      .join('');
    // What to do before the first request: the groups its recipes assign to that do not exist yet.
    const missingGroups = (await missingGroupNotes(ctx.deps.baton, ctx.actor, report.recipes)).map(
      (note) => `\n  - ⚠️ ${md(note)}`,
    );
    await say(
      ctx,
      `Installed **${md(pack)}**: apps ${report.apps.join(', ') || 'none'}; recipes ${report.recipes.map((r) => `${r.name} (${r.state})`).join(', ') || 'none'}${problems ? `; ${problems} problem${problems === 1 ? '' : 's'}:${why}` : '.'}${missingGroups.join('')}`,
    );
  },

  'admin jobs list': async (ctx, args) => {
    requireOperator(ctx.actor, 'see jobs');
    const status = args[0]?.toLowerCase() as JobDoc['status'] | undefined;
    if (status && !['running', 'waiting', 'completed', 'failed', 'stopped'].includes(status)) {
      throw new ValidationError(
        `Unknown status ${status}: use running, waiting, completed, failed or stopped.`,
      );
    }
    const jobs = await ctx.deps.baton.recipes.listJobs(ctx.actor, {
      limit: 20,
      ...(status ? { status } : {}),
    });
    await say(
      ctx,
      jobs.length === 0
        ? `No ${status ? `${status} ` : ''}jobs.`
        : `**Jobs${status ? ` (${status})` : ''}**\n${jobs.map(jobLine).join('\n')}`,
    );
  },

  'admin jobs show': async (ctx, args) => {
    requireOperator(ctx.actor, 'see jobs');
    const job = await ctx.deps.baton.recipes.getJob(
      ctx.actor,
      await needOne(
        args[0],
        'job',
        async () => `admin jobs show ${await exampleJob(ctx.deps.baton, ctx.actor)}`,
      ),
    );
    const log = job.log
      .slice(-10)
      .map(
        (l) => `- ${l.step} (${l.action}): ${conditionText(l) ?? l.status}${l.error ? `: ${l.error}` : ''}`,
      )
      .join('\n');
    // A card: in its TextBlock, when the job started reads in the reader's zone (`cardDate`).
    const paragraphs = [
      `${job.recipe} on ${job.request_id}, **${job.status}**`,
      job.current_step ? `At: ${job.current_step}` : '',
      job.error ? `Error at ${job.error.step}: ${job.error.message}` : '',
      job.stop_reason ? `Stopped by a stop step: ${job.stop_reason}` : '',
      `Started ${cardDate(job.started_at)}${job.reruns ? `, rerun ${job.reruns}×` : ''}`,
      log ? `**Steps**\n${log}` : '',
    ].filter((x) => x !== '');
    await card(ctx, textCard(`Job ${job._id}`, paragraphs), `Job ${job._id}: ${job.status}`);
  },

  'admin jobs rerun': async (ctx, args) => {
    requireOperator(ctx.actor, 'rerun jobs');
    const job = await ctx.deps.baton.engine.rerun(
      ctx.actor,
      await needOne(
        args[0],
        'job',
        async () => `admin jobs rerun ${await exampleJob(ctx.deps.baton, ctx.actor, 'failed')}`,
      ),
    );
    await say(
      ctx,
      `Job \`${job._id}\` rerun: now **${job.status}**${job.error ? ` (${md(job.error.message)})` : ''}.`,
    );
  },

  'admin requests move': async (ctx, _args, rest) => {
    requireAdmin(ctx.actor, 'change the stage of a request by hand');
    const { first, after } = firstAndRest(rest);
    const id = await needOne(
      requestIdArg(first || undefined),
      'request',
      async () => `admin requests move ${await exampleRequestId(ctx.deps.baton, ctx.actor)}`,
    );
    const stage = await needOne(
      after,
      'stage',
      async () =>
        `admin requests move ${id} ${(await exampleStage(ctx.deps.baton, ctx.actor, id)) ?? 'Approved'}`,
    );
    const { request, from, moved } = await moveRequest(ctx.deps.baton, ctx.actor, id, stage);
    await say(
      ctx,
      moved
        ? `${request._id} moved from **${md(from)}** to **${md(request.stage)}**.`
        : `${request._id} is already in **${md(request.stage)}**.`,
    );
  },

  'admin groups list': async (ctx) => {
    requireAdmin(ctx.actor, 'list groups and their members');
    const groups = await ctx.deps.baton.groups.list();
    if (groups.length === 0) {
      await say(ctx, 'No groups yet. Create one with **admin groups create \\<name\\>**.');
      return;
    }
    const lines = await Promise.all(
      groups.map(async (g) => {
        const names = await Promise.all(
          g.members.slice(0, 20).map((m) => ctx.deps.baton.users.displayName(m)),
        );
        return `- **${g.name}**${g.description ? `: ${md(g.description)}` : ''}; ${g.members.length} member${g.members.length === 1 ? '' : 's'}${names.length ? `: ${md(names.join(', '))}` : ''}`;
      }),
    );
    await say(ctx, `**Groups**\n${lines.join('\n')}`);
  },

  'admin groups create': async (ctx, args, rest) => {
    requireAdmin(ctx.actor, 'create groups');
    const typed = need(args[0], 'group name', 'admin groups create finance');
    const description = afterFirst(rest);
    const g = await createGroup(ctx.deps.baton, ctx.actor, typed, description || undefined);
    await say(
      ctx,
      `Group **${g.name}** created${g.lowered ? ` (${md(g.lowered)})` : ''}. Add people with **admin groups add ${g.name} @person**.`,
    );
  },

  'admin groups delete': async (ctx, args) => {
    requireAdmin(ctx.actor, 'delete groups');
    const name = await needOne(
      args[0]?.toLowerCase(),
      'group',
      async () => `admin groups delete ${await exampleGroup(ctx.deps.baton, ctx.actor)}`,
    );
    const confirm = args[1]?.toLowerCase();
    if (confirm !== undefined && confirm !== 'confirm')
      throw new ValidationError(
        `Type confirm after the group's name to delete it: admin groups delete ${name} confirm`,
      );
    const result = await deleteGroup(ctx.deps.baton, ctx.actor, name, confirm === 'confirm');
    if (result.deleted) {
      await say(ctx, `Group **${result.name}** deleted.`);
      return;
    }
    await say(
      ctx,
      `Delete the group **${result.name}**? ${md(deletionNotes(result).join(' '))}\n\nTo delete it, type **admin groups delete ${result.name} confirm**.`,
    );
  },

  'admin groups add': async (ctx, args) => groupMembers(ctx, args, 'add'),
  'admin groups remove': async (ctx, args) => groupMembers(ctx, args, 'remove'),

  'admin roles grant': async (ctx, args) => {
    requireAdmin(ctx.actor, 'grant or revoke roles');
    const [who, named] = personThenRole(args);
    const user = await person(ctx, who);
    const role = need(named?.toLowerCase(), 'role', 'admin roles grant @Alice operator') as Role;
    const before = user.role;
    const updated = await ctx.deps.baton.users.setRole(ctx.actor, user._id, role);
    const what = updated.role === 'user' ? 'a user' : `an ${updated.role}`;
    await say(ctx, `${md(updated.name)} ${before === updated.role ? 'was already' : 'is now'} ${what}.`);
  },

  'admin roles revoke': async (ctx, args) => {
    requireAdmin(ctx.actor, 'grant or revoke roles');
    const user = await person(ctx, args[0]);
    if (user.role === 'user') {
      await say(ctx, `${md(user.name)} has no admin or operator role: nothing to take away.`);
      return;
    }
    const updated = await ctx.deps.baton.users.setRole(ctx.actor, user._id, 'user');
    await say(ctx, `${md(updated.name)} is now a user (no admin or operator role).`);
  },
};

async function groupMembers(ctx: Ctx, args: string[], op: 'add' | 'remove'): Promise<void> {
  requireAdmin(ctx.actor, 'change group members');
  const group = await needOne(
    args[0]?.toLowerCase(),
    'group',
    async () => `admin groups ${op} ${await exampleGroup(ctx.deps.baton, ctx.actor)} @Alice`,
  );
  const people = peopleTokens(args.slice(1));
  if (people.length === 0)
    throw new ValidationError(`Mention who to ${op}, e.g. admin groups ${op} ${group} @Alice`);
  // Everyone named is found first: one unknown person changes nothing.
  const users: User[] = [];
  for (const token of people) {
    const user = await person(ctx, token);
    if (!users.some((u) => u._id === user._id)) users.push(user);
  }
  const before = (await ctx.deps.baton.groups.get(group)).members;
  const changed: string[] = [];
  const unchanged: string[] = [];
  let members = before.length;
  for (const user of users) {
    const isMember = before.includes(user._id);
    if (op === 'add' ? isMember : !isMember) {
      unchanged.push(user.name);
      continue;
    }
    const g =
      op === 'add'
        ? await ctx.deps.baton.groups.addMember(ctx.actor, group, user._id)
        : await ctx.deps.baton.groups.removeMember(ctx.actor, group, user._id);
    members = g.members.length;
    changed.push(user.name);
  }
  const count = `(${members} member${members === 1 ? '' : 's'})`;
  const parts: string[] = [];
  if (changed.length > 0)
    parts.push(
      `${op === 'add' ? 'Added' : 'Removed'} ${md(changed.join(', '))} ${op === 'add' ? 'to' : 'from'} **${group}** ${count}.`,
    );
  if (unchanged.length > 0)
    parts.push(
      `${md(unchanged.join(', '))} ${unchanged.length === 1 ? 'was' : 'were'} ${op === 'add' ? 'already in' : 'not in'} **${group}**${changed.length === 0 ? ` ${count}` : ''}.`,
    );
  // Whoever empties a group is told at once that its open tasks now wait on nobody.
  const open = members === 0 && changed.length > 0 ? await ctx.deps.baton.tasks.listOpenForGroup(group) : [];
  if (open.length > 0)
    parts.push(
      `⚠️ Nobody is left to act on its ${open.length === 1 ? 'open task' : `${open.length} open tasks`} (${open
        .slice(0, 5)
        .map((t) => t.request_id)
        .join(
          ', ',
        )}${open.length > 5 ? '…' : ''}): add someone with **admin groups add ${group} @person**, or reassign ${open.length === 1 ? 'it' : 'them'} on the request's page in the portal.`,
    );
  // Teams cannot find people by email: whoever has not opened Baton there gets no cards there yet.
  if (op === 'add') {
    const unseen: string[] = [];
    for (const user of users)
      if (changed.includes(user.name) && !(await ctx.deps.users.teamsIdentity(user))) unseen.push(user.name);
    if (unseen.length > 0)
      parts.push(
        `${md(unseen.join(', '))} ${unseen.length === 1 ? 'has' : 'have'} not opened Baton in Teams yet: **${group}**'s tasks reach them on Slack or in the portal, and in Teams once they open Baton there (or write to it) once.`,
      );
  }
  await say(ctx, parts.join(' '));
}

/**
 * `text` with every word over `max` characters cut with "…": errors quote what was typed
 * (`No request <ID>`), and one huge word quoted in full makes a reply Teams refuses (over 28 KB).
 */
function shortWords(text: string, max = 100): string {
  return text.replace(new RegExp(`\\S{${max + 1},}`, 'gu'), (w) => summaryText(w, max));
}

/** A message a person can act on, for any error a core call threw; unexpected ones are logged. */
export function describeError(err: unknown, deps: TeamsDeps): string {
  if (isBatonError(err)) return shortWords(forTeams(err.message));
  deps.logger.error({ err }, 'a Teams command failed');
  return 'Something went wrong on our side; it has been logged. Please try again in a moment.';
}

/** Commands whose answers show requests, tasks or jobs: answered in the person's personal chat. */
const PRIVATE = new Set([
  'requests',
  'tasks',
  'show',
  'cancel',
  'admin jobs list',
  'admin jobs show',
  'admin jobs rerun',
  'admin requests move',
]);

/**
 * Whether a message brought an image or a file (an attachment beyond the HTML copy of its text
 * Teams adds, or an inline `<img>`): with no words beside it, it asks nothing of Baton.
 */
function onlyAttachments(activity: Partial<Activity>): boolean {
  const attachments = Array.isArray(activity.attachments) ? activity.attachments : [];
  if (attachments.some((a) => a && typeof a === 'object' && a.contentType !== 'text/html')) return true;
  return typeof activity.text === 'string' && /<img\b/i.test(activity.text);
}

/** Runs the command in a message from a Teams user; every action goes through the core with the Baton user as actor. */
export async function runCommand(
  deps: TeamsDeps,
  activity: Partial<Activity>,
  actor: User,
  reply: Reply,
): Promise<void> {
  const { text, mentions } = commandText(activity);
  const ctx: Ctx = { deps, actor, activity, mentions, reply };
  if (text === '' && onlyAttachments(activity)) {
    // An image or a file with no words: not a question for the whole help list.
    await say(ctx, "I can't read images or files, only what you type. Type **help** to see what you can do.");
    return;
  }
  const parsed = parseCommand(text);
  if (parsed.spec === null) {
    const under = commandsUnder(text, levelOf(actor));
    if (under) {
      const typed = md(under.words.join(' '));
      await say(
        ctx,
        under.mine.length === 0
          ? `⚠️ **${typed} …** commands are for ${under.forWho}.`
          : [`**${typed}** commands`, ...under.mine.map(helpLine)].join('\n'),
      );
      return;
    }
    // Only suggest what this person may do: an admin command would just be refused next.
    const suggestion =
      parsed.suggestion && allowed(parsed.suggestion.level, levelOf(actor)) ? parsed.suggestion : null;
    const hint = suggestion
      ? `Did you mean **${placeholders([...suggestion.words, suggestion.args].filter((x) => x !== '').join(' '))}**?`
      : 'Type **help** to see what you can do.';
    // Shortened: a huge word echoed in full would make a reply Teams refuses (over 28 KB), and say nothing.
    await say(ctx, `I don't know "${md(summaryText(parsed.typed, 60))}". ${hint}`);
    return;
  }
  const words = parsed.spec.words.join(' ');
  const handler = handlers[words];
  if (!handler) throw new Error(`no handler for ${words}`);
  if (PRIVATE.has(words) && !isPersonal(activity)) {
    // Teams has no "only visible to you": answers with request data go to the person's own
    // chat with Baton, never to the channel or group chat everyone reads.
    const target = await personalConversation(deps, actor._id);
    if ('reason' in target) {
      await say(
        ctx,
        'That answer is only for you: open your chat with Baton (Apps → Baton) and ask me there.',
      );
      return;
    }
    const { serviceUrl } = target.reach;
    ctx.reply = (out) =>
      deps.queue.call(async () => ({
        serviceUrl,
        conversation: target.conversationId,
        activity: await deps.connector.send(serviceUrl, target.conversationId, out),
      }));
    await say({ ...ctx, reply }, 'I sent you the answer in your chat with Baton.');
  }
  try {
    await handler(ctx, parsed.args, parsed.rest);
  } catch (err) {
    // The answer itself could not be sent: saying so would fail the same way.
    if (err instanceof ConnectorError) throw err;
    await say(ctx, `⚠️ ${md(describeError(err, deps))}`);
  }
}
