/**
 * Errors that say what happened. Each has a stable `code` (namespaced string), an HTTP
 * status a surface can use, and a message a person can act on.
 */

export type ErrorCode =
  | 'baton.validation_failed'
  | 'baton.not_found'
  | 'baton.forbidden'
  | 'baton.task_closed'
  | 'baton.conflict'
  | 'baton.unsafe_input'
  | 'baton.recipe_invalid'
  | 'baton.config_invalid';

export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message };
  }
}

/** Input that does not satisfy a schema; `fields` maps a field key to a message for that field. */
export class ValidationError extends BatonError {
  readonly fields: Record<string, string>;
  constructor(message: string, fields: Record<string, string> = {}) {
    super('baton.validation_failed', 400, message);
    this.fields = fields;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), fields: this.fields };
  }
}

export class NotFoundError extends BatonError {
  constructor(message: string) {
    super('baton.not_found', 404, message);
  }
}

export class ForbiddenError extends BatonError {
  constructor(message: string) {
    super('baton.forbidden', 403, message);
  }
}

export class ConflictError extends BatonError {
  constructor(message: string) {
    super('baton.conflict', 409, message);
  }
}

/** A task that is no longer open: `task` says how it ended, by whom and when. */
export class TaskClosedError extends BatonError {
  readonly task: {
    id: string;
    status: string;
    outcome?: string | undefined;
    completed_by?: string | undefined;
    completed_by_name?: string | undefined;
    completed_at?: Date | undefined;
  };
  constructor(message: string, task: TaskClosedError['task']) {
    super('baton.task_closed', 409, message);
    this.task = task;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), task: this.task };
  }
}

export function isBatonError(err: unknown): err is BatonError {
  return err instanceof BatonError;
}
