import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/**
 * Teams gives a bot no way to find a person by email. An admin who names someone by email on
 * Teams is told when that person has not opened Baton in Teams yet (their tasks cannot reach
 * them there), and an email Baton has never seen is not answered with "give their email".
 */
describe('Teams: people named by email who have no Teams identity', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
  });
  afterEach(async () => {
    await t.close();
  });

  const ask = async (who: string, text: string) => {
    await t.say(who, text);
    await t.idle();
    const post = t.connector.posts(t.people[who]!.conversationId).at(-1);
    return post ? cardText(post.body) : '';
  };

  it('adding someone known only from Slack to a group says their Teams cards wait until they open Baton there', async () => {
    await ask('admin', 'help');
    await ask('admin', 'admin groups create hr');
    // Dana used Baton on Slack only.
    await t.rt.baton.users.resolve({
      provider: 'slack',
      id: 'U0DANA0001',
      name: 'Dana Both',
      email: 'dana@example.com',
    });
    const added = await ask('admin', 'admin groups add hr dana@example.com');
    expect(added).toContain('Added Dana Both to **hr**');
    expect(added).toMatch(/Dana Both has not opened Baton in Teams yet/);
    // Someone who has: no such note.
    await ask('bob', 'help');
    expect(await ask('admin', 'admin groups add hr bob@example.com')).not.toMatch(
      /not opened Baton in Teams/,
    );
  });

  it('an email Baton has never met: it says Teams cannot look people up by email, and what to do', async () => {
    await ask('admin', 'help');
    await ask('admin', 'admin groups create hr');
    const reply = await ask('admin', 'admin groups add hr zed@example.com');
    expect(reply).not.toContain('or give their email');
    expect(reply).toMatch(/zed@example\.com/);
    expect(reply).toMatch(/@mention/);
  });
});
