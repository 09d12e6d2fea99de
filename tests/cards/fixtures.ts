import type { RequestView, TaskView } from '../../src/core/views.js';

export function requestView(overrides: Partial<RequestView> = {}): RequestView {
  return {
    id: 'PTO-42',
    app: 'pto',
    app_name: 'Time off',
    stage: 'Submitted',
    requester: 'u_ada',
    requester_name: 'Ada Lovelace',
    created_at: '2025-03-01T09:00:00.000Z',
    fields: [
      { key: 'days', label: 'Days', value: '3' },
      { key: 'reason', label: 'Reason', value: 'Family trip' },
    ],
    ...overrides,
  };
}

export function openTask(overrides: Partial<TaskView['task']> = {}): TaskView {
  return {
    task: {
      id: 'tsk_123',
      title: 'Approve time off for Ada',
      instructions: 'Check the team calendar first.',
      status: 'open',
      open: true,
      outcomes: [
        { label: 'Approve', style: 'primary', comment: 'optional' },
        { label: 'Reject', style: 'danger', comment: 'required' },
      ],
      inputs: [],
      assignee: 'Bob Manager',
      expires_at: '2025-03-04T09:00:00.000Z',
      outcome: '',
      completed_by: '',
      completed_at: '',
      comment: '',
      status_text: '',
      progress_text: '',
      responses: [],
      ...overrides,
    },
    request: requestView(),
  };
}

export function closedTask(): TaskView {
  return openTask({
    status: 'completed',
    open: false,
    outcome: 'Reject',
    completed_by: 'Bob Manager',
    completed_at: '2025-03-02T10:00:00.000Z',
    comment: 'Too close to the release.',
    status_text: 'Rejected by Bob Manager',
  });
}
