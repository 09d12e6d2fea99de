import type { AppService } from './apps.js';
import type { CoreContext } from './context.js';
import { NotFoundError } from './errors.js';
import { displayValue, selectedLabels } from './records.js';
import { outcomePhrase } from './tasks.js';
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
    let statusText = '';
    if (task.status === 'completed') {
      const phrase = outcomePhrase(task.outcome ?? 'completed');
      statusText = `${phrase.charAt(0).toUpperCase()}${phrase.slice(1)} by ${completedBy}`;
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
      },
      request: await this.request(request),
    };
  }
}
