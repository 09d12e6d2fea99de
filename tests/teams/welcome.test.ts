import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

describe('Teams: welcome messages', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
  });
  afterEach(async () => {
    await t.close();
  });

  const texts = (conversationId: string) => t.connector.posts(conversationId).map((p) => cardText(p.body));

  it('a welcome Teams refused at install comes with the answer to the next message, once', async () => {
    const alice = t.people.alice!;
    // Teams is down when Alice installs Baton: every try of the welcome fails.
    for (let i = 0; i < 10; i++)
      t.connector.failures.push({
        match: (c) => c.method === 'POST' && c.path.includes(encodeURIComponent(alice.conversationId)),
        status: 502,
      });
    await t.install('alice');
    t.connector.failures.length = 0;
    expect(texts(alice.conversationId).filter((x) => x.includes('Hi Alice Requester!'))).not.toHaveLength(0);
    const before = t.connector.posts(alice.conversationId).length;
    await t.say('alice', 'tasks');
    await t.idle();
    const after = texts(alice.conversationId).slice(before);
    expect(after).toHaveLength(2);
    expect(after[0]).toContain('Hi Alice Requester!');
    await t.say('alice', 'tasks');
    await t.idle();
    expect(
      texts(alice.conversationId)
        .slice(before + 2)
        .join('\n'),
    ).not.toContain('Hi Alice');
    // Welcomed now: a reinstall brings no second welcome.
    await t.install('alice');
    expect(
      texts(alice.conversationId)
        .slice(before + 3)
        .join('\n'),
    ).not.toContain('Hi Alice');
  });

  it('a welcome posted at install is not repeated', async () => {
    const bob = t.people.bob!;
    await t.install('bob');
    await t.say('bob', 'tasks');
    await t.idle();
    const all = texts(bob.conversationId);
    expect(all.filter((x) => x.includes('Hi Bob Manager!'))).toHaveLength(1);
    expect(all[0]).toContain('Hi Bob Manager!');
  });
});

describe('Teams: Baton added to a team', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('posts a short welcome in the channel saying how to use it, once', async () => {
    const added = () =>
      activityFrom('conversation-update-team', t.people.admin!, t.connector.url, {
        id: `f:team-added-${Math.random()}`,
      });
    const channel = '19:0b4e0c9c3a0d4e1f9d7c2a8e5b6f1d3c@thread.tacv2';
    const res = await t.send(added());
    expect(res.statusCode).toBe(200);
    await t.idle();
    const posts = t.connector.posts(channel);
    expect(posts).toHaveLength(1);
    const text = cardText(posts[0]!.body);
    expect(text).toContain('@Baton help');
    expect(text).toContain('personal chat');
    // Teams may tell it again (an app upgrade, a retry): no second welcome.
    await t.send(added());
    await t.idle();
    expect(t.connector.posts(channel)).toHaveLength(1);
  });
});
