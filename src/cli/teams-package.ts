/**
 * `npm run teams:package` — builds the Teams app package (dist/baton-teams.zip, or `--out
 * <file>`) from manifest/teams/, with the bot id from MICROSOFT_APP_ID and links from
 * BATON_PUBLIC_URL (or `--url`). Upload it in Teams (Apps → Manage your apps → Upload an app)
 * or in the Teams Developer Portal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTeamsPackage } from '../../adapters/teams/manifest.js';
import { loadEnvFile } from '../config.js';

function option(argv: readonly string[], name: string): string | undefined {
  const inline = argv.find((a) => a.startsWith(`--${name}=`));
  if (inline) return inline.slice(name.length + 3);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function main(argv: readonly string[]): number {
  loadEnvFile('.env');
  const out = option(argv, 'out') ?? 'dist/baton-teams.zip';
  try {
    const zip = buildTeamsPackage({
      appId: process.env.MICROSOFT_APP_ID,
      url: option(argv, 'url') ?? process.env.BATON_PUBLIC_URL,
    });
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, zip);
    console.log(`wrote ${out} (${zip.length} bytes): upload it in Teams or the Developer Portal`);
    return 0;
  } catch (err) {
    console.error(`baton: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
