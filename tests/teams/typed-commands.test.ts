import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const APP = `kind: app
key: it-access
name: IT access
id_prefix: ITA
stages: [Submitted, Granted, Withdrawn]
fields:
  - { key: system, label: System, type: select, required: true, options: [VPN, GitHub] }
  - { key: why, label: Justification, type: long_text, required: true }
`;

/** Commands typed the way people write them in a chat: "my tasks", "status ITA-1", "show ITA-1.". */
describe('Teams: commands as people type them', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({ 'it-access/app.yaml': APP }) });
    const filed = await t.execute('alice', 'request.submit', {
      app: 'it-access',
      system: 'VPN',
      why: 'remote work',
    });
    expect(cardText(cardOf(JSON.parse(filed.body)))).toContain('Request ITA-1 filed');
    await t.idle();
  });
  afterEach(async () => {
    await t.close();
  });

  /** What the bot answered in alice's personal chat to one message. */
  const answer = async (text: string) => {
    const before = t.connector.posts(t.people.alice!.conversationId).length;
    await t.say('alice', text);
    await t.idle();
    return t.connector
      .posts(t.people.alice!.conversationId)
      .slice(before)
      .map((p) => cardText(p.body))
      .join('\n');
  };

  it('"my tasks" and "my requests" are tasks and requests', async () => {
    expect(await answer('my tasks')).toContain('You have no open tasks');
    const mine = await answer('My requests');
    expect(mine).toContain('**ITA-1** IT access, Submitted');
    expect(mine).not.toContain("I don't know");
    // "my" before anything else is still not a command.
    expect(await answer('my approvals')).toContain('I don\'t know "my approvals"');
  });

  it('"new" with a typo in the app key says which app was meant', async () => {
    const reply = await answer('new it-acess');
    expect(reply).toContain('No app named "it-acess". Did you mean it-access? Apps: it-access.');
    // Nothing close: no guess.
    expect(await answer('new payroll')).toContain('No app named "payroll". Apps: it-access.');
  });

  it('"status <ID>" shows the request', async () => {
    const shown = await answer('status ITA-1');
    expect(shown).toContain('ITA-1');
    expect(shown).toContain('Submitted');
    expect(shown).not.toContain("I don't know");
  });

  it('a request id typed with punctuation around it (ITA-1. #ITA-1 ITA-1:) is that request', async () => {
    for (const typed of ['show ITA-1.', 'show #ITA-1', 'show (ita-1)', 'show ITA-1?']) {
      const shown = await answer(typed);
      expect(shown, typed).not.toContain('is not a request id');
      expect(shown, typed).toContain('Justification');
    }
    const cancelled = await answer('cancel ITA-1: not needed any more');
    expect(cancelled).toContain('ITA-1 is cancelled (stage **Withdrawn**)');
    const request = await t.rt.baton.requests.get(await t.batonUser('alice'), 'ITA-1');
    expect(request.history.at(-2)?.text ?? request.history.at(-1)?.text).toContain('not needed any more');
    // Still refused: something that is no request id at all.
    expect(await answer('show ITA')).toContain('"ITA" is not a request id');
  });

  it('a pasted request link, or an id typed with an IME or a smart dash, is that request', async () => {
    const typed = [
      // The request page's link, pasted (Teams sends it as an <a> element around the address).
      'show <a href="http://127.0.0.1:3000/requests/ITA-1">http://127.0.0.1:3000/requests/ITA-1</a>',
      'show https://baton.example.com/requests/ITA-1?tab=history',
      'show ＩＴＡ－１', // full-width, as a Japanese or Chinese input method types it
      'show ITA\u20111', // non-breaking hyphen
      'show ITA\u20131', // en dash (a phone's smart punctuation)
    ];
    for (const text of typed) {
      const shown = await answer(text);
      expect(shown, text).not.toContain('is not a request id');
      expect(shown, text).toContain('Justification');
    }
    // A link that is not to a request is refused as typed (not upper-cased).
    expect(await answer('show https://example.com/docs')).toContain(
      '"https://example.com/docs" is not a request id',
    );
  });
});
