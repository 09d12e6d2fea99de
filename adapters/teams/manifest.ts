/**
 * The Teams app package: manifest/teams/manifest.json with the bot id and public URL filled
 * in, zipped with its two icons (what "Upload a custom app" in Teams, or the Developer
 * Portal, takes).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';

/** `<repo>/manifest/teams`, found from this file both as source and compiled (`dist/adapters/teams/`). */
export const TEAMS_MANIFEST_DIR = (() => {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return path.join(path.basename(up) === 'dist' ? path.dirname(up) : up, 'manifest/teams');
})();

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TeamsPackageOptions {
  /** The bot's Microsoft App ID (MICROSOFT_APP_ID): the app id and the bot id of the manifest. */
  appId: string | undefined;
  /** Baton's public https URL (BATON_PUBLIC_URL): developer links and valid domains. */
  url: string | undefined;
  /** The folder holding manifest.json, color.png and outline.png (default: manifest/teams). */
  dir?: string;
}

/** manifest.json with its placeholders filled; throws naming the variable that is missing or wrong. */
export function renderTeamsManifest(options: TeamsPackageOptions): Record<string, unknown> {
  const appId = options.appId?.trim();
  if (!appId)
    throw new Error('MICROSOFT_APP_ID is not set: register the bot first (see README, "Connect to Teams").');
  if (!GUID.test(appId)) throw new Error(`MICROSOFT_APP_ID must be a GUID (got "${appId}").`);
  const raw = options.url?.trim().replace(/\/+$/, '');
  if (!raw)
    throw new Error(
      'BATON_PUBLIC_URL is not set (or pass --url https://…): Teams needs Baton’s public https URL.',
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`BATON_PUBLIC_URL is not a URL (got "${raw}").`);
  }
  if (url.protocol !== 'https:') throw new Error(`BATON_PUBLIC_URL must be https for Teams (got "${raw}").`);
  const text = readFileSync(path.join(options.dir ?? TEAMS_MANIFEST_DIR, 'manifest.json'), 'utf8')
    .replaceAll('{{MICROSOFT_APP_ID}}', appId)
    .replaceAll('{{BATON_PUBLIC_URL}}', raw)
    .replaceAll('{{BATON_PUBLIC_HOST}}', url.host);
  const left = /\{\{[A-Z_]+\}\}/.exec(text);
  if (left) throw new Error(`manifest.json has a placeholder this tool does not fill: ${left[0]}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The zip to upload: manifest.json, color.png and outline.png at its root. */
export function buildTeamsPackage(options: TeamsPackageOptions): Uint8Array {
  const dir = options.dir ?? TEAMS_MANIFEST_DIR;
  const manifest = renderTeamsManifest(options);
  const icons = manifest.icons as { color: string; outline: string };
  const mtime = new Date('2026-01-01T00:00:00Z'); // the same inputs give the same bytes
  return zipSync(
    {
      'manifest.json': [new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`), { mtime }],
      [icons.color]: [readFileSync(path.join(dir, icons.color)), { mtime, level: 0 }],
      [icons.outline]: [readFileSync(path.join(dir, icons.outline)), { mtime, level: 0 }],
    },
    { level: 9 },
  );
}
