import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/** Admin commands by message to the bot: the same answers as Slack's `/baton admin …`. */
describe('Teams: admin commands answer as on Slack', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
  });
  afterEach(async () => {
    await t.close();
  });

  /** What the bot answers `who` (the last message in their personal chat). */
  const ask = async (who: string, text: string) => {
    await t.say(who, text);
    await t.idle();
    const post = t.connector.posts(t.people[who]!.conversationId).at(-1);
    return post ? cardText(post.body) : '';
  };

  it('the first words of longer commands (admin, admin groups) list the commands under them, for those who may use them', async () => {
    await ask('admin', 'help');
    const groups = await ask('admin', 'admin groups');
    expect(groups).toContain('**admin groups** commands');
    expect(groups).toContain('**admin groups create \\<name\\> [description]**: create a group');
    expect(groups).not.toContain("don't know");
    expect(await ask('admin', 'admin jobs help')).toContain('**admin jobs rerun \\<id\\>**');

    // A user is told these are not for them, and never pointed at an admin command.
    expect(await ask('alice', 'admin')).toContain('**admin …** commands are for admins and operators.');
    expect(await ask('alice', 'admin roles')).toContain('**admin roles …** commands are for admins.');
    const typo = await ask('alice', 'admin grups list');
    expect(typo).not.toContain('Did you mean');
    expect(typo).toContain('Type **help** to see what you can do.');
    expect(await ask('admin', 'admin grups list')).toContain('Did you mean **admin groups list**?');
  });
});
