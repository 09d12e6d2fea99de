import { afterEach, describe, expect, it } from 'vitest';
import { KIT_FILES } from '../fixtures/kit-recipes.js';
import { recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/**
 * Teams' `admin recipes list` said what starts each recipe in the store's words
 * ("running, new_request on kit"); it now says it as the portal's Admin → Recipes does, with
 * the app by its name ("running, when a Laptop kit request is filed").
 */
describe('Teams: admin recipes list says what starts a recipe in words', () => {
  let t: TeamsTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  // Problems named the file by its last two path segments: "<the folder's own name>/kit-bad.yaml:8".
  it('names a problem file by its path inside RECIPES_DIR, as the portal does', async () => {
    const dir = recipesDir(KIT_FILES);
    t = await startTeamsTestApp({ recipesDir: dir });
    const chat = t.people.admin!.conversationId;
    const before = t.connector.posts(chat).length;
    await t.say('admin', 'admin recipes list');
    await t.idle();
    const listed = t.connector
      .posts(chat)
      .slice(before)
      .map((p) => cardText(p.body))
      .join('\n');
    expect(listed).not.toContain(dir.split('/').pop()!);
    expect(listed).toContain('- kit-bad.yaml:8: steps\\[1\\].action');
  });

  it('names the trigger as a sentence with the app by its name', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(KIT_FILES) });
    const chat = t.people.admin!.conversationId;
    const before = t.connector.posts(chat).length;
    await t.say('admin', 'admin recipes list');
    await t.idle();
    const listed = t.connector
      .posts(chat)
      .slice(before)
      .map((p) => cardText(p.body))
      .join('\n');
    expect(listed).not.toMatch(/new_request|stage_changed|task_completed/);
    expect(listed).toContain('**kit-approval**: running, when a Laptop kit request is filed');
    expect(listed).toContain(
      '**kit-ship**: running, when a Laptop kit request moves from stage Asked to Approved',
    );
    expect(listed).toMatch(
      /\*\*kit-thanks\*\*: \w+, when someone answers Approve on the task boss of a Laptop kit request/,
    );
  });
});
