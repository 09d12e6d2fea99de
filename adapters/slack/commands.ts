import type { App, RespondFn, types } from '@slack/bolt';
import { ValidationError } from '../../src/core/errors.js';
import { historyExpiry } from '../../src/core/tasks.js';
import type { JobDoc, Request, RequestDoc, Role, User } from '../../src/core/types.js';
import { requireAdmin, requireOperator } from '../../src/core/users.js';
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
  usage,
  withdrawnText,
} from '../commands/grammar.js';
import { createGroup, deleteGroup, deletionNotes } from '../commands/groups.js';
import { conditionText } from '../commands/jobs.js';
import { missingGroupNotes, problemsToShow, problemText } from '../commands/problems.js';
import { lowerFirst, triggerText } from '../commands/recipes.js';
import { exampleStage, moveRequest } from '../commands/stages.js';
import { truncate as fitText } from './blockkit.js';
import type { SlackDeps } from './deps.js';
import { openRequestModal, renderAddFieldModal, renderAppPicker, renderCreateAppModal } from './modals.js';
import { describeError, escapeMrkdwn, truncate, unescapeSlack } from './replies.js';
import { renderOpenTaskList, slackDate } from './tasks.js';

export {
  COMMANDS,
  type CommandSpec,
  editDistance,
  type ParsedCommand,
  parseCommand,
} from '../commands/grammar.js';

/** Action ids of the buttons in command replies. */
export const COMMAND_ACTION = {
  showRequest: 'baton_show_request',
  newRequest: 'baton_new_request',
} as const;

/** `help`: the subcommands this person can use; `example`, a request id as theirs look (`exampleRequestId`). */
export function renderHelp(
  command: string,
  user: User,
  example = 'PTO-42',
): { text: string; blocks: types.KnownBlock[] } {
  const level = levelOf(user);
  const mine = COMMANDS.filter((c) => allowed(c.level, level)).map((c) => ({
    ...c,
    summary: c.summary.replaceAll('PTO-42', example),
  }));
  const lines = (list: CommandSpec[]) =>
    // Usages hold `<ID>` and `<admin|operator>`: unescaped, Slack would read them as links.
    list.map((c) => `• \`${escapeMrkdwn(usage(command, c))}\` — ${escapeMrkdwn(c.summary)}`).join('\n');
  const basic = mine.filter((c) => c.words[0] !== 'admin');
  const admin = mine.filter((c) => c.words[0] === 'admin');
  const blocks: types.KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*What you can do with ${command}*\n${lines(basic)}` } },
  ];
  if (admin.length > 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*${level === 'admin' ? 'Admin' : 'Operator'} commands*\n${lines(admin)}`, 3000),
      },
    });
  }
  return { text: `${command} help: ${mine.map((c) => c.words.join(' ')).join(', ')}`, blocks };
}

/**
 * `admin`, `admin apps`, `admin groups help`...: the first words of longer commands. Lists the
 * commands under them this person may use (or says they are not for them); null for other text.
 */
export function renderCommandsUnder(
  command: string,
  user: User,
  text: string,
): { text: string; blocks?: types.KnownBlock[] } | null {
  const found = commandsUnder(text, levelOf(user));
  if (!found) return null;
  const { words, mine } = found;
  const typed = `${command} ${words.join(' ')}`;
  if (mine.length === 0)
    return { text: `:warning: \`${escapeMrkdwn(typed)} …\` commands are for ${found.forWho}.` };
  const lines = mine
    .map((c) => `• \`${escapeMrkdwn(usage(command, c))}\` — ${escapeMrkdwn(c.summary)}`)
    .join('\n');
  return {
    text: `${escapeMrkdwn(typed)}: ${mine.map((c) => c.words.slice(words.length).join(' ')).join(', ')}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: truncate(`*\`${escapeMrkdwn(typed)}\` commands*\n${lines}`, 3000) },
      },
    ],
  };
}

const MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;

/**
 * Free text of a command (a cancel reason) as people read it: Slack sends a mention as
 * `<@U123|handle>`, a channel as `<#C123|name>`, a link as `<https://…|…>`; these become the
 * person's name, `#name` and the link, so the history, Teams and the portal show what was meant.
 */
async function readable(ctx: Ctx, text: string): Promise<string> {
  const pattern = /<(@[UW][A-Z0-9]+|#C[A-Z0-9]+|![a-z^A-Z0-9]+|(?:https?|mailto):[^|<>\s]+)(?:\|([^<>]*))?>/g;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    out += text.slice(last, m.index);
    last = m.index + m[0].length;
    const [target, label] = [m[1]!, m[2]];
    if (target.startsWith('@')) {
      const user = await ctx.deps.baton.users.lookup(`slack:${target.slice(1)}`);
      out += user?.name ?? (label ? `@${label.replace(/^@/, '')}` : target);
    } else if (target.startsWith('#')) out += `#${label ?? target.slice(1)}`;
    else if (target.startsWith('!')) out += label ?? `@${target.slice(1).split('^')[0]}`;
    else out += target.replace(/^mailto:/, '');
  }
  return out + text.slice(last);
}

interface Ctx {
  deps: SlackDeps;
  actor: User;
  command: string;
  slackUserId: string;
  triggerId: string;
  reply: (text: string, blocks?: types.KnownBlock[]) => Promise<void>;
}

/**
 * A person named in a command: a mention (`<@U123|name>`), an email, or a Baton id. `joining`
 * (added to a group, given a role): an app or a deactivated account mentioned is refused, as
 * nobody who could act; taking someone out still works for them.
 */
async function person(ctx: Ctx, token: string | undefined, joining = false): Promise<User> {
  if (!token) throw new ValidationError('Mention the person, e.g. @alice.');
  const m = MENTION.exec(token);
  // Someone Slack does not know is refused, never created as a user named by the id.
  if (m) return ctx.deps.users.toBaton(m[1]!, { mustExist: true, person: joining });
  const email = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/.exec(token)?.[1] ?? token;
  const user = await ctx.deps.baton.users.lookup(email);
  if (!user) throw new ValidationError(`I don't know who ${token} is: mention them, e.g. @alice.`);
  return user;
}

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

async function requestLine(deps: SlackDeps, r: RequestDoc): Promise<string> {
  const app = await deps.baton.apps.find(r.app);
  // Names and stages have no length limit: cut them, not the date after them.
  return `*${r._id}* ${escapeMrkdwn(fitText(app?.name ?? r.app, 300))} — ${escapeMrkdwn(fitText(r.stage, 300))} — filed ${slackDate(r.created_at)}`;
}

/** `show <ID>`: fields, stage, open tasks and the history trail. */
export async function renderRequest(deps: SlackDeps, request: Request): Promise<types.KnownBlock[]> {
  const view = await deps.baton.views.request(request);
  const fieldLines = view.fields.map((f) => `*${escapeMrkdwn(f.label)}:* ${escapeMrkdwn(f.value)}`);
  // The newest entries matter most: keep as many of the latest as fit in one section.
  const entries = request.history.map((h) => {
    // A task's expiry as a date token too, not the stored UTC text.
    const expiry = historyExpiry(h);
    return expiry
      ? `${slackDate(h.at)} — ${fitText(escapeMrkdwn(expiry.before), 900)}, expires ${slackDate(expiry.at)}`
      : `${slackDate(h.at)} — ${fitText(escapeMrkdwn(h.text), 1000)}`;
  });
  const history: string[] = [];
  let size = 60;
  for (let i = entries.length - 1; i >= 0 && history.length < 15; i--) {
    if (size + entries[i]!.length + 1 > 3000) break;
    history.unshift(entries[i]!);
    size += entries[i]!.length + 1;
  }
  const tasks = (await deps.baton.tasks.listForRequest(request._id)).filter((t) => t.status === 'open');
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${view.id}* · ${escapeMrkdwn(view.app_name)} · stage *${escapeMrkdwn(view.stage)}*\nRequested by ${escapeMrkdwn(view.requester_name)} ${slackDate(request.created_at)}`,
      },
    },
  ];
  // Every field, in as many sections as it takes (one section holds 3000 characters).
  for (const chunk of chunkLines(fieldLines, 3000).slice(0, 30)) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  }
  if (tasks.length > 0) {
    const lines = await Promise.all(
      tasks.map(
        async (t) =>
          `• ${escapeMrkdwn(t.title)} — waiting on ${escapeMrkdwn(await deps.baton.tasks.describeAssignee(t.assignee))}`,
      ),
    );
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: fitText(`*Open tasks*\n${lines.join('\n')}`, 3000) },
    });
  }
  if (history.length > 0) {
    const earlier = entries.length - history.length;
    blocks.push({ type: 'divider' });
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*History*${earlier > 0 ? ` (latest ${history.length} of ${entries.length})` : ''}\n${history.join('\n')}`,
      },
    });
  }
  if (deps.publicUrl) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `<${deps.publicUrl.replace(/\/$/, '')}/requests/${view.id}|Open in the portal>`,
        },
      ],
    });
  }
  return blocks;
}

/**
 * A listing with every line, in as many sections as it takes (Slack refuses a section text
 * over 3000 characters); the fallback text (notifications) is the start of it.
 */
async function replyList(ctx: Ctx, heading: string, lines: string[]): Promise<void> {
  const chunks = chunkLines([heading, ...lines], 3000);
  const blocks: types.KnownBlock[] = chunks
    .slice(0, 49)
    .map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  if (chunks.length > 49) {
    blocks.push({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: 'More than fits in one Slack message: see the portal’s Admin page.' },
      ],
    });
  }
  await ctx.reply(truncate(`${heading}\n${lines.join('\n')}`, 3000), blocks);
}

/** Lines joined into texts of at most `max` characters each (a longer line is cut to fit). */
function chunkLines(lines: string[], max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = fitText(raw, max);
    if (current !== '' && current.length + 1 + line.length > max) {
      chunks.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

function jobLine(j: JobDoc): string {
  const step = j.current_step ? ` — at ${escapeMrkdwn(j.current_step)}` : '';
  const err = j.error ? ` — _${escapeMrkdwn(truncate(j.error.message, 200))}_` : '';
  const stopped = j.stop_reason ? ` — stopped: _${escapeMrkdwn(truncate(j.stop_reason, 200))}_` : '';
  return `• \`${j._id}\` ${escapeMrkdwn(j.recipe)} — *${j.status}* — ${j.request_id}${step}${err}${stopped}`;
}

type Handler = (ctx: Ctx, args: string[], rest: string) => Promise<void>;

// A command someone may not use is refused first (the core refuses it again), before they are
// asked for what is missing: nobody is sent to look up names for a command they cannot run.
const handlers: Record<string, Handler> = {
  help: async (ctx) => {
    const h = renderHelp(ctx.command, ctx.actor, await exampleRequestId(ctx.deps.baton, ctx.actor));
    await ctx.reply(h.text, h.blocks);
  },

  new: async (ctx, _args, rest) => {
    // An app's key or its name as people see it ("/baton new time off").
    const app = unquote(rest.trim());
    if (app) {
      await openRequestModal(ctx.deps, ctx.triggerId, app, ctx.actor);
      return;
    }
    const apps = await ctx.deps.baton.apps.list();
    if (apps.length === 0) {
      await ctx.reply('No apps are installed yet. An admin can add one with `/baton admin apps create`.');
      return;
    }
    await ctx.deps.client.views.open({ trigger_id: ctx.triggerId, view: renderAppPicker(apps) });
  },

  requests: async (ctx) => {
    const list = await ctx.deps.baton.requests.listMine(ctx.actor, { limit: 10 });
    if (list.length === 0) {
      await ctx.reply(`You have no requests yet. File one with \`${ctx.command} new\`.`);
      return;
    }
    const blocks: types.KnownBlock[] = [
      { type: 'section', text: { type: 'mrkdwn', text: '*Your recent requests*' } },
    ];
    for (const r of list) {
      blocks.push({
        type: 'section',
        text: { type: 'mrkdwn', text: fitText(await requestLine(ctx.deps, r), 3000) },
        accessory: {
          type: 'button',
          action_id: COMMAND_ACTION.showRequest,
          text: { type: 'plain_text', text: 'Show' },
          value: r._id,
        },
      });
    }
    await ctx.reply(
      escapeMrkdwn(`Your recent requests: ${list.map((r) => `${r._id} (${r.stage})`).join(', ')}`),
      blocks,
    );
  },

  tasks: async (ctx) => {
    const list = await renderOpenTaskList(ctx.deps, ctx.actor);
    await ctx.reply(list.text, list.blocks);
  },

  show: async (ctx, args) => {
    const id = await needOne(
      requestIdArg(args[0]),
      'request',
      async () => `${ctx.command} show ${await exampleRequestId(ctx.deps.baton, ctx.actor)}`,
    );
    const request = await ctx.deps.baton.requests.get(ctx.actor, id);
    await ctx.reply(`${request._id}: ${escapeMrkdwn(request.stage)}`, await renderRequest(ctx.deps, request));
  },

  cancel: async (ctx, args, rest) => {
    const id = await needOne(
      requestIdArg(args[0]),
      'request',
      async () => `${ctx.command} cancel ${await exampleRequestId(ctx.deps.baton, ctx.actor)} [reason]`,
    );
    const reason = await readable(ctx, afterFirst(rest));
    const request = await ctx.deps.baton.engine.cancelRequest(ctx.actor, id, reason || undefined);
    await ctx.reply(
      `:white_check_mark: ${request._id} is cancelled (stage *${escapeMrkdwn(request.stage)}*); ${withdrawnText(request.withdrawn_tasks)}.`,
    );
  },

  'admin apps list': async (ctx) => {
    requireOperator(ctx.actor, 'list apps with their fields');
    const apps = await ctx.deps.baton.apps.list();
    if (apps.length === 0) {
      await ctx.reply('No apps yet. Create one with `/baton admin apps create`.');
      return;
    }
    const lines = apps.map((a) => {
      const d = a.definition;
      return `• *${escapeMrkdwn(d.name)}* (\`${d.key}\`) — stages: ${escapeMrkdwn(d.stages.join(' → '))} — ${d.fields.length} field${d.fields.length === 1 ? '' : 's'}${d.fields.length ? `: ${d.fields.map((f) => `${f.key} (${f.type}${f.on_form === false ? ', set by recipes' : ''})`).join(', ')}` : ''}`;
    });
    await replyList(ctx, '*Apps*', lines);
  },

  'admin apps create': async (ctx, args, rest) => {
    if (args.length === 0) {
      requireAdmin(ctx.actor, 'create apps');
      await ctx.deps.client.views.open({ trigger_id: ctx.triggerId, view: renderCreateAppModal() });
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
    await ctx.reply(
      `App *${escapeMrkdwn(app.name)}* (\`${app.key}\`) created with stages ${app.stages.join(', ')}. Add fields with \`${ctx.command} admin apps add field ${app.key}\`.`,
    );
  },

  'admin apps add field': async (ctx, _args, rest) => {
    requireAdmin(ctx.actor, 'change apps');
    const named = await needOne(
      firstAndRest(rest).first,
      'app',
      async () => `${ctx.command} admin apps add field ${await exampleAppKey(ctx.deps.baton)}`,
    );
    // Its key, its name (in quotes when it has spaces) or its id prefix, as for `new`.
    const app = await ctx.deps.baton.apps.resolve(named);
    await ctx.deps.client.views.open({ trigger_id: ctx.triggerId, view: renderAddFieldModal(app) });
  },

  'admin apps add stage': async (ctx, _args, rest) => {
    requireAdmin(ctx.actor, 'change apps');
    const { first, after } = firstAndRest(rest);
    const named = await needOne(
      first,
      'app',
      async () => `${ctx.command} admin apps add stage ${await exampleAppKey(ctx.deps.baton)} Cancelled`,
    );
    // Its key, its name (in quotes when it has spaces) or its id prefix, as for `new`.
    const { key } = await ctx.deps.baton.apps.resolve(named);
    const stage = need(after, 'stage', `${ctx.command} admin apps add stage ${key} Cancelled`);
    const app = await ctx.deps.baton.apps.addStage(ctx.actor, key, stage);
    await ctx.reply(`*${escapeMrkdwn(app.name)}* stages: ${escapeMrkdwn(app.stages.join(' → '))}`);
  },

  'admin recipes list': async (ctx) => {
    const list = await ctx.deps.baton.recipes.list(ctx.actor);
    if (list.length === 0) {
      await ctx.reply('No recipes installed.');
      return;
    }
    const icon = {
      running: ':large_green_circle:',
      stopped: ':white_circle:',
      invalid: ':red_circle:',
    } as const;
    const lines = await Promise.all(
      list.map(async (r) => {
        // What starts it, in the portal's words: "when a Leave request is filed".
        const words = await triggerText(ctx.deps.baton, r);
        const trigger = words ? ` — ${escapeMrkdwn(lowerFirst(words))}` : '';
        // Errors, then warnings (a group it assigns to that does not exist fails a job later).
        const problems = problemsToShow(r.problems)
          .map(
            (p) =>
              `\n    ↳ ${p.severity === 'error' ? '' : ':warning: '}${escapeMrkdwn(problemText(ctx.deps.baton, p))}`,
          )
          .join('');
        return `${icon[r.state]} *${escapeMrkdwn(r.name)}* — ${r.state}${trigger}${problems}`;
      }),
    );
    await replyList(ctx, '*Recipes*', lines);
  },

  'admin recipes start': async (ctx, args) => {
    requireOperator(ctx.actor, 'start recipes');
    const name = await needOne(
      args[0],
      'recipe',
      async () =>
        `${ctx.command} admin recipes start ${await exampleRecipe(ctx.deps.baton, ctx.actor, 'stopped')}`,
    );
    const before = await ctx.deps.baton.recipes.get(ctx.actor, name);
    const r = await ctx.deps.baton.recipes.start(ctx.actor, name);
    await ctx.reply(
      before.state === 'running'
        ? `Recipe *${escapeMrkdwn(r.name)}* was already running.`
        : `Recipe *${escapeMrkdwn(r.name)}* is running.`,
    );
  },

  'admin recipes stop': async (ctx, args) => {
    requireOperator(ctx.actor, 'stop recipes');
    const name = await needOne(
      args[0],
      'recipe',
      async () =>
        `${ctx.command} admin recipes stop ${await exampleRecipe(ctx.deps.baton, ctx.actor, 'running')}`,
    );
    const before = await ctx.deps.baton.recipes.get(ctx.actor, name);
    const r = await ctx.deps.baton.recipes.stop(ctx.actor, name);
    if (before.state === 'stopped') {
      await ctx.reply(`Recipe *${escapeMrkdwn(r.name)}* was already stopped.`);
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
        : ` ${underway === 1 ? '1 job' : `${underway}${underway === 500 ? '+' : ''} jobs`} already under way carr${underway === 1 ? 'ies' : 'y'} on (see \`${ctx.command} admin jobs list waiting\`).`;
    await ctx.reply(`Recipe *${escapeMrkdwn(r.name)}* is stopped: new events no longer start it.${jobs}`);
  },

  'admin recipes install': async (ctx, args) => {
    const pack = args[0];
    if (!pack) {
      requireAdmin(ctx.actor, 'install template packs');
      const packs = ctx.deps.baton.recipes.listPacks();
      await ctx.reply(
        packs.length > 0
          ? `Template packs: ${packs.map((p) => `\`${p}\``).join(', ')}. Install one with \`${ctx.command} admin recipes install &lt;pack&gt;\`.`
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
      .map((p) => `\n    ↳ ${escapeMrkdwn(problemText(ctx.deps.baton, p))}`)
      .join('');
    // What to do before the first request: the groups its recipes assign to that do not exist yet.
    const missingGroups = (await missingGroupNotes(ctx.deps.baton, ctx.actor, report.recipes))
      .map((note) => `\n    ↳ :warning: ${escapeMrkdwn(note)}`)
      .join('');
    await ctx.reply(
      truncate(
        `Installed *${escapeMrkdwn(pack)}*: apps ${report.apps.join(', ') || 'none'}; recipes ${report.recipes.map((r) => `${r.name} (${r.state})`).join(', ') || 'none'}${problems ? `; ${problems} problem${problems === 1 ? '' : 's'}:${why}` : '.'}${missingGroups}`,
        3000,
      ),
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
    if (jobs.length === 0) {
      await ctx.reply(`No ${status ?? ''} jobs.`.replace('  ', ' '));
      return;
    }
    await replyList(ctx, `*Jobs${status ? ` (${status})` : ''}*`, jobs.map(jobLine));
  },

  'admin jobs show': async (ctx, args) => {
    requireOperator(ctx.actor, 'see jobs');
    const id = await needOne(
      args[0],
      'job',
      async () => `${ctx.command} admin jobs show ${await exampleJob(ctx.deps.baton, ctx.actor)}`,
    );
    const job = await ctx.deps.baton.recipes.getJob(ctx.actor, id);
    const log = job.log
      .slice(-10)
      .map(
        (l) =>
          `• ${escapeMrkdwn(l.step)} (${l.action}) — ${conditionText(l) ?? l.status}${l.outcome ? `: ${escapeMrkdwn(l.outcome)}` : ''}${l.error ? `: ${escapeMrkdwn(l.error)}` : ''}`,
      )
      .join('\n');
    const text = [
      `*Job \`${job._id}\`* — ${escapeMrkdwn(job.recipe)} on ${job.request_id} — *${job.status}*`,
      job.current_step ? `At: ${escapeMrkdwn(job.current_step)}` : '',
      job.error ? `Error at ${escapeMrkdwn(job.error.step)}: ${escapeMrkdwn(job.error.message)}` : '',
      job.stop_reason ? `Stopped by a stop step: ${escapeMrkdwn(job.stop_reason)}` : '',
      `Started ${slackDate(job.started_at)}${job.reruns ? ` — rerun ${job.reruns}×` : ''}`,
      log ? `*Steps*\n${log}` : '',
    ]
      .filter((x) => x !== '')
      .join('\n');
    await ctx.reply(truncate(text, 3000));
  },

  'admin jobs rerun': async (ctx, args) => {
    requireOperator(ctx.actor, 'rerun jobs');
    const id = await needOne(
      args[0],
      'job',
      async () => `${ctx.command} admin jobs rerun ${await exampleJob(ctx.deps.baton, ctx.actor, 'failed')}`,
    );
    const job = await ctx.deps.baton.engine.rerun(ctx.actor, id);
    await ctx.reply(
      `Job \`${job._id}\` rerun: now *${job.status}*${job.error ? ` (${escapeMrkdwn(job.error.message)})` : ''}.`,
    );
  },

  'admin requests move': async (ctx, _args, rest) => {
    requireAdmin(ctx.actor, 'change the stage of a request by hand');
    const { first, after } = firstAndRest(rest);
    const id = await needOne(
      requestIdArg(first || undefined),
      'request',
      async () => `${ctx.command} admin requests move ${await exampleRequestId(ctx.deps.baton, ctx.actor)}`,
    );
    const stage = await needOne(
      after,
      'stage',
      async () =>
        `${ctx.command} admin requests move ${id} ${(await exampleStage(ctx.deps.baton, ctx.actor, id)) ?? 'Approved'}`,
    );
    const { request, from, moved } = await moveRequest(ctx.deps.baton, ctx.actor, id, stage);
    await ctx.reply(
      moved
        ? `${request._id} moved from *${escapeMrkdwn(from)}* to *${escapeMrkdwn(request.stage)}*.`
        : `${request._id} is already in *${escapeMrkdwn(request.stage)}*.`,
    );
  },

  'admin groups list': async (ctx) => {
    requireAdmin(ctx.actor, 'list groups and their members');
    const groups = await ctx.deps.baton.groups.list();
    if (groups.length === 0) {
      await ctx.reply(`No groups yet. Create one with \`${ctx.command} admin groups create &lt;name&gt;\`.`);
      return;
    }
    const lines = await Promise.all(
      groups.map(async (g) => {
        const names = await Promise.all(
          g.members.slice(0, 20).map((m) => ctx.deps.baton.users.displayName(m)),
        );
        return `• *${g.name}*${g.description ? ` — ${escapeMrkdwn(g.description)}` : ''} — ${g.members.length} member${g.members.length === 1 ? '' : 's'}${names.length ? `: ${escapeMrkdwn(names.join(', '))}` : ''}`;
      }),
    );
    await replyList(ctx, '*Groups*', lines);
  },

  'admin groups create': async (ctx, args, rest) => {
    requireAdmin(ctx.actor, 'create groups');
    const typed = need(args[0], 'group name', `${ctx.command} admin groups create finance`);
    const description = afterFirst(rest);
    const g = await createGroup(ctx.deps.baton, ctx.actor, typed, description || undefined);
    await ctx.reply(
      `Group *${g.name}* created${g.lowered ? ` (${escapeMrkdwn(g.lowered)})` : ''}. Add people with \`${ctx.command} admin groups add ${g.name} @person\`.`,
    );
  },

  'admin groups delete': async (ctx, args) => {
    requireAdmin(ctx.actor, 'delete groups');
    const name = await needOne(
      args[0]?.toLowerCase(),
      'group',
      async () => `${ctx.command} admin groups delete ${await exampleGroup(ctx.deps.baton, ctx.actor)}`,
    );
    const confirm = args[1]?.toLowerCase();
    if (confirm !== undefined && confirm !== 'confirm')
      throw new ValidationError(
        `Type confirm after the group's name to delete it: ${ctx.command} admin groups delete ${name} confirm`,
      );
    const result = await deleteGroup(ctx.deps.baton, ctx.actor, name, confirm === 'confirm');
    if (result.deleted) {
      await ctx.reply(`Group *${result.name}* deleted.`);
      return;
    }
    await ctx.reply(
      truncate(
        `Delete the group *${result.name}*? ${escapeMrkdwn(deletionNotes(result).join(' '))}\nTo delete it, type \`${ctx.command} admin groups delete ${result.name} confirm\`.`,
        3000,
      ),
    );
  },

  'admin groups add': async (ctx, args) => groupMembers(ctx, args, 'add'),
  'admin groups remove': async (ctx, args) => groupMembers(ctx, args, 'remove'),

  'admin roles grant': async (ctx, args) => {
    requireAdmin(ctx.actor, 'grant or revoke roles');
    const [who, named] = personThenRole(args);
    const user = await person(ctx, who, true);
    const role = need(
      named?.toLowerCase(),
      'role',
      `${ctx.command} admin roles grant @alice operator`,
    ) as Role;
    const before = user.role;
    const updated = await ctx.deps.baton.users.setRole(ctx.actor, user._id, role);
    const what = updated.role === 'user' ? 'a user' : `an ${updated.role}`;
    await ctx.reply(
      `${escapeMrkdwn(updated.name)} ${before === updated.role ? 'was already' : 'is now'} ${what}.`,
    );
  },

  'admin roles revoke': async (ctx, args) => {
    requireAdmin(ctx.actor, 'grant or revoke roles');
    const user = await person(ctx, args[0]);
    if (user.role === 'user') {
      await ctx.reply(`${escapeMrkdwn(user.name)} has no admin or operator role: nothing to take away.`);
      return;
    }
    const updated = await ctx.deps.baton.users.setRole(ctx.actor, user._id, 'user');
    await ctx.reply(`${escapeMrkdwn(updated.name)} is now a user (no admin or operator role).`);
  },
};

async function groupMembers(ctx: Ctx, args: string[], op: 'add' | 'remove'): Promise<void> {
  requireAdmin(ctx.actor, 'change group members');
  const group = await needOne(
    args[0]?.toLowerCase(),
    'group',
    async () => `${ctx.command} admin groups ${op} ${await exampleGroup(ctx.deps.baton, ctx.actor)} @alice`,
  );
  const people = peopleTokens(args.slice(1));
  if (people.length === 0)
    throw new ValidationError(`Mention who to ${op}, e.g. ${ctx.command} admin groups ${op} ${group} @alice`);
  // Everyone named is found first: one unknown person changes nothing.
  const users: User[] = [];
  for (const token of people) {
    const user = await person(ctx, token, op === 'add');
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
      `${op === 'add' ? 'Added' : 'Removed'} ${escapeMrkdwn(changed.join(', '))} ${op === 'add' ? 'to' : 'from'} *${group}* ${count}.`,
    );
  if (unchanged.length > 0)
    parts.push(
      `${escapeMrkdwn(unchanged.join(', '))} ${unchanged.length === 1 ? 'was' : 'were'} ${op === 'add' ? 'already in' : 'not in'} *${group}*${changed.length === 0 ? ` ${count}` : ''}.`,
    );
  // Whoever empties a group is told at once that its open tasks now wait on nobody.
  const open = members === 0 && changed.length > 0 ? await ctx.deps.baton.tasks.listOpenForGroup(group) : [];
  if (open.length > 0)
    parts.push(
      `:warning: Nobody is left to act on its ${open.length === 1 ? 'open task' : `${open.length} open tasks`} (${open
        .slice(0, 5)
        .map((t) => t.request_id)
        .join(
          ', ',
        )}${open.length > 5 ? '…' : ''}): add someone with \`${ctx.command} admin groups add ${group} @person\`, or reassign ${open.length === 1 ? 'it' : 'them'} on the request's page in the portal.`,
    );
  await ctx.reply(parts.join(' '));
}

/** Runs one slash command text for a Slack user; every action goes through the core with the Baton user as actor. */
export async function runCommand(
  deps: SlackDeps,
  input: { command: string; text: string; slackUserId: string; triggerId: string },
  reply: Ctx['reply'],
): Promise<void> {
  const parsed = parseCommand(input.text);
  const actor = await deps.users.toBaton(input.slackUserId);
  const ctx: Ctx = {
    deps,
    actor,
    command: input.command,
    slackUserId: input.slackUserId,
    triggerId: input.triggerId,
    reply,
  };
  if (parsed.spec === null) {
    const under = renderCommandsUnder(input.command, actor, input.text);
    if (under) {
      await reply(under.text, under.blocks);
      return;
    }
    // Echoed in a section (3000 characters at most): a pasted paragraph must not make Slack refuse the reply.
    const typed = escapeMrkdwn(truncate(parsed.typed, 100));
    // Only suggest what this person may do: an admin command would just be refused next.
    const suggestion =
      parsed.suggestion && allowed(parsed.suggestion.level, levelOf(actor)) ? parsed.suggestion : null;
    const hint = suggestion
      ? `Did you mean \`${escapeMrkdwn(usage(input.command, suggestion))}\`?`
      : `Try \`${input.command} help\` to see what you can do.`;
    await reply(`I don't know \`${typed}\`. ${hint}`, [
      { type: 'section', text: { type: 'mrkdwn', text: `I don't know \`${typed}\`. ${hint}` } },
      ...(suggestion
        ? [
            {
              type: 'context' as const,
              elements: [
                { type: 'mrkdwn' as const, text: `\`${input.command} help\` lists everything you can do.` },
              ],
            },
          ]
        : []),
    ]);
    return;
  }
  const key = parsed.spec.words.join(' ');
  const handler = handlers[key];
  if (!handler) throw new Error(`no handler for ${key}`);
  try {
    // Slack escapes &, < and > in what was typed: names, stages and descriptions are stored as typed.
    await handler(ctx, parsed.args.map(unescapeSlack), unescapeSlack(parsed.rest));
  } catch (err) {
    await reply(`:warning: ${escapeMrkdwn(describeError(err, deps.logger))}`);
  }
}

function ephemeral(respond: RespondFn): Ctx['reply'] {
  return async (text, blocks) => {
    await respond({ response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) });
  };
}

/** The slash command (whatever the manifest names it; `/baton` in ours) and the buttons of its replies. */
export function registerCommands(app: App, deps: SlackDeps): void {
  app.command(/^\/.+/, async ({ ack, command, respond }) => {
    // Ack at once (Slack shows nothing); the reply follows through response_url.
    await ack();
    const reply = ephemeral(respond);
    try {
      await runCommand(
        deps,
        {
          command: command.command,
          text: command.text ?? '',
          slackUserId: command.user_id,
          triggerId: command.trigger_id,
        },
        reply,
      );
    } catch (err) {
      await reply(`:warning: ${escapeMrkdwn(describeError(err, deps.logger))}`);
    }
  });

  app.action(COMMAND_ACTION.showRequest, async ({ ack, body, action, respond }) => {
    await ack();
    const id = (action as { value?: string }).value ?? '';
    try {
      const actor = await deps.users.toBaton(body.user.id);
      const request = await deps.baton.requests.get(actor, id);
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `${request._id}: ${escapeMrkdwn(request.stage)}`,
        blocks: await renderRequest(deps, request),
      });
    } catch (err) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `:warning: ${escapeMrkdwn(describeError(err, deps.logger))}`,
      });
    }
  });
}
