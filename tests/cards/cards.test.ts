// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Adaptive Card bindings are literal ${...} strings
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AdaptiveCardJson,
  CardError,
  type CardJsonObject,
  defaultCardsDir,
  loadCards,
  parseCard,
} from '../../adapters/cards/cards.js';
import { closedTask, openTask, requestView } from './fixtures.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cards = loadCards();

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempCards(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cards-'));
  temps.push(dir);
  for (const [name, json] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof json === 'string' ? json : JSON.stringify(json));
  }
  return dir;
}

function byType(card: AdaptiveCardJson, type: string): CardJsonObject[] {
  return (card.body ?? []).filter((e) => e.type === type);
}

function texts(card: AdaptiveCardJson): string[] {
  return byType(card, 'TextBlock').map((e) => String(e.text));
}

describe('cards/ templates', () => {
  it('loads every *.json in cards/ from the default folder', () => {
    expect(cards.dir).toBe(join(repo, 'cards'));
    expect(defaultCardsDir()).toBe(join(repo, 'cards'));
    const files = readdirSync(join(repo, 'cards'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
    expect(cards.names()).toEqual(files);
    expect(cards.names()).toEqual(expect.arrayContaining(['notification', 'request', 'task']));
  });

  it('every card parses with the adaptivecards object model without errors, bindings compile, Block Kit shows all', () => {
    expect(cards.problems).toEqual([]);
  });

  it('rendered cards parse without errors too', () => {
    const rendered: [string, AdaptiveCardJson][] = [
      [
        'task',
        cards.render('task', { ...openTask(), actionable: true, url: 'https://baton.example/r/PTO-42' }),
      ],
      ['task', cards.render('task', { ...closedTask(), actionable: true })],
      ['notification', cards.render('notification', { text: 'Hello', request: requestView() })],
      ['request', cards.render('request', requestView())],
    ];
    for (const [name, card] of rendered) {
      expect(parseCard(name, card).filter((p) => p.severity === 'error')).toEqual([]);
      expect(JSON.stringify(card)).not.toContain('${');
    }
  });

  it('unknown card names fail with a clear error', () => {
    expect(() => cards.render('nope', {})).toThrow(CardError);
    expect(() => cards.render('nope', {})).toThrow(/No card named "nope".*Known cards: .*task/);
    expect(() => cards.template('nope')).toThrow(/No card named "nope"/);
    expect(cards.has('task')).toBe(true);
    expect(cards.has('nope')).toBe(false);
  });
});

describe('task card', () => {
  it('open and actionable: comment input and one Action.Execute per outcome carrying only task_id and outcome', () => {
    const card = cards.render('task', { ...openTask(), actionable: true });
    expect(texts(card)).toEqual(
      expect.arrayContaining([
        'PTO-42 · Time off',
        'Approve time off for Ada',
        'Check the team calendar first.',
        'Requested by Ada Lovelace · Stage: Submitted',
        'Expires {{DATE(2025-03-04T09:00:00Z, SHORT)}} at {{TIME(2025-03-04T09:00:00Z)}}',
      ]),
    );
    expect(byType(card, 'FactSet')[0]?.facts).toEqual([
      { title: 'Days', value: '3' },
      { title: 'Reason', value: 'Family trip' },
    ]);
    const inputs = byType(card, 'Input.Text');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({ id: 'comment', isMultiline: true, label: 'Comment' });

    const actions = card.actions ?? [];
    expect(actions.map((a) => a.type)).toEqual(['Action.Execute', 'Action.Execute']);
    expect(actions.map((a) => a.title)).toEqual(['Approve', 'Reject']);
    for (const action of actions) {
      expect(action.verb).toBe('task.complete');
      expect(Object.keys(action.data as object).sort()).toEqual(['outcome', 'task_id']);
    }
    expect(actions.map((a) => a.data)).toEqual([
      { task_id: 'tsk_123', outcome: 'Approve' },
      { task_id: 'tsk_123', outcome: 'Reject' },
    ]);
    expect(actions.map((a) => a.style)).toEqual(['positive', 'destructive']);
    expect(actions.map((a) => a['x-baton-inputs'])).toEqual(['optional', 'required']);
  });

  it('no comment input when no outcome requires one; task inputs become Input.Text', () => {
    const view = openTask({
      outcomes: [
        { label: 'Done', style: 'default', comment: 'optional' },
        { label: 'Skip', style: 'default', comment: 'optional' },
      ],
      inputs: [{ id: 'po_number', label: 'PO number', type: 'text', required_for: ['Done'] }],
    });
    const card = cards.render('task', { ...view, actionable: true });
    const inputs = byType(card, 'Input.Text');
    expect(inputs).toEqual([
      expect.objectContaining({ id: 'po_number', label: 'PO number', isMultiline: false }),
    ]);
    expect((card.actions ?? []).map((a) => a.style)).toEqual(['default', 'default']);
    expect((card.actions ?? []).map((a) => a['x-baton-inputs'])).toEqual(['required', 'optional']);
  });

  it('open but not actionable (someone else is looking): no inputs, no actions', () => {
    const card = cards.render('task', { ...openTask(), actionable: false });
    expect(byType(card, 'Input.Text')).toEqual([]);
    expect(card.actions ?? []).toEqual([]);
  });

  it('adds a link to the request when url is set', () => {
    const card = cards.render('task', {
      ...openTask(),
      actionable: true,
      url: 'https://baton.example/r/PTO-42',
    });
    expect(card.actions?.at(-1)).toEqual({
      type: 'Action.OpenUrl',
      title: 'View request',
      url: 'https://baton.example/r/PTO-42',
    });
  });

  it('closed: status line, completion time and comment, no inputs and no Execute actions', () => {
    const card = cards.render('task', { ...closedTask(), actionable: true });
    expect(texts(card)).toEqual(
      expect.arrayContaining([
        'Rejected by Bob Manager',
        'Closed {{DATE(2025-03-02T10:00:00Z, SHORT)}} at {{TIME(2025-03-02T10:00:00Z)}}',
        'Comment: Too close to the release.',
      ]),
    );
    expect(texts(card).some((t) => t.startsWith('Expires'))).toBe(false);
    expect(byType(card, 'Input.Text')).toEqual([]);
    expect(card.actions ?? []).toEqual([]);
  });

  it('binds data as data: a ${...} typed by a user stays literal', () => {
    const view = openTask({ title: '${$root.task.id} <script>&' });
    view.request.fields = [{ key: 'x', label: '${task.id}', value: '${string(1+1)}' }];
    const card = cards.render('task', { ...view, actionable: true });
    expect(texts(card)).toContain('${$root.task.id} <script>&');
    expect(byType(card, 'FactSet')[0]?.facts).toEqual([{ title: '${task.id}', value: '${string(1+1)}' }]);
  });

  it('returns a fresh copy on every render (the cached template is not shared)', () => {
    const data = { ...openTask(), actionable: true };
    const first = cards.render('task', data);
    (first.body as CardJsonObject[])[1]!.text = 'changed';
    (first.actions as CardJsonObject[])[0]!.data = { hacked: true };
    const second = cards.render('task', data);
    expect(texts(second)).toContain('Approve time off for Ada');
    expect(second.actions?.[0]?.data).toEqual({ task_id: 'tsk_123', outcome: 'Approve' });
    expect(cards.template('task')).toEqual(JSON.parse(readFileSync(join(repo, 'cards/task.json'), 'utf8')));
  });
});

describe('notification and request cards', () => {
  it('notification: text, with the request line only when a request is given', () => {
    const bare = cards.render('notification', { text: 'Your request was approved.' });
    expect(texts(bare)).toEqual(['Your request was approved.']);
    expect(bare.actions ?? []).toEqual([]);
    const withRequest = cards.render('notification', { text: 'Approved.', request: requestView() });
    expect(texts(withRequest)).toEqual(['Approved.', 'PTO-42 · Time off · Stage: Submitted']);
  });

  it('request: id, app, stage, requester and fields', () => {
    const card = cards.render('request', requestView());
    expect(texts(card)).toEqual(['Time off', 'PTO-42']);
    const [meta, fields] = byType(card, 'FactSet');
    expect(meta?.facts).toEqual([
      { title: 'Stage', value: 'Submitted' },
      { title: 'Requested by', value: 'Ada Lovelace' },
      { title: 'Filed', value: '{{DATE(2025-03-01T09:00:00Z, SHORT)}}' },
    ]);
    expect(fields?.facts).toEqual([
      { title: 'Days', value: '3' },
      { title: 'Reason', value: 'Family trip' },
    ]);
    const empty = cards.render('request', requestView({ fields: [] }));
    expect(byType(empty, 'FactSet')).toHaveLength(1);
  });
});

describe('loading problems', () => {
  const card = (body: unknown[], actions: unknown[] = []) => ({
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    actions,
  });

  it('reports parse errors, broken bindings and what Block Kit cannot show, per card, and logs them', () => {
    const dir = tempCards({
      'bad.json': card([
        { type: 'TextBlock', text: 'hi' },
        { type: 'Bogus' },
        { type: 'TextBlock', text: '${foo(}' },
      ]),
      'lossy.json': card(
        [
          { type: 'Input.ChoiceSet', id: 'c', choices: [{ title: 'a', value: 'a' }] },
          {
            type: 'Container',
            items: [{ type: 'Media', sources: [{ url: 'https://x/y.mp4', mimeType: 'video/mp4' }] }],
          },
        ],
        [{ type: 'Action.ShowCard', title: 'More', card: { type: 'AdaptiveCard', body: [] } }],
      ),
      'fine.json': card([{ type: 'TextBlock', text: '${string(text)}' }]),
      'README.md': 'not a card',
    });
    const warnings: { obj: object; msg: string }[] = [];
    const lib = loadCards(dir, { logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
    expect(lib.names()).toEqual(['bad', 'fine', 'lossy']);
    const of = (name: string) => lib.problems.filter((p) => p.card === name);
    expect(of('fine')).toEqual([]);
    expect(of('bad')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'parse',
          severity: 'error',
          message: expect.stringMatching(/Bogus/),
        }),
        expect.objectContaining({
          kind: 'binding',
          severity: 'error',
          message: expect.stringContaining('body[2].text'),
        }),
        expect.objectContaining({ kind: 'blockkit', message: expect.stringMatching(/^body\[1\]: Bogus/) }),
      ]),
    );
    const lossy = of('lossy')
      .filter((p) => p.kind === 'blockkit')
      .map((p) => p.message);
    expect(lossy).toEqual([
      expect.stringMatching(/^body\[0\]: Input\.ChoiceSet is not supported/),
      expect.stringMatching(/^body\[1\]\.items\[0\]: Media is not supported/),
      expect.stringMatching(/^actions\[0\]: Action\.ShowCard is not supported/),
    ]);
    expect(warnings).toHaveLength(lib.problems.length);
    expect(warnings[0]?.obj).toMatchObject({ card: 'bad' });
    // the other cards still render; the one with a broken binding says why it cannot
    expect(lib.render('fine', { text: 'ok' }).body).toEqual([{ type: 'TextBlock', text: 'ok' }]);
    expect(() => lib.render('bad', {})).toThrow(/Card bad has bindings that do not compile/);
  });

  it('a file that is not JSON or not an AdaptiveCard stops loading, naming the file', () => {
    expect(() => loadCards(tempCards({ 'broken.json': '{ "type": ' }))).toThrow(
      /Card broken .*not valid JSON/,
    );
    expect(() => loadCards(tempCards({ 'other.json': { type: 'Message' } }))).toThrow(
      /Card other .*not an Adaptive Card/,
    );
    expect(() => loadCards(join(tmpdir(), 'baton-no-such-cards-dir'))).toThrow(
      /Cannot read the cards folder/,
    );
  });

  it('render errors name the card', () => {
    const lib = loadCards(tempCards({ 'x.json': card([{ type: 'TextBlock', text: '${string(a.b.c())}' }]) }));
    expect(() => lib.render('x', {})).toThrow(/Card x could not be rendered/);
  });
});

describe('plain node (compiled output)', () => {
  it('loads adaptivecards from its bundle and renders and translates a card without tsx', () => {
    // Transpile the two modules next to node_modules (so bare imports resolve) and run them with plain node.
    const out = join(repo, 'node_modules', '.cache', `baton-cards-plain-node-${process.pid}`);
    temps.push(out);
    for (const file of [
      'adapters/cards/cards.ts',
      'adapters/cards/fast-bindings.ts',
      'adapters/slack/blockkit.ts',
    ]) {
      const { outputText } = ts.transpileModule(readFileSync(join(repo, file), 'utf8'), {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      });
      const target = join(out, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    const script = `
      import { loadCards } from './adapters/cards/cards.js';
      import { toBlockKit } from './adapters/slack/blockkit.js';
      const lib = loadCards(${JSON.stringify(join(repo, 'cards'))});
      const data = JSON.parse(process.argv[2]);
      const card = lib.render('task', data);
      const message = toBlockKit(card);
      console.log(JSON.stringify({ problems: lib.problems, types: message.blocks.map((b) => b.type) }));
    `;
    writeFileSync(join(out, 'run.mjs'), script);
    const stdout = execFileSync(
      process.execPath,
      [join(out, 'run.mjs'), JSON.stringify({ ...openTask(), actionable: true })],
      {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    const result = JSON.parse(stdout) as { problems: unknown[]; types: string[] };
    expect(result.problems).toEqual([]);
    expect(result.types).toContain('actions');
  });
});
