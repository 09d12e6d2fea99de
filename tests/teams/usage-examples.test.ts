import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/** A command missing its argument answers with an example from what this Baton has, as on Slack. */
describe('Teams: usage hints', () => {
  let t: TeamsTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const answer = async (who: string, text: string) => {
    const chat = t!.people[who]!.conversationId;
    const before = t!.connector.posts(chat).length;
    await t!.say(who, text);
    await t!.idle();
    return t!.connector
      .posts(chat)
      .slice(before)
      .map((p) => cardText(p.body))
      .join('\n');
  };

  it('use the id prefix of an installed app and a recipe there is, never for a user', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'purchase.yaml': `
kind: app
key: purchase
name: Purchase orders
id_prefix: PO
stages: [Submitted, Approved]
fields:
  - { key: item, label: Item, type: text }
`,
        'purchase-recipe.yaml': `
kind: recipe
name: po-approval
trigger: { type: new_request, app: purchase }
steps:
  - action: change_stage
    stage: Approved
`,
      }),
    });
    expect(await answer('alice', 'cancel')).toContain('For example: cancel PO-42 \\[reason\\]');
    expect(await answer('admin', 'admin recipes stop')).toContain(
      'For example: admin recipes stop po-approval',
    );
    expect(await answer('alice', 'admin recipes stop')).not.toContain('po-approval');
  });
});
