/**
 * A message with only an image or a file in it (no words) is not a request for help: it was
 * answered with the whole help list. It gets a short answer saying what Baton reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activityFrom, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

describe('Teams: a message with only an attachment', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp();
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  const answerTo = async (overrides: Record<string, unknown>): Promise<string> => {
    const chat = t.people.alice!.conversationId;
    const before = t.connector.posts(chat).length;
    const res = await t.send(activityFrom('message-personal', t.people.alice!, t.connector.url, overrides));
    expect(res.statusCode).toBe(200);
    await t.idle();
    const posts = t.connector.posts(chat).slice(before);
    expect(posts).toHaveLength(1);
    return String(posts[0]!.body.text ?? '');
  };

  const IMAGE = 'https://us-api.asm.skype.com/v1/objects/0-wus-d1-abc/views/imgo';

  it.each([
    [
      'a pasted image (the text only its <img>)',
      {
        text: `<div><div><span><img height="142" src="${IMAGE}" width="252"></span></div></div>`,
        textFormat: 'xml',
        attachments: [
          { contentType: 'image/*', contentUrl: IMAGE },
          { contentType: 'text/html', content: `<div><img src="${IMAGE}"></div>` },
        ],
      },
    ],
    [
      'an image with no text at all',
      { text: undefined, attachments: [{ contentType: 'image/*', contentUrl: IMAGE }] },
    ],
    [
      'a file',
      {
        text: '',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.teams.file.download.info',
            contentUrl: 'https://contoso.sharepoint.com/personal/alice/Documents/receipt.pdf',
            name: 'receipt.pdf',
            content: { downloadUrl: 'https://download.example/receipt.pdf', uniqueId: 'x', fileType: 'pdf' },
          },
        ],
      },
    ],
  ])('%s gets a short answer, not the help list', async (_what, overrides) => {
    const text = await answerTo(overrides);
    expect(text).not.toContain('What you can ask Baton');
    expect(text).toMatch(/images|files/i);
    expect(text).toContain('**help**');
    expect(text.length).toBeLessThan(200);
  });

  it('an empty message still gets the help list, and an image with a command runs the command', async () => {
    expect(await answerTo({ text: '' })).toContain('What you can ask Baton');
    expect(
      await answerTo({ text: 'requests', attachments: [{ contentType: 'image/*', contentUrl: IMAGE }] }),
    ).toContain('You have no requests yet');
  });
});
