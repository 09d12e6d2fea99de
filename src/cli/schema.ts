/**
 * `npm run schema` — writes schema/baton.schema.json, the JSON Schema editors use to complete
 * and check app and recipe files (`# yaml-language-server: $schema=...`).
 * `npm run schema -- --check` exits 1 when the committed file is out of date.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateJsonSchemaText } from '../recipes/json-schema.js';

export const SCHEMA_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../schema/baton.schema.json');

async function main(argv: readonly string[]): Promise<number> {
  const text = generateJsonSchemaText();
  if (argv.includes('--check')) {
    const current = await readFile(SCHEMA_PATH, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${SCHEMA_PATH} is out of date; run npm run schema`);
      return 1;
    }
    console.log(`${SCHEMA_PATH} is up to date`);
    return 0;
  }
  await mkdir(dirname(SCHEMA_PATH), { recursive: true });
  await writeFile(SCHEMA_PATH, text);
  console.log(`wrote ${SCHEMA_PATH}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  },
);
