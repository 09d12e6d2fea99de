import { readFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../adapters/commands/grammar.js';
import { buildTeamsPackage, renderTeamsManifest, TEAMS_MANIFEST_DIR } from '../../adapters/teams/manifest.js';

const APP_ID = '00000000-0000-0000-0000-00000000b470';

/** Width and height from a PNG's IHDR. */
function pngSize(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([...bytes.slice(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
  return [view.getUint32(16), view.getUint32(20)];
}

describe('Teams app package', () => {
  it('zips the manifest with the bot id and URL filled in, and both icons at the sizes Teams wants', () => {
    const files = unzipSync(buildTeamsPackage({ appId: APP_ID, url: 'https://baton.example.com/' }));
    expect(Object.keys(files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']));
    expect(manifest.id).toBe(APP_ID);
    expect(manifest.bots[0].botId).toBe(APP_ID);
    expect(manifest.bots[0].scopes).toEqual(['personal', 'team', 'groupChat']);
    expect(manifest.developer.websiteUrl).toBe('https://baton.example.com');
    expect(manifest.validDomains).toEqual(['baton.example.com']);
    expect(JSON.stringify(manifest)).not.toMatch(/\{\{/);
    expect(pngSize(files['color.png']!)).toEqual([192, 192]);
    expect(pngSize(files['outline.png']!)).toEqual([32, 32]);
  });

  it('declares every top-level verb of the shared grammar as a bot command', () => {
    const manifest = JSON.parse(readFileSync(path.join(TEAMS_MANIFEST_DIR, 'manifest.json'), 'utf8'));
    const titles = manifest.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title);
    expect(titles.length).toBeLessThanOrEqual(10); // Teams shows at most 10 per list
    expect(new Set(titles)).toEqual(new Set(COMMANDS.map((c) => c.words[0])));
  });

  it('says what is missing or wrong', () => {
    expect(() => renderTeamsManifest({ appId: undefined, url: 'https://x.example' })).toThrow(
      /MICROSOFT_APP_ID is not set/,
    );
    expect(() => renderTeamsManifest({ appId: 'baton', url: 'https://x.example' })).toThrow(/must be a GUID/);
    expect(() => renderTeamsManifest({ appId: APP_ID, url: undefined })).toThrow(
      /BATON_PUBLIC_URL is not set/,
    );
    expect(() => renderTeamsManifest({ appId: APP_ID, url: 'http://localhost:3000' })).toThrow(
      /must be https/,
    );
  });
});
