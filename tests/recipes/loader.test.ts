import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProblem, loadDirectory, type Problem, parseDefinitionFile } from '../../src/recipes/loader.js';

const FIXTURES = new URL('../fixtures/recipes/', import.meta.url).pathname;
const RECIPES = new URL('../../recipes/', import.meta.url).pathname;

const lines = (problems: Problem[]) => problems.map((p) => `${p.line}: ${p.message}`);

const recipe = (steps: string, trigger = '{ type: new_request, app: leave }') =>
  `kind: recipe\nname: r\ntrigger: ${trigger}\nsteps:\n${steps}`;

describe('parseDefinitionFile', () => {
  it('reports a call to a function JSONata does not have at its line', () => {
    const text = [
      'kind: recipe',
      'name: typo',
      'trigger: { type: new_request, app: leave }',
      'steps:',
      '  - action: notify',
      '    to: "{{ request.requester }}"',
      '    text: "Filed {{ $formatDate(request.created_at) }}"',
    ].join('\n');
    const { problems } = parseDefinitionFile(text, 'typo.yaml');
    expect(problems.map(formatProblem)).toContainEqual(
      expect.stringMatching(/^typo\.yaml:7: steps\[0\]\.text: unknown function \$formatDate:/),
    );
  });

  it('accepts the example recipe and its app', async () => {
    for (const name of ['leave-example.yaml', 'leave-app.yaml']) {
      const text = await readFile(join(FIXTURES, name), 'utf8');
      const result = parseDefinitionFile(text, name);
      expect(result.problems).toEqual([]);
      expect(result.definition).toBeDefined();
    }
  });

  it('reports YAML syntax errors at their line', () => {
    const { problems, definition } = parseDefinitionFile(
      'kind: recipe\nname: x\nsteps:\n  - a: "unclosed\n',
      'x.yaml',
    );
    expect(definition).toBeUndefined();
    expect(problems[0]!.severity).toBe('error');
    expect(problems[0]!.message).toMatch(/^YAML: /);
    expect(problems[0]!.line).toBe(4);
    const dup = parseDefinitionFile('kind: app\nkey: a\nname: A\nkey: b\n', 'y.yaml').problems;
    expect(lines(dup)).toEqual(['4: YAML: Map keys must be unique']);
    const tab = parseDefinitionFile('kind: app\nkey: a\nstages: [A, B\nname: x\n', 'z.yaml').problems;
    expect(tab[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('reports an unknown key at the key, naming the allowed keys', () => {
    const text = recipe(`  - id: manager
    action: assign_task
    to: U1
    title: hi
    outcome: [Approve]
`);
    const { problems } = parseDefinitionFile(text, 'recipes/leave.yaml');
    expect(problems).toHaveLength(1);
    expect(formatProblem(problems[0]!)).toMatch(
      /^recipes\/leave\.yaml:9: steps\[0\]\.outcome: unknown key "outcome" \(did you mean "outcomes"\?\); allowed keys: .*outcomes/,
    );
    expect(problems[0]!.column).toBe(5);
  });

  it('reports a wrong type deep in a nested then at its line', () => {
    const text = recipe(`  - id: manager
    action: assign_task
    to: U1
    title: hi
  - if: "steps.manager.outcome = 'Approve'"
    then:
      - action: notify
        to: U1
        text: ok
      - if: "true"
        then:
          - action: assign_task
            to: U2
            title: second
            outcomes: Approve
`);
    const { problems } = parseDefinitionFile(text, 'recipes/leave.yaml');
    expect(lines(problems)).toEqual([
      '19: steps[1].then[1].then[0].outcomes: expected a list of outcome labels',
    ]);
  });

  it('reports bad JSONata at the line of the value', () => {
    const text = recipe(`  - action: notify
    to: "{{ request.requester }}"
    text: "Hello {{ requester.name & }}"
  - if: "record.days >> 5"
    then:
      - action: stop
`);
    const { problems } = parseDefinitionFile(text, 'r.yaml');
    expect(problems.map((p) => p.line)).toEqual([7, 8]);
    expect(problems[0]!.message).toMatch(/^steps\[0\]\.text: syntax error at position \d+/);
    expect(problems[1]!.message).toMatch(/^steps\[1\]\.if: syntax error/);
  });

  it('reports a bad duration at its line', () => {
    const text = recipe(`  - action: assign_task
    to: U1
    title: hi
    expires_in: 2 days
`);
    expect(lines(parseDefinitionFile(text, 'r.yaml').problems)).toEqual([
      '8: steps[0].expires_in: expected a duration: a whole number followed by s, m, h, d or w (did you mean "2d"?)',
    ]);
  });

  it('reports a missing key at the parent', () => {
    const text = recipe(`  - action: change_stage
  - action: notify
    to: U1
    text: hi
`);
    expect(lines(parseDefinitionFile(text, 'r.yaml').problems)).toEqual(['5: steps[0].stage: required']);
  });

  it('reports a missing or unknown kind', () => {
    expect(lines(parseDefinitionFile('name: x\n', 'a.yaml').problems)).toEqual([
      '1: kind: missing; expected kind: app or kind: recipe',
    ]);
    expect(lines(parseDefinitionFile('# c\nkind: workflow\n', 'a.yaml').problems)).toEqual([
      '2: kind: unknown kind "workflow"; expected app or recipe',
    ]);
    expect(lines(parseDefinitionFile('', 'a.yaml').problems)).toEqual(['1: the file is empty']);
    expect(lines(parseDefinitionFile('- a\n', 'a.yaml').problems)[0]).toMatch(/expected a mapping/);
  });

  it('reports app field problems at the field', () => {
    const text = `kind: app
key: leave
name: Leave
stages: [Submitted]
fields:
  - key: kind
    label: Kind
    type: text
    options: [a, b]
  - key: days
    label: Days
    type: number
    min: 5
    max: 1
`;
    expect(lines(parseDefinitionFile(text, 'a.yaml').problems)).toEqual([
      '9: fields[0].options: options are only allowed on select and multi_select fields, not text',
      '13: fields[1].min: min (5) is greater than max (1)',
    ]);
  });

  it('never throws on odd input', () => {
    for (const text of [
      'kind: recipe',
      'kind: recipe\nsteps: 5',
      '{',
      'kind: app\nfields: [1, [2]]',
      '*a',
      '\t-',
    ]) {
      expect(() => parseDefinitionFile(text, 'x.yaml')).not.toThrow();
      expect(parseDefinitionFile(text, 'x.yaml').problems.length).toBeGreaterThan(0);
    }
  });
});

describe('loadDirectory', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function write(files: Record<string, string>): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'baton-recipes-'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  }

  it('loads the shipped templates without problems', async () => {
    const result = await loadDirectory(RECIPES);
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.apps.map((a) => a.definition.key).sort()).toEqual([
      'access-request',
      'expense',
      'time-off',
    ]);
    expect(result.recipes.length).toBeGreaterThanOrEqual(3);
    const timeOff = result.apps.find((a) => a.definition.key === 'time-off')!;
    expect(timeOff.definition.id_prefix).toBe('PTO');
    expect(timeOff.source).toContain('kind: app');
  });

  it('loads the fixtures', async () => {
    const result = await loadDirectory(FIXTURES);
    expect(result.problems).toEqual([]);
    expect(result.recipes[0]!.definition.name).toBe('leave-approval');
  });

  it('runs the cross-file checks', async () => {
    const app =
      'kind: app\nkey: leave\nname: Leave\nstages: [Submitted, Approved]\nfields:\n  - { key: days, label: Days, type: number }\n';
    await write({
      'leave/app.yaml': app,
      'leave/copy.yml': app,
      'leave/a.yaml': recipe(`  - action: change_stage
    stage: Aproved
  - action: change_stage
    stage: "{{ true ? 'Approved' : 'Gone' }}"
  - action: update_record
    fields: { days: 3, weeks: 1 }
`),
      'leave/b.yaml': recipe('  - action: stop\n'),
      'other/c.yaml': recipe('  - action: stop\n', '{ type: stage_changed, app: nowhere, to: X }').replace(
        'name: r',
        'name: c',
      ),
      'notes.txt': 'ignored',
      'other/d.yaml': 'kind: page\n',
    });
    const result = await loadDirectory(dir);
    const out = result.problems.map((p) => formatProblem({ ...p, file: p.file.slice(dir.length + 1) }));
    expect(out).toEqual([
      'leave/a.yaml:6: steps[0].stage: app "leave" has no stage "Aproved": did you mean "Approved"? (stages: Submitted, Approved)',
      'leave/a.yaml:8: warning: steps[1].stage: app "leave" has no stage "Gone" (stages: Submitted, Approved)',
      'leave/a.yaml:10: steps[2].fields.weeks: app "leave" has no field "weeks"',
      `leave/b.yaml:2: name: duplicate recipe name "r" (also in ${join(dir, 'leave/a.yaml')})`,
      `leave/copy.yml:2: key: duplicate app key "leave" (also in ${join(dir, 'leave/app.yaml')})`,
      'other/c.yaml:3: warning: trigger.app: app "nowhere" is not defined in these files (it must exist in the store)',
      'other/d.yaml:1: kind: unknown kind "page"; expected app or recipe',
    ]);
    expect(result.apps).toHaveLength(1);
    expect(result.recipes.map((r) => r.file)).toEqual([join(dir, 'other/c.yaml')]);
  });

  it('checks stage_changed stages against the app', async () => {
    await write({
      'app.yaml': 'kind: app\nkey: leave\nname: Leave\nstages: [Submitted]\n',
      'r.yaml': recipe('  - action: stop\n', '{ type: stage_changed, app: leave, to: Done }'),
    });
    const result = await loadDirectory(dir);
    expect(lines(result.problems)).toEqual([
      '3: trigger.to: app "leave" has no stage "Done" (stages: Submitted)',
    ]);
  });

  it('reports a missing directory', async () => {
    const result = await loadDirectory('/nonexistent/baton-recipes');
    expect(result.problems[0]!.message).toBe('no such file or directory');
  });
});

describe('step references', () => {
  it('warns about steps.<id> naming no step', () => {
    const text = recipe(`  - id: manager
    action: assign_task
    to: U1
    title: hi
  - if: "steps.manger.outcome = 'Approve'"
    then:
      - action: notify
        to: U1
        text: "{{ steps.manager.comment }} {{ steps.hr.comment }}"
`);
    const { problems, definition } = parseDefinitionFile(text, 'r.yaml');
    expect(definition).toBeDefined();
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '9: warning: steps[1].if: no step has id "manger" (did you mean "manager"?); step ids: manager',
      '13: warning: steps[1].then[0].text: no step has id "hr"; step ids: manager',
    ]);
  });
});

describe('quorum', () => {
  it('accepts quorum modes on group tasks, and warns that a task for one person is decided by their answer', () => {
    const text = recipe(`  - id: hr
    action: assign_task
    to: group:hr
    title: hi
    quorum: { mode: any }
  - if: "steps.hr.outcome = 'Approve'"
    then:
      - id: board
        action: assign_task
        to: group:board
        title: all of you
        quorum: { mode: all }
      - id: ceo
        action: assign_task
        to: ceo@example.com
        title: you
        quorum: { mode: count, count: 2 }
`);
    const { problems, definition } = parseDefinitionFile(text, 'r.yaml');
    expect(definition).toBeDefined();
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      `21: warning: steps[1].then[1].quorum.mode: quorum mode "count" counts the answers of a group's members: this task is for one person, whose answer decides it (assign it to group:<name>)`,
    ]);
  });
});
