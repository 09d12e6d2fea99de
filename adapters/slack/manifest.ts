import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/** manifest/slack.yaml in the repository. */
export const SLACK_MANIFEST_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../manifest/slack.yaml',
);

/** The path Slack posts commands, interactivity and events to. */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface ManifestOptions {
  /** Baton's public base URL (https), e.g. https://baton.example.com. */
  url?: string | undefined;
  /** Socket Mode: no request URLs, `socket_mode_enabled: true`. */
  socket?: boolean;
  /** The manifest text (default: manifest/slack.yaml). */
  source?: string;
}

/**
 * manifest/slack.yaml with its request URLs (slash command, interactivity, select options, events) pointing
 * at `<url>/slack/events`, or set up for Socket Mode. Comments and key order are kept.
 */
export function renderSlackManifest(options: ManifestOptions): string {
  const doc = parseDocument(options.source ?? readFileSync(SLACK_MANIFEST_PATH, 'utf8'));
  const commands =
    (doc.getIn(['features', 'slash_commands']) as { items: unknown[] } | undefined)?.items ?? [];
  if (options.socket) {
    doc.setIn(['settings', 'socket_mode_enabled'], true);
    doc.deleteIn(['settings', 'event_subscriptions', 'request_url']);
    doc.deleteIn(['settings', 'interactivity', 'request_url']);
    doc.deleteIn(['settings', 'interactivity', 'message_menu_options_url']);
    commands.forEach((_, i) => {
      doc.deleteIn(['features', 'slash_commands', i, 'url']);
    });
    return doc.toString();
  }
  const base = options.url?.trim().replace(/\/+$/, '');
  if (!base)
    throw new Error(
      'Give Baton’s public URL: --url https://baton.example.com (or set BATON_PUBLIC_URL), or --socket.',
    );
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new Error(`"${base}" is not a URL.`);
  }
  if (parsed.protocol !== 'https:')
    throw new Error(`Slack only calls https URLs (got ${base}); or use --socket.`);
  const endpoint = `${base}${SLACK_EVENTS_PATH}`;
  doc.setIn(['settings', 'event_subscriptions', 'request_url'], endpoint);
  doc.setIn(['settings', 'interactivity', 'request_url'], endpoint);
  doc.setIn(['settings', 'interactivity', 'message_menu_options_url'], endpoint);
  commands.forEach((_, i) => {
    doc.setIn(['features', 'slash_commands', i, 'url'], endpoint);
  });
  return doc.toString();
}
