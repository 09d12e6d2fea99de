/**
 * `requests` and `admin jobs show` typed to the bot printed times as UTC text ("filed
 * 2026-12-05 11:03 UTC", "Started 2026-12-05 11:03 UTC"), which reads wrong anywhere but in
 * London in winter. They are a card now whose TextBlock has the DATE() and TIME() functions,
 * which Teams shows in the reader's zone and language (as `show` does since its history).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'desk.yaml': `
kind: app
key: desk
name: Desk booking
id_prefix: DESK
stages: [Asked, Booked]
fields:
  - { key: room, label: Room, type: text, required: true }
`,
  'desk-book.yaml': `
kind: recipe
name: desk-book
trigger: { type: new_request, app: desk }
steps:
  - id: book
    action: change_stage
    stage: Booked
`,
};

let t: TeamsTestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
const inZone = (d: Date) => `{{DATE(${iso(d)}, SHORT)}} at {{TIME(${iso(d)})}}`;

/** The last thing Baton posted to someone, and the text of its card's TextBlocks. */
function last(who: 'alice' | 'admin'): { body: Record<string, unknown>; blocks: string } {
  const body = t!.connector.posts(t!.people[who]!.conversationId).at(-1)!.body as Record<string, unknown>;
  const card = (
    body.attachments as { content: { body: { type: string; text?: string }[] } }[] | undefined
  )?.[0]?.content;
  const blocks = (card?.body ?? [])
    .filter((e) => e.type === 'TextBlock')
    .map((e) => e.text)
    .join('\n');
  return { body, blocks };
}

describe("Teams: requests and admin jobs show give times in the reader's zone", () => {
  it('requests: when each was filed is a DATE/TIME in a TextBlock, not UTC text', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.say('alice', 'help');
    await t.idle();
    const request = await t.rt.baton.requests.file(await t.batonUser('alice'), 'desk', { room: 'B2' });
    await t.say('alice', 'requests');
    await t.idle();
    const { body, blocks } = last('alice');
    expect(cardText(body)).not.toContain('UTC');
    expect(blocks).toContain(`**${request._id}** Desk booking, `);
    expect(blocks).toContain(`filed ${inZone(request.created_at)}`);
    expect(blocks).toContain(`show ${request._id}`);
  });

  it('admin jobs show: when the job started is a DATE/TIME in a TextBlock, not UTC text', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.say('admin', 'help');
    await t.idle();
    const admin = await t.batonUser('admin');
    await t.rt.baton.requests.file(admin, 'desk', { room: 'C3' });
    const job = await eventually(async () => {
      const [j] = await t!.rt.baton.recipes.listJobs(admin, { limit: 1 });
      return j?.status === 'completed' ? j : null;
    });
    await t.say('admin', `admin jobs show ${job._id}`);
    await t.idle();
    const { body, blocks } = last('admin');
    expect(cardText(body)).not.toContain('UTC');
    expect(blocks).toContain(`Job ${job._id}`);
    expect(blocks).toContain('desk-book on DESK-1, **completed**');
    expect(blocks).toContain(`Started ${inZone(job.started_at)}`);
    expect(blocks).toContain('- book (change_stage):');
  });
});
