/**
 * The admin forms of Slack say how long keys, names and id prefixes may be before they are
 * sent (max_length on the inputs), as the core, the files and the portal cap them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import type { SlackTestApp } from '../helpers/slack.js';
import { startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

type Block = { block_id?: string; element?: { type?: string; max_length?: number } };

/** The modal `/baton <text>` opens, as Slack received it in views.open. */
async function modalOf(text: string): Promise<Record<string, Block['element']>> {
  const before = fake!.of('views.open').length;
  const res = await t!.command(text, 'admin', { response_url: `${fake!.url}response` });
  expect(res.statusCode).toBe(200);
  const view = await eventually(
    async () => fake!.of('views.open')[before]?.view as { blocks: Block[] } | undefined,
  );
  return Object.fromEntries(view.blocks.filter((b) => b.block_id).map((b) => [b.block_id!, b.element]));
}

const FILES = {
  'kb.yaml': 'kind: app\nkey: kb\nname: Knowledge base\nstages: [Draft, Published]\n',
};

describe('Slack admin forms: the longest key, name and id prefix', () => {
  it('the new-app form caps the key at 100, the id prefix at 32 and the name at what Slack takes (3000)', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const inputs = await modalOf('admin apps create');
    expect(inputs.key).toMatchObject({ type: 'plain_text_input', max_length: 100 });
    expect(inputs.id_prefix).toMatchObject({ type: 'plain_text_input', max_length: 32 });
    expect(inputs.name).toMatchObject({ type: 'plain_text_input', max_length: 3000 });
    expect(inputs.stages).toMatchObject({ type: 'plain_text_input', max_length: 3000 });
  });

  it('the add-field form caps the field key at 100', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const inputs = await modalOf('admin apps add field kb');
    expect(inputs.key).toMatchObject({ type: 'plain_text_input', max_length: 100 });
    // Every text input has a cap: Slack refuses none, and people learn it as they type.
    for (const [id, element] of Object.entries(inputs))
      if (element?.type === 'plain_text_input') expect(element.max_length, id).toBeGreaterThan(0);
  });
});
