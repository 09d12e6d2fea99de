import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * Mistakes a team writing its first apps and recipes makes, and what `npm run validate` (the
 * CLI, on a RECIPES_DIR of the team's files) says about them.
 */

function validate(files: Record<string, string>): { code: number | null; lines: string[] } {
  const dir = recipesDir(files);
  const result = spawnSync(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    [path.join(ROOT, 'src/cli/validate.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return {
    code: result.status,
    lines: `${result.stdout}${result.stderr}`
      .trim()
      .split('\n')
      .map((l) => l.replace(`${dir}/`, '')),
  };
}

describe('validate: an app file', () => {
  it('refuses two stages people cannot tell apart (case, spacing), as adding such a stage by command is refused', () => {
    const { code, lines } = validate({
      'app.yaml': `kind: app
key: ticket
name: Ticket
stages:
  - Open
  - On hold
  - Done
  - "on  Hold"
  - open
`,
    });
    expect(code).toBe(1);
    expect(lines).toContain(
      'app.yaml:8: stages[3]: duplicate stage "on  Hold": the same as "On hold" (stage names are told apart regardless of case and spacing)',
    );
    expect(lines).toContain(
      'app.yaml:9: stages[4]: duplicate stage "open": the same as "Open" (stage names are told apart regardless of case and spacing)',
    );
  });
});
