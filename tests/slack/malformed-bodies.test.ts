import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  interactionBody,
  type SlackTestApp,
  signedSlackRequest,
  startSlackTestApp,
} from '../helpers/slack.js';

/**
 * Correctly signed bodies that are not what Slack sends (a payload that is not an object, an
 * event or a view that is null) reached Bolt, which threw on them: a 500, that Slack retries.
 * They are refused with a 400 saying the body is not a Slack request, and nothing runs.
 */
describe('signed but malformed bodies on /slack/events', () => {
  let t: SlackTestApp;
  beforeAll(async () => {
    t = await startSlackTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['a payload that is null', 'payload=null'],
    ['a payload that is a number', 'payload=5'],
    ['a view_submission without a view', interactionBody({ type: 'view_submission', view: null })],
    ['a view_submission with neither user nor team', interactionBody({ type: 'view_submission', view: {} })],
    [
      'block_actions without a user',
      interactionBody({ type: 'block_actions', actions: [{ action_id: 'x' }] }),
    ],
  ])('%s gets 400', async (_name, body) => {
    const res = await signedSlackRequest(t.app, { body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'slack.bad_body' });
  });

  it('an event_callback whose event is not an object gets 400', async () => {
    for (const event of [null, 'x', [1]]) {
      const res = await signedSlackRequest(t.app, {
        body: { type: 'event_callback', team_id: 'T0TEST', event },
        contentType: 'application/json',
      });
      expect([event, res.statusCode]).toEqual([event, 400]);
    }
  });
});
