/**
 * `npm run validate [paths...]` — validates every app and recipe file under RECIPES_DIR
 * (default ./recipes), or under the paths given. Prints `file:line: message` per problem
 * (`file:line: warning: message` for warnings) and a summary; exits 1 when there are errors.
 * Files given are checked against the apps and recipes beside them and under RECIPES_DIR.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatProblem, loadPaths } from '../recipes/loader.js';

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const recipesDir = env.RECIPES_DIR || './recipes';
  const paths = argv.length > 0 ? argv : [recipesDir];
  // Files given one by one are checked against the apps and recipes beside them and under
  // RECIPES_DIR (stages, fields, values, task ids), as when installed; those are not reported on.
  const result = await loadPaths(paths, {
    // (A folder given is checked whole: its parent is not context: for /tmp/x that was all of /tmp.)
    context:
      argv.length > 0 ? [...argv.filter((p) => !isDirectory(p)).map((p) => dirname(p)), recipesDir] : [],
  });
  if (result.files === 0 && result.problems.length === 0) {
    // A folder with no app or recipe in it is most often a mistyped RECIPES_DIR or path.
    for (const p of paths)
      result.problems.push({
        file: p,
        line: 1,
        column: 1,
        severity: 'warning',
        message: 'no app or recipe files (.yaml, .yml) here: is this the folder you meant?',
      });
  }
  for (const problem of result.problems) console.log(formatProblem(problem));
  const errors = result.problems.filter((p) => p.severity === 'error').length;
  const warnings = result.problems.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  console.log(
    `${plural(result.files, 'file')} checked (${plural(result.apps.length, 'app')}, ${plural(result.recipes.length, 'recipe')}): ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
  );
  return errors > 0 ? 1 : 0;
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
