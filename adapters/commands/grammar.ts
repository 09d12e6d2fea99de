/**
 * The command grammar every chat surface shares: the verbs, who may use them, and the parser
 * that maps typed text to a verb (with a "did you mean" for typos). Surface-neutral: Slack
 * (`/baton …`) and Teams (a message to the bot) render the replies their own way.
 */
import type { User } from '../../src/core/types.js';
import { isAdmin, isOperator } from '../../src/core/users.js';

export type Level = 'user' | 'operator' | 'admin';

/** One subcommand: its literal words, what follows, what it does, and who it is for. */
export interface CommandSpec {
  words: string[];
  args: string;
  summary: string;
  level: Level;
}

const spec = (usage: string, summary: string, level: Level = 'user'): CommandSpec => {
  const parts = usage.split(' ');
  const i = parts.findIndex((p) => /^[<[@]/.test(p));
  const words = i === -1 ? parts : parts.slice(0, i);
  return { words, args: i === -1 ? '' : parts.slice(i).join(' '), summary, level };
};

/** Every subcommand of the slash command. */
export const COMMANDS: CommandSpec[] = [
  spec('help', 'what you can do here'),
  spec(
    'new [app]',
    'file a request: opens the app’s form (name the app, its key or its id prefix, or pick one)',
  ),
  spec('requests', 'your recent requests and their stages'),
  spec('tasks', 'your open tasks'),
  spec('show <ID>', 'one request: fields, stage and history (e.g. show PTO-42)'),
  spec('cancel <ID> [reason]', 'cancel a request you filed: its open tasks are withdrawn'),
  spec('admin apps list', 'apps and their stages and fields', 'operator'),
  spec('admin apps create [key] [name]', 'create an app (no arguments: a form)', 'admin'),
  spec('admin apps add field <app>', 'add a field to an app (a form)', 'admin'),
  spec('admin apps add stage <app> <stage>', 'add a stage to an app', 'admin'),
  spec('admin recipes list', 'recipes with their state and problems', 'operator'),
  spec('admin recipes start <name>', 'start a recipe', 'operator'),
  spec('admin recipes stop <name>', 'stop a recipe', 'operator'),
  spec('admin recipes install [pack]', 'install a template pack (no pack: list them)', 'admin'),
  spec(
    'admin jobs list [status]',
    'recent jobs (status: running, waiting, completed, failed, stopped)',
    'operator',
  ),
  spec('admin jobs show <id>', 'one job: its steps and error', 'operator'),
  spec('admin jobs rerun <id>', 'rerun a failed job from the step that failed', 'operator'),
  spec(
    'admin requests move <ID> <stage>',
    'move a request to another stage by hand (recorded in its history; recipes on that stage start)',
    'admin',
  ),
  spec('admin groups list', 'groups and their members', 'admin'),
  spec('admin groups create <name> [description]', 'create a group', 'admin'),
  spec(
    'admin groups delete <name> [confirm]',
    'delete a group (one with members or used by recipes: says what it breaks, then confirm)',
    'admin',
  ),
  spec('admin groups add <group> @person…', 'add people to a group', 'admin'),
  spec('admin groups remove <group> @person…', 'remove people from a group', 'admin'),
  spec('admin roles grant @person <admin|operator>', 'give someone a role', 'admin'),
  spec('admin roles revoke @person', 'take someone’s role away (back to user)', 'admin'),
];

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

export type ParsedCommand =
  | { spec: CommandSpec; args: string[]; rest: string }
  | { spec: null; suggestion: CommandSpec | null; typed: string };

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '«': '»', '„': '“' };

/** Text without one pair of quotes around it (`"Waiting for IT"`, `“hr”`): people quote names. */
export function unquote(text: string): string {
  const close = QUOTES[text[0] ?? ''];
  return text.length >= 2 && close !== undefined && text.endsWith(close) ? text.slice(1, -1).trim() : text;
}

/** What follows the first argument in the text after a command (a name, a description), unquoted. */
export function afterFirst(rest: string): string {
  return unquote(rest.replace(/^\S+\s*/, '').trim());
}

/**
 * The first argument of the text after a command and what follows it, both unquoted; a first
 * argument in quotes may hold spaces (an app's name: `"Help desk" Waiting`).
 */
export function firstAndRest(rest: string): { first: string; after: string } {
  const text = rest.trim();
  const close = QUOTES[text[0] ?? ''];
  const end = close === undefined ? -1 : text.indexOf(close, 1);
  if (end > 1 && (end === text.length - 1 || /\s/.test(text[end + 1]!)))
    return { first: text.slice(1, end).trim(), after: unquote(text.slice(end + 1).trim()) };
  return { first: unquote(text.split(/\s+/)[0] ?? ''), after: afterFirst(text) };
}

/** Other names of commands, as people type them. */
const ALIASES: Record<string, string | undefined> = Object.assign(Object.create(null), {
  list: 'requests',
  mine: 'requests',
  inbox: 'tasks',
  open: 'show',
  status: 'show',
});

/**
 * A request id as people type it in a sentence: `ITA-2.`, `#ITA-2`, `(ITA-2)`, `ITA-2:` are
 * ITA-2 (upper-cased), and so are the request page's link pasted (`https://…/requests/ITA-2`),
 * the full-width `ＩＴＡ－２` an East Asian input method types, and a dash other than `-` (a
 * phone's smart punctuation); anything else is left, as typed, for the core to refuse with its
 * own message.
 */
export function requestIdArg(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  const link = /^<?https?:\/\/[^\s/]+(?:\/[^\s?#]*)?\/requests\/([^\s/?#>|]+)/i.exec(arg);
  let id = arg;
  if (link) {
    try {
      id = decodeURIComponent(link[1]!);
    } catch {
      id = link[1]!;
    }
  } else if (/^<?https?:\/\//i.test(arg)) return arg;
  const bare = id
    .normalize('NFKC')
    .replace(/[\u2010-\u2015\u2212\ufe58\ufe63]/g, '-')
    .replace(/^[#([]+/, '')
    .replace(/[.,:;!?)\]]+$/, '');
  return (bare === '' ? id : bare).toUpperCase();
}

/** Splits the text after the command into a subcommand and its arguments; for no match, the closest one. */
export function parseCommand(text: string): ParsedCommand {
  const tokens = text
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  // Words people type for a command by another name ("list" for their requests).
  const alias = tokens.length > 0 ? ALIASES[tokens[0]!.toLowerCase()] : undefined;
  if (alias !== undefined) return parseCommand([alias, ...tokens.slice(1)].join(' '));
  // "my tasks", "my requests": the command without the "my" people put in front of it.
  if (tokens.length > 1 && tokens[0]!.toLowerCase() === 'my') {
    const mine = parseCommand(tokens.slice(1).join(' '));
    if (mine.spec && mine.spec.words.length === 1 && mine.spec.level === 'user') return mine;
  }
  const lower = tokens.map((t) => t.toLowerCase());
  if (tokens.length === 0) return { spec: COMMANDS[0]!, args: [], rest: '' };
  let best: CommandSpec | null = null;
  for (const c of COMMANDS) {
    if (c.words.length <= lower.length && c.words.every((w, i) => lower[i] === w)) {
      if (!best || c.words.length > best.words.length) best = c;
    }
  }
  if (best) {
    const args = tokens.slice(best.words.length).map(unquote);
    const restMatch = text.trim().split(/\s+/);
    const rest = restMatch.slice(best.words.length).join(' ');
    return { spec: best, args, rest };
  }
  let suggestion: CommandSpec | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of COMMANDS) {
    const typed = lower.slice(0, c.words.length).join(' ');
    const target = c.words.join(' ');
    // A prefix of longer commands ("admin", "admin apps") is closest to the shortest of them
    // ("admin apps list"), ahead of any typo.
    const prefix = typed.length > 0 && target.startsWith(typed);
    const score = prefix ? target.length / 10_000 : editDistance(typed, target) / Math.max(target.length, 1);
    if (
      score < bestScore ||
      (score === bestScore && suggestion && c.words.length < suggestion.words.length)
    ) {
      bestScore = score;
      suggestion = c;
    }
  }
  return {
    spec: null,
    suggestion: bestScore <= 0.5 ? suggestion : null,
    typed: tokens.slice(0, 3).join(' '),
  };
}

/**
 * `admin`, `admin apps`, `admin groups help`...: the first words of longer commands. The words
 * typed, the commands under them this level may use, and who the others are for (when none
 * is); null for other text.
 */
export function commandsUnder(
  text: string,
  level: Level,
): { words: string[]; mine: CommandSpec[]; forWho: string } | null {
  const words = text
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.at(-1) === 'help') words.pop();
  if (words.length === 0) return null;
  const under = COMMANDS.filter(
    (c) => c.words.length > words.length && words.every((w, i) => c.words[i] === w),
  );
  if (under.length === 0) return null;
  const mine = under.filter((c) => allowed(c.level, level));
  const forWho = under.some((c) => c.level === 'operator') ? 'admins and operators' : 'admins';
  return { words, mine, forWho };
}

/** The people named after a command's words: "@bob @erin", "@bob, @erin" and "@bob and @erin" all name two. */
export function peopleTokens(args: string[]): string[] {
  return args
    .join(' ')
    .split(/[\s,;]+/)
    .filter((p) => p !== '' && !/^(and|&)$/i.test(p));
}

/**
 * `admin roles grant`'s arguments as [person, role]: people also say the role first
 * ("grant operator @carol"), which is taken the same way.
 */
export function personThenRole(args: string[]): [string | undefined, string | undefined] {
  const roles = ['admin', 'operator', 'user'];
  const [a, b] = args;
  if (a && b && roles.includes(a.toLowerCase()) && !roles.includes(b.toLowerCase())) return [b, a];
  return [a, b];
}

export function levelOf(user: User): Level {
  return isAdmin(user) ? 'admin' : isOperator(user) ? 'operator' : 'user';
}

export function allowed(level: Level, of: Level): boolean {
  const rank: Record<Level, number> = { user: 0, operator: 1, admin: 2 };
  return rank[of] >= rank[level];
}

export function usage(command: string, c: CommandSpec): string {
  return `${command} ${[...c.words, c.args].filter((x) => x !== '').join(' ')}`;
}

/** What a cancel did to the request's open tasks, for the reply (`cancelRequest`'s `withdrawn_tasks`). */
export function withdrawnText(count: number): string {
  if (count === 0) return 'it had no open task';
  return count === 1 ? 'its open task was withdrawn' : `its ${count} open tasks were withdrawn`;
}
