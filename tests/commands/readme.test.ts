/** README's command table names every command the chat surfaces accept, and nothing else. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../adapters/commands/grammar.js';

describe('README: Commands', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Commands\n'), readme.indexOf('\n## Web portal\n'));
  /** The commands in the table's first column (`a` / `b c` cells list several under one prefix). */
  const documented = new Set<string>();
  for (const line of section.split('\n')) {
    const cell = /^\| (`[^|]*(?:\\\|[^|]*)*) \|/.exec(line)?.[1];
    if (!cell) continue;
    let prefix: string[] = [];
    for (const [i, code] of [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).entries()) {
      const words = code.split(' ').filter((w) => !/^[<[@(]/.test(w));
      if (i === 0) {
        documented.add(words.join(' '));
        prefix = words.slice(0, -1);
      } else if (cell.includes(`/ \`${code}\``)) documented.add([...prefix, ...words].join(' '));
    }
  }

  it('lists every command', () => {
    const missing = COMMANDS.map((c) => c.words.join(' ')).filter((w) => !documented.has(w));
    expect(missing).toEqual([]);
  });

  it('lists no command that does not exist', () => {
    const known = new Set(COMMANDS.map((c) => c.words.join(' ')));
    expect([...documented].filter((w) => !known.has(w))).toEqual([]);
  });
});
