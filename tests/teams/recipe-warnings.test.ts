import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/**
 * An admin on Teams installs a template pack whose recipes assign tasks to groups that do not
 * exist yet: the answer and `admin recipes list` say so before the first request fails on it.
 */
describe('Teams: recipes naming groups that do not exist', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const answer = async (text: string) => {
    const chat = t.people.admin!.conversationId;
    const before = t.connector.posts(chat).length;
    await t.say('admin', text);
    await t.idle();
    return t.connector
      .posts(chat)
      .slice(before)
      .map((p) => cardText(p.body))
      .join('\n');
  };

  it('installing the expense pack warns about its finance groups, and the recipe list shows it until they exist', async () => {
    const installed = await answer('admin recipes install expense');
    expect(installed).toContain('Installed **expense**');
    expect(installed).toContain('no group named "finance"');
    expect(installed).toContain('admin groups create finance');

    const listed = await answer('admin recipes list');
    expect(listed).toContain('**expense-approval**: running');
    expect(listed).toContain('⚠️ expense/approval.yaml:');
    expect(listed).toContain('no group named "finance"');
    expect(listed).toContain('no group named "finance-directors"');

    await answer('admin groups create finance');
    await answer('admin groups create finance-directors');
    const after = await answer('admin recipes list');
    expect(after).toContain('**expense-approval**: running');
    expect(after).not.toContain('no group named');
  });
});
