import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/runtime.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'node_modules' ? [] : sources(file);
    return /\.(ts|mts|js)$/.test(name) ? [file] : [];
  });
}

describe('Teams boundary', () => {
  it('nothing outside adapters/teams imports botbuilder (the core never sees a chat SDK)', () => {
    const offenders = ['src', 'adapters', 'tests', 'bench']
      .flatMap((d) => sources(path.join(ROOT, d)))
      .filter((f) => !f.startsWith(path.join(ROOT, 'adapters/teams') + path.sep))
      .filter((f) =>
        /from ['"]botbuilder|require\(['"]botbuilder|import\(['"]botbuilder/.test(readFileSync(f, 'utf8')),
      )
      .map((f) => path.relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});
