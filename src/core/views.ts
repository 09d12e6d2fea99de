import type { AppService } from './apps.js';
import type { CoreContext } from './context.js';
import { NotFoundError } from './errors.js';
import { displayValue, selectedLabels } from './records.js';
import { countedResponses, listOf, outcomePhrase } from './tasks.js';
import type { RequestDoc, TaskDoc } from './types.js';
import type { UserService } from './users.js';

/** Plain data for rendering a task on any surface (the card templates in `cards/` bind to it). */
export interface TaskView {
  task: {
    id: string;
    title: string;
    instructions: string;
    status: TaskDoc['status'];
    open: boolean;
    outcomes: { label: string; style: string; comment: string }[];
    inputs: { id: string; label: string; type: string; required_for: string[] }[];
    assignee: string;
    expires_at: string;
    outcome: string;
    completed_by: string;
    completed_at: string;
    comment: string;
    /** "Approved by Bob Manager", "Expired", "Cancelled by Ada Admin"; empty while open. */
    status_text: string;
    /**
     * While a group task with a quorum has some of its responses: "Approved by Alice — 1 of 3
     * responses, waiting for Bob and Carol". Empty otherwise (the decision is `status_text`).
     */
    progress_text: string;
    /** Each member's answer so far (quorum), in order: name and outcome. */
    responses: { by: string; outcome: string }[];
  };
  request: RequestView;
}

export interface RequestView {
  id: string;
  app: string;
  app_name: string;
  stage: string;
  requester: string;
  requester_name: string;
  created_at: string;
  fields: { key: string; label: string; value: string }[];
}

function capitalized(s: string): string {
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
}

export class ViewService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly apps: AppService,
    private readonly users: UserService,
  ) {}

  async request(request: RequestDoc): Promise<RequestView> {
    const app = await this.apps.find(request.app);
    const fields: RequestView['fields'] = [];
    for (const field of app?.fields ?? []) {
      const raw = request.record[field.key];
      if (raw === undefined || raw === null || raw === '') continue;
      const value =
        field.type === 'user' && typeof raw === 'string'
          ? await this.users.displayName(raw)
          : field.type === 'select' || field.type === 'multi_select'
            ? selectedLabels(field.options ?? [], raw)
            : displayValue(raw);
      fields.push({ key: field.key, label: field.label, value });
    }
    return {
      id: request._id,
      app: request.app,
      app_name: app?.name ?? request.app,
      stage: request.stage,
      requester: request.requester,
      requester_name: await this.users.displayName(request.requester),
      created_at: request.created_at.toISOString(),
      fields,
    };
  }

  /**
   * Where an open group task with a quorum stands: who answered what, how many answers it
   * has of those it needs, and who it waits for. Empty before the first answer.
   */
  private async progress(task: TaskDoc, responders: Map<string, string>): Promise<string> {
    if (task.responses.length === 0 || task.assignee.type !== 'group') return '';
    const answered = task.outcomes
      .map((o) => ({
        phrase: outcomePhrase(o.label),
        names: task.responses.filter((r) => r.outcome === o.label).map((r) => responders.get(r.by) ?? r.by),
      }))
      .filter((a) => a.names.length > 0)
      .map((a) => `${a.phrase} by ${listOf(a.names, 'and')}`);
    const group = await this.ctx.db.groups.findOne({ name: task.assignee.name });
    const members = [...new Set(group?.members ?? [])];
    const size = Math.max(1, members.length);
    const counted = countedResponses(task.responses, members);
    const waiting = await Promise.all(
      members.filter((m) => !responders.has(m)).map((m) => this.users.displayName(m)),
    );
    let count: string;
    if (task.quorum.mode === 'count') {
      const required = Math.min(task.quorum.count ?? 1, size);
      const best = Math.max(
        0,
        ...task.outcomes.map((o) => counted.filter((r) => r.outcome === o.label).length),
      );
      count = `${best} of ${required} needed`;
    } else {
      const n = counted.length;
      count = `${n} of ${size} response${size === 1 ? '' : 's'}`;
    }
    const wait =
      waiting.length > 0
        ? `, waiting for ${listOf(waiting, task.quorum.mode === 'count' ? 'or' : 'and')}`
        : '';
    return `${capitalized(answered.join(', '))} — ${count}${wait}`;
  }

  async task(taskOrId: TaskDoc | string): Promise<TaskView> {
    const task = typeof taskOrId === 'string' ? await this.ctx.db.tasks.findOne({ _id: taskOrId }) : taskOrId;
    if (!task) throw new NotFoundError(`No task ${String(taskOrId)}.`);
    const request = await this.ctx.db.requests.findOne({ _id: task.request_id });
    if (!request) throw new NotFoundError(`No request ${task.request_id}.`);
    const completedBy = task.completed_by?.startsWith('u_')
      ? await this.users.displayName(task.completed_by)
      : (task.completed_by ?? '');
    const assignee =
      task.assignee.type === 'group'
        ? `group ${task.assignee.name}`
        : await this.users.displayName(task.assignee.id);
    const responders = new Map<string, string>();
    for (const r of task.responses) responders.set(r.by, await this.users.displayName(r.by));
    const quorum = task.quorum.mode !== 'any' && task.assignee.type === 'group';
    let statusText = '';
    if (task.status === 'completed') {
      // A quorum decided by several members names them all ("Approved by Alice, Bob and Carol").
      const deciders =
        quorum && task.completed_as !== 'admin'
          ? task.responses.filter((r) => r.outcome === task.outcome).map((r) => responders.get(r.by) ?? r.by)
          : [];
      const by = deciders.length > 1 ? listOf(deciders, 'and') : completedBy;
      statusText = `${capitalized(outcomePhrase(task.outcome ?? 'completed'))} by ${by}`;
    } else if (task.status === 'expired') {
      // A group task with a quorum may have had some answers, not enough to decide.
      const n = task.responses?.length ?? 0;
      statusText =
        n > 0
          ? `Expired without a decision (${n} response${n === 1 ? '' : 's'}, not enough)`
          : 'Expired without a response';
    } else if (task.status === 'cancelled')
      statusText = `Cancelled${completedBy ? ` by ${completedBy}` : ''}`;
    return {
      task: {
        id: task._id,
        title: task.title,
        instructions: task.instructions ?? '',
        status: task.status,
        open: task.status === 'open',
        outcomes: task.outcomes.map((o) => ({ label: o.label, style: o.style, comment: o.comment })),
        inputs: task.inputs.map((i) => ({ ...i })),
        assignee,
        expires_at: task.expires_at?.toISOString() ?? '',
        outcome: task.outcome ?? '',
        completed_by: completedBy,
        completed_at: task.completed_at?.toISOString() ?? '',
        comment: task.comment ?? '',
        status_text: statusText,
        progress_text: quorum && task.status === 'open' ? await this.progress(task, responders) : '',
        responses: task.responses.map((r) => ({ by: responders.get(r.by) ?? r.by, outcome: r.outcome })),
      },
      request: await this.request(request),
    };
  }
}
