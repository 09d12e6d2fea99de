import type { Problem } from '../recipes/loader.js';
import type { AppDefinition, RecipeDefinition } from '../recipes/schema.js';

/** Platforms a person can reach Baton from. */
export type Provider = 'slack' | 'teams' | 'web';

export type Role = 'admin' | 'operator' | 'user';

/** One Baton user per person, across surfaces. */
export interface User {
  _id: string;
  name: string;
  email?: string | undefined;
  role: Role;
  identities: { provider: Provider; id: string }[];
  /** Set on a user created without an email and later found to be this one (see UserService.merge). */
  merged_into?: string | undefined;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

/** Maps `provider:platformId` to a Baton user id (primary-key lookups). */
export interface IdentityDoc {
  _id: string;
  user_id: string;
  [key: string]: unknown;
}

export interface Group {
  _id: string;
  name: string;
  description?: string | undefined;
  members: string[];
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

/** A copy of a task or notification a surface posted: where it is, to update or find it again. */
export interface Delivery {
  surface: string;
  /** The Baton user it was delivered to. */
  user: string;
  /** Surface-specific reference, e.g. Slack `{ channel, ts }` or Teams `{ conversation, activity }`. */
  ref: Record<string, string>;
  at: Date;
  /** Set when delivery failed for good (e.g. the user never installed the bot). */
  error?: string | undefined;
}

export type DefinitionSource = 'file' | 'store' | 'pack';

export interface AppDoc {
  _id: string;
  definition: AppDefinition;
  source: DefinitionSource;
  file?: string | undefined;
  /** Fields and stages admins added (commands, portal) to an app that comes from a file or pack: kept when the file is installed again. */
  /** Each list is there once something of its kind was added (`$push` makes it): a stage alone leaves no `fields`. */
  admin_added?: { fields?: string[]; stages?: string[] } | undefined;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

export type RecipeState = 'running' | 'stopped' | 'invalid';

/** A problem found in an app or recipe file (file, line, message). */
export type { Problem } from '../recipes/loader.js';

export interface RecipeDoc {
  _id: string;
  name: string;
  definition?: RecipeDefinition | undefined;
  trigger_app?: string | undefined;
  trigger_type?: string | undefined;
  state: RecipeState;
  problems: Problem[];
  source: DefinitionSource;
  file?: string | undefined;
  yaml?: string | undefined;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

export type HistoryType =
  | 'created'
  | 'field_changed'
  | 'task_assigned'
  | 'task_response'
  | 'task_completed'
  | 'task_expired'
  | 'task_cancelled'
  | 'task_reassigned'
  | 'stage_changed'
  | 'comment'
  | 'notified'
  /** The requester (or an admin) cancelled the request. */
  | 'request_cancelled'
  /** Something a recipe could not do as written that people must know about (nobody to act on a task). */
  | 'problem';

/** One entry of a request's history trail: who did what, when. */
export interface HistoryEvent {
  id: string;
  type: HistoryType;
  at: Date;
  /** A Baton user id, or `recipe:<name>` / `system`. */
  by: string;
  /** Human summary: "Stage changed from Submitted to Approved". */
  text: string;
  /**
   * A `problem`'s text for people other than admins and operators: `text` says what an admin
   * does about it (the error, the job to rerun), which the requester and approvers cannot act on.
   */
  plain_text?: string | undefined;
  data?: Record<string, unknown> | undefined;
}

/** A change whose recipe triggers are still to be dispatched (kept on the request until they are). */
export interface PendingEvent {
  id: string;
  type: 'new_request' | 'stage_changed' | 'task_completed';
  from?: string | undefined;
  to?: string | undefined;
  /** stage_changed: who changed the stage (a user id, or `recipe:<name>` for a recipe's change_stage). */
  by?: string | undefined;
  task_id?: string | undefined;
  step_id?: string | undefined;
  outcome?: string | undefined;
  /** task_completed: the decider's comment, who decided (a user id), the task's inputs and title. */
  comment?: string | undefined;
  completed_by?: string | undefined;
  inputs?: Record<string, string> | undefined;
  title?: string | undefined;
  /**
   * How many recipe steps led to this event, one after another (a stage change made by a job
   * whose own trigger had depth n has depth n + 1; a person's change has none). Bounds loops
   * of recipes triggering each other.
   */
  depth?: number | undefined;
}

/** One history event as stored: its own document, `_id` = the event id (so recording it twice is a no-op). */
export interface HistoryDoc extends HistoryEvent {
  _id: string;
  request_id: string;
  /** Orders events of one request (time, then arrival). */
  seq: number;
  [key: string]: unknown;
}

/** A request as stored. Its history trail lives in the `history` collection (see `Request`). */
export interface RequestDoc {
  _id: string;
  app: string;
  number: number;
  requester: string;
  stage: string;
  record: Record<string, unknown>;
  pending: PendingEvent[];
  /** Ids of the latest stage and field changes applied (capped), so a retried change is applied once. */
  applied?: string[] | undefined;
  /** True while `pending` is not empty (an indexable flag for recovery). */
  has_pending?: boolean | undefined;
  /**
   * A cancel under way (engine.cancelRequest): written before it stops anything, cleared once
   * the request is in its Cancelled stage, so a retried cancel, or the next start, finishes it
   * with the same trail entries.
   */
  cancelling?: CancelInProgress | undefined;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

export interface CancelInProgress {
  by: string;
  /** Who cancelled, as the trail and the stopped jobs name them. */
  by_name: string;
  reason: string | null;
  /** The cancel's time stamp: its trail entries' ids are made of it. */
  stamp: string;
  at: Date;
  stage_before: string;
}

/** A request with its history trail, oldest first (what `requests.get` returns). */
export type Request = RequestDoc & { history: HistoryEvent[] };

export type TaskStatus = 'open' | 'completed' | 'expired' | 'cancelled';

/**
 * The most characters a comment takes (a task's comment or typed input, a request's comment):
 * every surface's comment box allows exactly this much.
 */
export const MAX_COMMENT_LENGTH = 5000;

/** The most characters a `text` field's value takes (every surface's input allows exactly this much). */
export const MAX_TEXT_LENGTH = 2000;
/** The most characters a `long_text` field's value takes (every surface's input allows exactly this much). */
export const MAX_LONG_TEXT_LENGTH = 20000;

export interface TaskOutcome {
  label: string;
  style: 'primary' | 'danger' | 'default';
  /** Whether a comment is required with this outcome. */
  comment: 'optional' | 'required';
}

export interface TaskInput {
  id: string;
  label: string;
  type: 'text' | 'long_text';
  required_for: string[];
}

export type Assignee = { type: 'user'; id: string } | { type: 'group'; name: string };

/** One person's response to a task. Recorded separately from the task's decided outcome (quorum). */
export interface TaskResponse {
  by: string;
  outcome: string;
  comment?: string | undefined;
  inputs?: Record<string, string> | undefined;
  at: Date;
  as: 'assignee' | 'group_member' | 'admin';
}

export interface TaskFields {
  _id: string;
  request_id: string;
  app: string;
  job_id?: string | undefined;
  step_id?: string | undefined;
  recipe?: string | undefined;
  title: string;
  instructions?: string | undefined;
  card?: string | undefined;
  outcomes: TaskOutcome[];
  inputs: TaskInput[];
  assignee: Assignee;
  /** `user:<id>` or `group:<name>`: one indexable key for "tasks assigned to". */
  assignee_key: string;
  /**
   * How responses decide a group task: `any`, the first response; `all`, every member choosing
   * one outcome (the first dissent decides); `count`, that many members choosing one outcome.
   */
  quorum: { mode: 'any' | 'all' | 'count'; count?: number | undefined };
  expires_at?: Date | undefined;
  status: TaskStatus;
  responses: TaskResponse[];
  outcome?: string | undefined;
  completed_by?: string | undefined;
  completed_as?: TaskResponse['as'] | undefined;
  comment?: string | undefined;
  inputs_values?: Record<string, string> | undefined;
  completed_at?: Date | undefined;
  /** Set when the task closed and the waiting job has yet to be resumed (crash-safe hand-off). */
  pending_resume?: boolean | undefined;
  /** Where surfaces posted copies of the task (one per assignee and surface), to update them later. */
  deliveries?: Delivery[] | undefined;
  /**
   * Copies posted in answer to someone asking for their open tasks (Teams' `tasks`), beside the
   * task's own copies: updated with them (closed, expired, reassigned). Several a person and
   * surface; the latest `LISTED_COPIES_KEPT` are kept.
   */
  listed_copies?: Delivery[] | undefined;
  /**
   * The surfaces that handed a copy to every assignee they could reach (a group's members
   * included). Until a surface is here, redelivery hands it the task again, so the members a
   * crash left without a copy get theirs. Cleared when the assignees change.
   */
  copies_complete?: string[] | undefined;
  /**
   * The surfaces whose copies of this closed task may still show it open: set when it closes,
   * each surface takes itself off once its copies show the close. Redelivery hands a closed
   * task to the surfaces still here (the process died before they updated their copies).
   */
  copies_outdated?: string[] | undefined;
  /** Reminder and escalation settings (reserved for what comes next). */
  reminders?: { every_ms: number; next_at?: Date | undefined } | undefined;
  escalate_to?: Assignee | undefined;
  delegated_from?: string | undefined;
  created_at: Date;
  updated_at: Date;
}

export type TaskDoc = TaskFields & Record<string, unknown>;

export interface NotificationDoc {
  _id: string;
  to: string;
  text?: string | undefined;
  card?: string | undefined;
  request_id?: string | undefined;
  job_id?: string | undefined;
  created_at: Date;
  /** `delivered` once any surface delivered it; `undeliverable` once one refused it for good and none delivered it. */
  status: 'pending' | 'delivered' | 'undeliverable';
  deliveries: Delivery[];
  /** Surfaces whose post had a passing failure: redelivery hands them the notification again. */
  owed?: string[] | undefined;
  [key: string]: unknown;
}

export type JobStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'stopped';

export interface StepResult {
  status: string;
  outcome?: string | undefined;
  completed_by?: string | undefined;
  comment?: string | undefined;
  inputs?: Record<string, string> | undefined;
  /** ISO 8601, as recipe expressions see it (jobs started before 2026-12-05 stored a date). */
  completed_at?: string | undefined;
  task_id?: string | undefined;
  /** Each member's answer to a group task with a quorum (`at`: ISO 8601). */
  responses?:
    | { by: string; outcome: string; comment: string | null; inputs: Record<string, string>; at: string }[]
    | undefined;
  value?: unknown;
}

export interface StepLogEntry {
  pc: number;
  step: string;
  action: string;
  /** A step that waited is logged twice: `waiting`, then how the wait ended (expired, cancelled: its task's fate). */
  status: 'completed' | 'waiting' | 'failed' | 'skipped' | 'expired' | 'cancelled';
  started_at: Date;
  finished_at: Date;
  error?: string | undefined;
  /** The outcome of the task a step waited for, when it was decided. */
  outcome?: string | undefined;
  /**
   * A condition (`if`): the way the job went: `then` (true), `else` (false, into its else
   * steps) or `none` (false, no else steps). Its status stays `completed` (true) or `skipped`.
   */
  branch?: 'then' | 'else' | 'none' | undefined;
}

/** An immutable snapshot of a recipe definition, shared by every job that runs it; `_id` = content hash. */
export interface RecipeVersionDoc {
  _id: string;
  recipe: string;
  definition: RecipeDefinition;
  created_at: Date;
  [key: string]: unknown;
}

export interface JobDoc {
  _id: string;
  recipe: string;
  /** The recipe version the job runs (see RecipeVersionDoc): editing a recipe never changes a running job. */
  recipe_version: string;
  request_id: string;
  app: string;
  trigger: Record<string, unknown>;
  status: JobStatus;
  /** Index of the next instruction of the compiled recipe. */
  pc: number;
  /** Label of the current step, for people. */
  current_step?: string | undefined;
  steps: Record<string, StepResult>;
  waiting?: { kind: 'task'; task_id: string } | { kind: 'timer'; until: Date } | undefined;
  error?: { step: string; pc: number; message: string; at: Date } | undefined;
  log: StepLogEntry[];
  lease_until?: Date | undefined;
  reruns: number;
  started_at: Date;
  updated_at: Date;
  finished_at?: Date | undefined;
  /** The reason a `stop` step gave, when the job ended there. */
  stop_reason?: string | undefined;
  [key: string]: unknown;
}
