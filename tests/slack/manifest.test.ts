import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderSlackManifest } from '../../adapters/slack/manifest.js';
import { ROOT } from '../helpers/runtime.js';

interface Manifest {
  display_information: { name: string; description: string; long_description?: string };
  features: {
    app_home: { home_tab_enabled: boolean };
    bot_user: { display_name: string };
    slash_commands: { command: string; url?: string; description: string; should_escape: boolean }[];
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string };
    socket_mode_enabled: boolean;
  };
}

describe('manifest/slack.yaml', () => {
  it('is a valid manifest: /baton with escaping, one request URL for everything, Home tab, least-privilege scopes', () => {
    const m = parse(renderSlackManifest({ url: 'https://baton.acme.test/' })) as Manifest;
    const url = 'https://baton.acme.test/slack/events';
    expect(m.features.slash_commands).toHaveLength(1);
    expect(m.features.slash_commands[0]).toMatchObject({ command: '/baton', url, should_escape: true });
    expect(m.settings.interactivity).toEqual({
      is_enabled: true,
      request_url: url,
      message_menu_options_url: url,
    });
    expect(m.settings.event_subscriptions.request_url).toBe(url);
    expect(m.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
    expect(m.features.app_home.home_tab_enabled).toBe(true);
    expect(m.settings.socket_mode_enabled).toBe(false);
    expect([...m.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'commands', 'im:write', 'users:read', 'users:read.email'].sort(),
    );
    // Slack's limits: name ≤ 35, description ≤ 140, long description 175–4000, command description ≤ 100.
    expect(m.display_information.name.length).toBeLessThanOrEqual(35);
    expect(m.display_information.description.length).toBeLessThanOrEqual(140);
    const long = m.display_information.long_description ?? '';
    expect(long.length).toBeGreaterThanOrEqual(175);
    expect(long.length).toBeLessThanOrEqual(4000);
    expect(m.features.slash_commands[0]!.description.length).toBeLessThanOrEqual(100);
  });

  it('Socket Mode drops the request URLs', () => {
    const m = parse(renderSlackManifest({ socket: true })) as Manifest;
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.settings.interactivity.request_url).toBeUndefined();
    expect(m.settings.event_subscriptions.request_url).toBeUndefined();
    expect(m.features.slash_commands[0]!.url).toBeUndefined();
  });

  it('npm run manifest fills the URLs from --url or BATON_PUBLIC_URL and refuses a non-https URL', () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'src/cli/manifest.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, BATON_PUBLIC_URL: '', ...env },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const byArg = run(['--url', 'https://a.example.com']);
    expect(byArg.status).toBe(0);
    expect(byArg.stdout).toContain('request_url: https://a.example.com/slack/events');
    const byEnv = run([], { BATON_PUBLIC_URL: 'https://b.example.com' });
    expect(byEnv.stdout).toContain('url: https://b.example.com/slack/events');
    const bad = run(['--url', 'http://c.example.com']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('Slack only calls https URLs');
    const none = run([]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('--url');
  });
});
