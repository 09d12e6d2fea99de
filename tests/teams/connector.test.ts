import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, TeamsConnector } from '../../adapters/teams/connector.js';
import { createLogger } from '../../src/logger.js';
import { FakeConnector } from '../helpers/teams.js';

describe('Teams connector client: rate limits and retries', () => {
  let fake: FakeConnector;
  let waits: number[];
  let connector: TeamsConnector;

  beforeEach(async () => {
    fake = new FakeConnector();
    await fake.start();
    waits = [];
    connector = new TeamsConnector({
      token: async () => 'tok',
      logger: createLogger('silent'),
      baseDelayMs: 100,
      maxDelayMs: 10_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    });
  });
  afterEach(async () => {
    await fake.stop();
  });

  const activity = { type: 'message' as const, text: 'hi' };

  it('backs off on 429 (honouring Retry-After) and 412, then posts once', async () => {
    fake.failures.push({ match: (c) => c.method === 'POST', status: 429, retryAfter: '2' });
    fake.failures.push({ match: (c) => c.method === 'POST', status: 412 });
    const id = await connector.send(fake.url, 'a:1chat', activity);
    expect(id).toMatch(/^act-/);
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(3);
    expect(waits[0]).toBe(2000 + 50); // Retry-After plus jitter
    expect(waits[1]).toBe(100); // full jitter over base * 2 (random 0.5)
    expect(fake.calls[0]!.authorization).toBe('Bearer tok');
  });

  it('never posts a message twice: a 502 or 504 on a post is not retried (it may have gone through)', async () => {
    fake.failures.push({ match: (c) => c.method === 'POST', status: 502 });
    const err = await connector.send(fake.url, 'a:1chat', activity).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: 502, ambiguous: true });
    expect(fake.calls).toHaveLength(1);
  });

  it('retries idempotent calls (updates, member reads) on 502 and 504', async () => {
    fake.failures.push({ match: (c) => c.method === 'PUT', status: 502 });
    fake.failures.push({ match: (c) => c.method === 'PUT', status: 504 });
    await connector.update(fake.url, 'a:1chat', 'act-9', activity);
    expect(fake.calls.filter((c) => c.method === 'PUT')).toHaveLength(3);
    fake.failures.push({ match: (c) => c.method === 'GET', status: 504 });
    const member = await connector.member(fake.url, 'a:1chat', '29:1aliceTeamsId2');
    expect(member).toMatchObject({ email: 'alice@example.com', name: 'Alice Requester' });
  });

  it('gives up after the last attempt with the status, method and path', async () => {
    for (let i = 0; i < 5; i++) fake.failures.push({ match: () => true, status: 429 });
    const err = await connector.update(fake.url, 'a:1chat', 'act-1', activity).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, method: 'PUT' });
    expect(String((err as Error).message)).toContain('/v3/conversations/a%3A1chat/activities/act-1');
    expect(fake.calls).toHaveLength(5);
    expect(waits).toHaveLength(4);
  });

  it('does not retry other errors (403: the bot is not installed)', async () => {
    const err = await connector
      .createConversation(fake.url, { botId: '28:x', userId: '29:1bobTeamsId3', tenantId: 't' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403 });
    expect(fake.calls).toHaveLength(1);
  });
});
