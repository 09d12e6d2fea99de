// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Adaptive Card bindings are literal ${...} strings
import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { type AdaptiveCardJson, loadCards } from '../../adapters/cards/cards.js';
import {
  checkBlockKitSupport,
  escapeMrkdwn,
  SLACK_LIMITS,
  toBlockKit,
  truncate,
} from '../../adapters/slack/blockkit.js';
import { closedTask, openTask, requestView } from './fixtures.js';

const cards = loadCards();

function buttons(blocks: KnownBlock[]): Button[] {
  return blocks
    .filter((b): b is ActionsBlock => b.type === 'actions')
    .flatMap((b) => b.elements)
    .filter((e): e is Button => e.type === 'button');
}

function sections(blocks: KnownBlock[]): SectionBlock[] {
  return blocks.filter((b): b is SectionBlock => b.type === 'section');
}

/** Every string in the blocks against Slack's limits. */
function assertWithinLimits(blocks: KnownBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of blocks) {
    if (block.type === 'section') {
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
      for (const field of block.fields ?? [])
        expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.field);
      expect((block.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
      expect(block.text || block.fields?.length).toBeTruthy();
    }
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.header);
    if (block.type === 'context') {
      for (const e of block.elements)
        if ('text' in e) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    }
    if (block.type === 'actions') {
      expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonsPerActions);
      for (const b of block.elements) {
        if (b.type !== 'button') continue;
        expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
        expect((b.value ?? '').length).toBeLessThanOrEqual(SLACK_LIMITS.buttonValue);
      }
    }
  }
}

describe('task card → Block Kit', () => {
  it('open task: context, header, sections, fields and one button per outcome', () => {
    const message = toBlockKit(
      cards.render('task', { ...openTask(), actionable: true, url: 'https://baton.example/r/PTO-42' }),
    );
    expect(message.blocks.map((b) => b.type)).toEqual([
      'context', // PTO-42 · Time off
      'header', // title
      'section', // instructions
      'section', // fields
      'context', // requester, stage
      'context', // expiry
      'actions',
    ]);
    expect(message.blocks[1]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Approve time off for Ada', emoji: true },
    });
    expect(sections(message.blocks)[1]?.fields).toEqual([
      { type: 'mrkdwn', text: '*Days*\n3' },
      { type: 'mrkdwn', text: '*Reason*\nFamily trip' },
    ]);
    const expiry = message.blocks[5];
    expect(expiry?.type === 'context' && 'text' in expiry.elements[0]! && expiry.elements[0].text).toBe(
      'Expires <!date^1741078800^{date_short_pretty}|2025-03-04> at <!date^1741078800^{time}|09:00 UTC>',
    );

    const [approve, reject, link] = buttons(message.blocks);
    expect(approve).toMatchObject({
      action_id: 'baton:task.complete:0',
      style: 'primary',
      text: { text: 'Approve' },
    });
    expect(reject).toMatchObject({
      action_id: 'baton:task.complete:1',
      style: 'danger',
      text: { text: 'Reject' },
    });
    // Only the data the template put there: the task id and the outcome. Reject needs the comment → modal.
    expect(JSON.parse(approve!.value!)).toEqual({ task_id: 'tsk_123', outcome: 'Approve' });
    expect(JSON.parse(reject!.value!)).toEqual({ task_id: 'tsk_123', outcome: 'Reject', needs_input: true });
    expect(link).toEqual({
      type: 'button',
      text: { type: 'plain_text', text: 'View request', emoji: true },
      url: 'https://baton.example/r/PTO-42',
      action_id: 'baton:open_url:2',
    });
    expect(link).not.toHaveProperty('value');

    // The comment input is not in the message: it is reported, for the modal.
    expect(message.inputs).toEqual([
      expect.objectContaining({
        id: 'comment',
        label: 'Comment',
        isMultiline: true,
        placeholder: 'Required for: Reject',
      }),
    ]);
    expect(message.warnings).toEqual([]);
    expect(message.text).toBe('PTO-42 · Time off\nApprove time off for Ada\nCheck the team calendar first.');
  });

  it('a task input required for an outcome marks that outcome; others complete in one click', () => {
    const view = openTask({
      outcomes: [
        { label: 'Done', style: 'primary', comment: 'optional' },
        { label: 'Cannot do', style: 'default', comment: 'optional' },
      ],
      inputs: [{ id: 'po', label: 'PO number', type: 'text', required_for: ['Done'] }],
    });
    const message = toBlockKit(cards.render('task', { ...view, actionable: true }));
    const [done, cannot] = buttons(message.blocks);
    expect(JSON.parse(done!.value!)).toEqual({ task_id: 'tsk_123', outcome: 'Done', needs_input: true });
    expect(JSON.parse(cannot!.value!)).toEqual({ task_id: 'tsk_123', outcome: 'Cannot do' });
    expect(cannot).not.toHaveProperty('style');
    expect(message.inputs.map((i) => i.id)).toEqual(['po']);
  });

  it('no inputs in the card: no button is marked', () => {
    const view = openTask({ outcomes: [{ label: 'Approve', style: 'primary', comment: 'optional' }] });
    const message = toBlockKit(cards.render('task', { ...view, actionable: true }));
    expect(buttons(message.blocks).map((b) => JSON.parse(b.value!))).toEqual([
      { task_id: 'tsk_123', outcome: 'Approve' },
    ]);
    expect(message.inputs).toEqual([]);
  });

  it('closed task: status line, no actions', () => {
    const message = toBlockKit(cards.render('task', { ...closedTask(), actionable: true }));
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    const mrkdwn = JSON.stringify(message.blocks);
    expect(mrkdwn).toContain('*Rejected by Bob Manager*');
    expect(mrkdwn).toContain('Comment: Too close to the release.');
    expect(message.inputs).toEqual([]);
  });

  it('escapes &, < and > in bound text (no mentions, no forged links) everywhere', () => {
    const view = openTask({
      title: 'Fix <script>&',
      instructions: '<!channel> see <https://evil.example|bank> & more',
    });
    view.request.fields = [{ key: 'x', label: 'A<b>', value: '<script>&amp;' }];
    view.request.requester_name = 'Eve <@U123>';
    const message = toBlockKit(cards.render('task', { ...view, actionable: true }));
    const mrkdwn = JSON.stringify(message.blocks.filter((b) => b.type !== 'header'));
    expect(mrkdwn).not.toMatch(/<script>|<!channel>|<https:\/\/evil|<@U123>/);
    expect(mrkdwn).toContain('Requested by Eve &lt;@U123&gt;');
    expect(sections(message.blocks)[0]?.text?.text).toBe(
      '&lt;!channel&gt; see &lt;https://evil.example|bank&gt; &amp; more',
    );
    expect(sections(message.blocks)[1]?.fields).toEqual([
      { type: 'mrkdwn', text: '*A&lt;b&gt;*\n&lt;script&gt;&amp;amp;' },
    ]);
    // the header is plain_text: shown literally by Slack, no escaping needed
    expect(message.blocks[1]).toMatchObject({
      type: 'header',
      text: { type: 'plain_text', text: 'Fix <script>&' },
    });
    expect(message.text).toBe(
      'PTO-42 · Time off\nFix &lt;script&gt;&amp;\n&lt;!channel&gt; see &lt;https://evil.example|bank&gt; &amp; more',
    );
  });

  it('limits: a 60-field request and a 5000-character instruction are truncated, never rejected', () => {
    const view = openTask({ instructions: 'x'.repeat(5000), title: 'T'.repeat(400) });
    view.request.fields = Array.from({ length: 60 }, (_, i) => ({
      key: `f${i}`,
      label: `Field ${i}`,
      value: i === 7 ? 'v'.repeat(2500) : `value ${i}`,
    }));
    view.task.outcomes = [
      { label: 'A'.repeat(120), style: 'primary', comment: 'optional' },
      { label: 'Reject', style: 'danger', comment: 'required' },
    ];
    const message = toBlockKit(cards.render('task', { ...view, actionable: true }));
    assertWithinLimits(message.blocks);
    const instructions = sections(message.blocks)[0]?.text?.text ?? '';
    expect(instructions).toHaveLength(SLACK_LIMITS.text);
    expect(instructions.endsWith('…')).toBe(true);
    const fieldSections = sections(message.blocks).filter((s) => s.fields);
    expect(fieldSections.map((s) => s.fields?.length)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(fieldSections.flatMap((s) => s.fields ?? []).map((f) => f.text.split('\n')[0])).toEqual(
      view.request.fields.map((f) => `*${f.label}*`),
    );
    expect(fieldSections[0]?.fields?.[7]?.text).toHaveLength(SLACK_LIMITS.field);
    const [a] = buttons(message.blocks);
    expect(a?.text.text).toHaveLength(SLACK_LIMITS.buttonText);
    expect(a?.text.text.endsWith('…')).toBe(true);
    expect(JSON.parse(a!.value!)).toEqual({ task_id: 'tsk_123', outcome: 'A'.repeat(120) });
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });

  it('more than 50 blocks: content is cut with a note, the buttons survive', () => {
    const body = Array.from({ length: 80 }, (_, i) => ({ type: 'TextBlock', text: `line ${i}` }));
    const card: AdaptiveCardJson = {
      type: 'AdaptiveCard',
      version: '1.5',
      body,
      actions: [
        { type: 'Action.Execute', title: 'Go', verb: 'task.complete', data: { task_id: 't', outcome: 'Go' } },
      ],
    };
    const message = toBlockKit(card);
    expect(message.blocks).toHaveLength(50);
    expect(message.blocks.at(-1)?.type).toBe('actions');
    expect(message.blocks.at(-2)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '… 32 more blocks not shown in Slack' }],
    });
    expect(message.warnings).toEqual([
      expect.stringMatching(/81 blocks; Slack shows at most 50: 32 left out/),
    ]);
  });
});

describe('notification and request cards → Block Kit', () => {
  it('notification: one section, a context line for the request, text fallback', () => {
    const message = toBlockKit(
      cards.render('notification', {
        text: 'Your request <PTO-42> was approved & filed',
        request: requestView(),
      }),
    );
    expect(message.blocks).toEqual([
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 'Your request &lt;PTO-42&gt; was approved &amp; filed' },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'PTO-42 · Time off · Stage: Submitted' }] },
    ]);
    expect(message.text).toBe(
      'Your request &lt;PTO-42&gt; was approved &amp; filed\nPTO-42 · Time off · Stage: Submitted',
    );
    expect(toBlockKit(cards.render('notification', { text: 'x' }), { text: 'Override <b>' }).text).toBe(
      'Override &lt;b&gt;',
    );
  });

  it('notification: a very long text is truncated in the block and the fallback', () => {
    const message = toBlockKit(cards.render('notification', { text: 'n'.repeat(10_000) }));
    assertWithinLimits(message.blocks);
    expect(message.text).toHaveLength(SLACK_LIMITS.fallbackText);
  });

  it('request: context, header, facts (with a Slack date), fields', () => {
    const message = toBlockKit(cards.render('request', requestView()));
    expect(message.blocks.map((b) => b.type)).toEqual(['context', 'header', 'section', 'section']);
    expect(sections(message.blocks)[0]?.fields?.map((f) => f.text)).toEqual([
      '*Stage*\nSubmitted',
      '*Requested by*\nAda Lovelace',
      '*Filed*\n<!date^1740819600^{date_short_pretty}|2025-03-01>',
    ]);
    expect(buttons(message.blocks)).toEqual([]);
  });
});

describe('the rest of the subset', () => {
  it('flattens containers and columns; images; rich text; ActionSet in place; Submit; markdown', () => {
    const card: AdaptiveCardJson = {
      type: 'AdaptiveCard',
      version: '1.5',
      body: [
        {
          type: 'ColumnSet',
          columns: [
            {
              type: 'Column',
              items: [{ type: 'TextBlock', text: 'Left **bold** [docs](https://docs.example/a?b=1&c=2)' }],
            },
            {
              type: 'Column',
              items: [{ type: 'Container', items: [{ type: 'TextBlock', text: 'Right', size: 'Medium' }] }],
            },
          ],
        },
        { type: 'Image', url: 'https://img.example/x.png', altText: 'X' },
        { type: 'Image', url: 'data:image/png;base64,AAAA' },
        {
          type: 'RichTextBlock',
          inlines: [
            'plain ',
            { type: 'TextRun', text: 'bold', weight: 'Bolder' },
            ' ',
            { type: 'TextRun', text: 'it', italic: true },
          ],
        },
        { type: 'TextBlock', text: 'hidden', isVisible: false },
        { type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'Send', data: { x: 1 } }] },
        { type: 'Input.ChoiceSet', id: 'c', choices: [] },
      ],
      actions: [
        { type: 'Action.ShowCard', title: 'More', card: { type: 'AdaptiveCard' } },
        { type: 'Action.OpenUrl', title: 'Bad', url: 'javascript:alert(1)' },
      ],
    };
    const message = toBlockKit(card);
    expect(message.blocks).toEqual([
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 'Left *bold* <https://docs.example/a?b=1&amp;c=2|docs>' },
      },
      { type: 'section', text: { type: 'mrkdwn', text: '*Right*' } },
      { type: 'image', image_url: 'https://img.example/x.png', alt_text: 'X' },
      { type: 'section', text: { type: 'mrkdwn', text: 'plain *bold* _it_' } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Send', emoji: true },
            action_id: 'baton:submit:0',
            value: '{"x":1}',
          },
        ],
      },
    ]);
    expect(message.warnings).toEqual([
      'body[2]: Image without an http(s) URL Slack can fetch; left out',
      'body[6]: Input.ChoiceSet is not supported in Block Kit; left out',
      'actions[0]: Action.ShowCard is not supported in Block Kit; left out',
      'actions[1]: Action.OpenUrl without a usable http(s) URL (at most 3000 characters) left out',
    ]);
  });

  it('associatedInputs "none" keeps a button one-click; an oversized value drops the button with a warning', () => {
    const card: AdaptiveCardJson = {
      type: 'AdaptiveCard',
      body: [{ type: 'Input.Text', id: 'note', label: 'Note', isRequired: true }],
      actions: [
        { type: 'Action.Execute', title: 'Quick', verb: 'v', data: { a: 1 }, associatedInputs: 'none' },
        { type: 'Action.Execute', title: 'With note', verb: 'v', data: 'raw' },
        { type: 'Action.Execute', title: 'Huge', verb: 'v', data: { blob: 'z'.repeat(3000) } },
      ],
    };
    const message = toBlockKit(card);
    expect(buttons(message.blocks).map((b) => [b.action_id, JSON.parse(b.value!)])).toEqual([
      ['baton:v:0', { a: 1 }],
      ['baton:v:1', { data: 'raw', needs_input: true }],
    ]);
    expect(message.inputs).toEqual([
      expect.objectContaining({ id: 'note', isRequired: true, isMultiline: false }),
    ]);
    expect(message.warnings).toEqual([
      expect.stringMatching(/^actions\[2\]: the data of "Huge" is \d+ characters/),
    ]);
  });

  it('mentions: known names become <@id> in mrkdwn, not in headers; bad ids are ignored', () => {
    const message = toBlockKit(cards.render('task', { ...closedTask(), actionable: true }), {
      mentions: {
        'Bob Manager': 'U0BOB00001',
        'Ada Lovelace': 'not-an-id',
        'Approve time off for Ada': 'U0ADA00001',
      },
    });
    const json = JSON.stringify(message.blocks);
    expect(json).toContain('*Rejected by <@U0BOB00001>*');
    expect(json).toContain('Requested by Ada Lovelace');
    expect(message.blocks[1]).toMatchObject({ type: 'header', text: { text: 'Approve time off for Ada' } });
    expect(message.text).not.toContain('<@');
  });

  it('bold text over several lines gets markers on each line', () => {
    const message = toBlockKit({
      type: 'AdaptiveCard',
      body: [{ type: 'TextBlock', text: 'one\ntwo', weight: 'Bolder' }],
    });
    expect(message.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*one*\n*two*' } }]);
  });

  it('truncate and escape helpers never cut an entity or a surrogate pair', () => {
    expect(escapeMrkdwn('a & <b> c')).toBe('a &amp; &lt;b&gt; c');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab&amp;cd', 5)).toBe('ab…');
    expect(truncate('a😀b', 3)).toBe('a…');
  });
});

describe('checkBlockKitSupport', () => {
  it('the shipped templates are fully inside the subset', () => {
    for (const name of cards.names()) expect(checkBlockKitSupport(cards.template(name))).toEqual([]);
  });

  it('lists every element, action and select action outside the subset with its path', () => {
    const template: AdaptiveCardJson = {
      type: 'AdaptiveCard',
      version: '1.5',
      body: [
        { type: 'TextBlock', text: 'ok' },
        { type: 'Input.ChoiceSet', id: 'c', choices: [] },
        {
          type: 'Container',
          items: [{ type: 'Media', sources: [] }],
          selectAction: { type: 'Action.OpenUrl' },
        },
        { type: 'ColumnSet', columns: [{ type: 'Column', items: [{ type: 'Table', rows: [] }] }] },
        { type: 'ActionSet', actions: [{ type: 'Action.ToggleVisibility', targetElements: [] }] },
        {
          type: 'RichTextBlock',
          inlines: [{ type: 'TextRun', text: 'x', selectAction: { type: 'Action.Submit' } }],
        },
        { $data: '${items}', type: 'Input.Date', id: 'd' },
      ],
      actions: [
        { type: 'Action.ShowCard', title: 'More' },
        { type: 'Action.Execute', verb: 'x' },
      ],
    };
    expect(checkBlockKitSupport(template)).toEqual([
      'body[1]: Input.ChoiceSet is not supported in Block Kit (it is left out)',
      expect.stringMatching(/^body\[2\]\.selectAction: Action\.OpenUrl on a Container is not supported/),
      'body[2].items[0]: Media is not supported in Block Kit (it is left out)',
      'body[3].columns[0].items[0]: Table is not supported in Block Kit (it is left out)',
      'body[4].actions[0]: Action.ToggleVisibility is not supported in Block Kit (the button is left out)',
      expect.stringMatching(/^body\[5\]\.inlines\[0\]\.selectAction: Action\.Submit on a TextRun/),
      'body[6]: Input.Date is not supported in Block Kit (it is left out)',
      'actions[0]: Action.ShowCard is not supported in Block Kit (the button is left out)',
    ]);
  });

  it('an Input.Text with no button to open a modal for it is reported', () => {
    const template: AdaptiveCardJson = {
      type: 'AdaptiveCard',
      body: [{ type: 'Input.Text', id: 'x' }],
      actions: [{ type: 'Action.OpenUrl', url: 'https://x.example' }],
    };
    expect(checkBlockKitSupport(template)).toEqual([
      expect.stringMatching(/Input\.Text without an Action\.Execute/),
    ]);
    expect(checkBlockKitSupport({ ...template, actions: [{ type: 'Action.Submit' }] })).toEqual([]);
  });
});
