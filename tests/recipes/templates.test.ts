/**
 * Walks the shipped recipes with a tiny interpreter (conditions, stages, notifications, tasks)
 * to check that their logic does what the pack promises, and checks them against the JSON Schema.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluateCondition, renderTemplate } from '../../src/recipes/expressions.js';
import { generateJsonSchema } from '../../src/recipes/json-schema.js';
import { type Loaded, loadDirectory } from '../../src/recipes/loader.js';
import { isConditionalStep, type RecipeDefinition, type Step } from '../../src/recipes/schema.js';

const ROOT = new URL('../../', import.meta.url).pathname;

type Decision = { outcome?: string; status?: 'completed' | 'expired'; comment?: string };

interface Trace {
  stages: string[];
  tasks: { id: string; to: unknown; expires_in?: string | undefined }[];
  notes: string[];
  stopped: boolean;
}

/** Runs a recipe, answering each task from `decisions` (by step id). */
async function run(
  recipe: RecipeDefinition,
  record: Record<string, unknown>,
  decisions: Record<string, Decision>,
) {
  const ctx = {
    record,
    request: { id: 'X-1', app: recipe.trigger.app, stage: 'Submitted', requester: 'U9', created_at: '' },
    requester: { id: 'U9', name: 'Ann', email: 'ann@example.com' },
    steps: {} as Record<string, unknown>,
    trigger: { type: recipe.trigger.type },
    now: '2025-01-01T00:00:00Z',
  };
  const trace: Trace = { stages: [], tasks: [], notes: [], stopped: false };
  const exec = async (steps: Step[]): Promise<void> => {
    for (const step of steps) {
      if (trace.stopped) return;
      if (isConditionalStep(step)) {
        if (await evaluateCondition(step.if, ctx)) await exec(step.then);
        else if (step.else) await exec(step.else);
        continue;
      }
      switch (step.action) {
        case 'assign_task': {
          const id = step.id!;
          const d = decisions[id] ?? { status: 'expired' };
          trace.tasks.push({
            id,
            to: await renderTemplate(step.to as string, ctx),
            expires_in: step.expires_in,
          });
          ctx.steps[id] = {
            status: d.status ?? 'completed',
            outcome: d.outcome ?? null,
            comment: d.comment ?? null,
            completed_by: d.outcome ? 'U1' : null,
            inputs: {},
            completed_at: null,
          };
          break;
        }
        case 'change_stage':
          trace.stages.push(String(await renderTemplate(step.stage, ctx)));
          break;
        case 'notify':
          trace.notes.push(
            `${await renderTemplate(step.to as string, ctx)}: ${await renderTemplate(step.text!, ctx)}`,
          );
          break;
        case 'stop':
          trace.stopped = true;
          break;
        default:
          break;
      }
    }
  };
  await exec(recipe.steps);
  return trace;
}

let recipes: Loaded<RecipeDefinition>[];
const recipe = (name: string) => recipes.find((r) => r.definition.name === name)!.definition;

beforeAll(async () => {
  const loaded = await loadDirectory(join(ROOT, 'recipes'));
  expect(loaded.problems).toEqual([]);
  recipes = loaded.recipes;
});

describe('time-off', () => {
  const r = { type: 'Vacation', start: '2025-03-03', days: 3, approver: 'U2', reason: 'rest' };
  it('needs only the manager for up to 5 days', async () => {
    const t = await run(recipe('time-off-approval'), r, { manager: { outcome: 'Approve' } });
    expect(t.tasks).toEqual([{ id: 'manager', to: 'U2', expires_in: '2d' }]);
    expect(t.stages).toEqual(['Approved']);
    expect(t.notes[0]).toMatch(/^U9: Your time off X-1 .* was approved/);
  });
  it('chains HR for more than 5 days', async () => {
    const t = await run(
      recipe('time-off-approval'),
      { ...r, days: 8 },
      {
        manager: { outcome: 'Approve' },
        hr: { outcome: 'Approve' },
      },
    );
    expect(t.tasks.map((x) => x.to)).toEqual(['U2', 'group:hr']);
    expect(t.stages).toEqual(['Manager approved', 'Approved']);
  });
  it('reports rejection with the comment, and expiry', async () => {
    const rejected = await run(recipe('time-off-approval'), r, {
      manager: { outcome: 'Reject', comment: 'busy week' },
    });
    expect(rejected.stages).toEqual(['Rejected']);
    expect(rejected.notes).toEqual(['U9: Your time off X-1 was rejected: busy week']);
    const expired = await run(recipe('time-off-approval'), r, {});
    expect(expired.stages).toEqual(['Expired']);
    expect(expired.notes[0]).toMatch(/expired/);
    const hrExpired = await run(
      recipe('time-off-approval'),
      { ...r, days: 10 },
      { manager: { outcome: 'Approve' } },
    );
    expect(hrExpired.stages).toEqual(['Manager approved', 'Expired']);
  });
});

describe('expense', () => {
  const r = { amount: 50, currency: 'EUR', category: 'meals', description: 'lunch', approver: 'U2' };
  const yes = { outcome: 'Approve' };
  it.each([
    [50, ['manager']],
    [1000, ['manager', 'finance']],
    [25000, ['manager', 'finance', 'directors']],
  ])('routes %d to %j', async (amount, tasks) => {
    const t = await run(
      recipe('expense-approval'),
      { ...r, amount },
      { manager: yes, finance: yes, directors: yes },
    );
    expect(t.tasks.map((x) => x.id)).toEqual(tasks);
    expect(t.stages.at(-1)).toBe('Approved');
  });
  it('stops at the first rejection or expiry', async () => {
    const rejected = await run(
      recipe('expense-approval'),
      { ...r, amount: 5000 },
      {
        manager: yes,
        finance: { outcome: 'Reject', comment: 'no receipt' },
      },
    );
    expect(rejected.stages).toEqual(['Manager approved', 'Rejected']);
    expect(rejected.notes).toEqual(['U9: Finance rejected your expense X-1: no receipt']);
    const expired = await run(recipe('expense-approval'), r, {});
    expect(expired.stages).toEqual(['Expired']);
    expect(expired.tasks).toHaveLength(1);
  });
});

describe('access-request', () => {
  const r = { system: 'GitHub', access_level: 'write', justification: 'deploys', needed_by: '2025-02-01' };
  it('lets the IT group decide once, and expires after a day', async () => {
    const a = recipe('access-request-approval');
    const task = a.steps[0]!;
    expect(task).toMatchObject({ to: 'group:it', quorum: { mode: 'any' }, expires_in: '1d' });
    expect(task).toMatchObject({
      outcomes: ['Approve', { label: 'Reject', style: 'danger', comment: 'required' }],
    });
    expect((await run(a, r, { it: { outcome: 'Approve' } })).stages).toEqual(['Approved']);
    expect((await run(a, r, { it: { outcome: 'Reject', comment: 'no' } })).notes[0]).toMatch(/rejected: no$/);
    expect((await run(a, r, {})).stages).toEqual(['Expired']);
  });
});

describe('JSON Schema', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(generateJsonSchema());
  it('accepts every shipped file and the example', async () => {
    const files = [
      ...['time-off/app.yaml', 'time-off/approval.yaml', 'time-off/cancelled.yaml'],
      ...[
        'expense/app.yaml',
        'expense/approval.yaml',
        'access-request/app.yaml',
        'access-request/approval.yaml',
      ],
    ].map((f) => join(ROOT, 'recipes', f));
    files.push(
      join(ROOT, 'tests/fixtures/recipes/leave-example.yaml'),
      join(ROOT, 'tests/fixtures/recipes/leave-app.yaml'),
    );
    for (const file of files) {
      const ok = validate(parse(await readFile(file, 'utf8')));
      expect(ok, `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
  it('rejects a typo', () => {
    const bad = {
      kind: 'recipe',
      name: 'x',
      trigger: { type: 'new_request', app: 'a' },
      steps: [{ action: 'assign_task', to: 'U1', title: 't', outcome: ['A'] }],
    };
    expect(validate(bad)).toBe(false);
  });
});
