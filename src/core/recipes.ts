import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { groupReferenceProblems, loadDirectory, parseDefinitionFile } from '../recipes/loader.js';
import {
  type AppDefinition,
  isConditionalStep,
  type RecipeDefinition,
  walkSteps,
} from '../recipes/schema.js';
import type { AppService } from './apps.js';
import type { CoreContext } from './context.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { DefinitionSource, JobDoc, Problem, RecipeDoc, User } from './types.js';
import { requireAdmin, requireOperator } from './users.js';

/** Template packs shipped with Baton: `recipes/<pack>/` in the repository. */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../recipes');

export interface InstallReport {
  apps: string[];
  recipes: { name: string; state: string }[];
  problems: Problem[];
  /** Recipes installed before from files under the folder that no file there defines any more. */
  removed?: string[];
}

function errorsOf(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}

/** Recipes: installed from files at start, from template packs or YAML by admins; started and stopped by operators. */
export class RecipeService {
  /** Called when the set of running recipes changes. */
  onChange: (() => void) | undefined;
  /** The folder apps and recipes were last installed from at start (RECIPES_DIR, resolved). */
  folder: string | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly apps: AppService,
  ) {}

  /** Installs every app and recipe under `dir` (start-up). Invalid files are recorded, never fatal. */
  async installDirectory(dir: string, source: DefinitionSource = 'file'): Promise<InstallReport> {
    if (!existsSync(dir)) {
      this.ctx.logger.warn({ dir }, 'recipes directory does not exist; nothing installed from files');
      return { apps: [], recipes: [], problems: [] };
    }
    if (source === 'file') this.folder = path.resolve(dir);
    const loaded = await loadDirectory(dir);
    const report: InstallReport = { apps: [], recipes: [], problems: loaded.problems };
    const problemsByFile = new Map<string, Problem[]>();
    for (const p of loaded.problems) problemsByFile.set(p.file, [...(problemsByFile.get(p.file) ?? []), p]);
    for (const app of loaded.apps) {
      if (errorsOf(problemsByFile.get(app.file) ?? []).length > 0) continue;
      // The file is the source of truth at start-up, plus the fields and stages admins added
      // since (the file does not know them); say what it strands.
      const { definition, kept } = await this.apps.withAdminAdditions(app.definition as AppDefinition);
      if (kept.fields.length + kept.stages.length > 0) {
        this.ctx.logger.info(
          { app: definition.key, file: app.file, fields: kept.fields, stages: kept.stages },
          'kept the fields and stages admins added to this app',
        );
      }
      const stranded = await this.strandedStages(definition);
      if (stranded.length > 0) {
        this.ctx.logger.warn(
          { app: definition.key, file: app.file, stranded },
          'the app file removes stages that requests are in; those requests keep their stage',
        );
      }
      try {
        await this.apps.install(definition, source, app.file);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        // Not installed (e.g. its request id prefix is another app's): say so, install the rest.
        const problem: Problem = {
          file: app.file,
          line: 1,
          column: 1,
          message: err.message,
          severity: 'error',
        };
        report.problems.push(problem);
        this.ctx.logger.error({ file: app.file, line: 1 }, `app not installed: ${err.message}`);
        continue;
      }
      report.apps.push((app.definition as AppDefinition).key);
    }
    const seen = new Set<string>();
    for (const r of loaded.recipes) {
      const def = r.definition as RecipeDefinition;
      seen.add(r.file);
      const state = await this.upsert(def, source, r.file, r.source, problemsByFile.get(r.file) ?? []);
      report.recipes.push({ name: def.name, state });
    }
    // Files that did not parse into a recipe at all: record them so admins see why.
    for (const [file, problems] of problemsByFile) {
      if (seen.has(file) || loaded.apps.some((a) => a.file === file) || errorsOf(problems).length === 0)
        continue;
      let name = guessName(file);
      if (name === null) continue;
      // A second file with the name of a recipe installed from another file (a duplicate) is
      // recorded under its file, so it cannot replace the recipe that was installed.
      if (report.recipes.some((r) => r.name === name)) name = `file:${file}`;
      await this.recordInvalid(name, source, file, problems);
      report.recipes.push({ name, state: 'invalid' });
    }
    for (const p of loaded.problems) {
      this.ctx.logger[p.severity === 'error' ? 'error' : 'warn'](
        { file: p.file, line: p.line, column: p.column },
        `recipe problem: ${p.message}`,
      );
    }
    const removed = await this.removeStale(dir, source, report, [...loaded.apps, ...loaded.recipes]);
    if (removed.length > 0) report.removed = removed;
    this.onChange?.();
    return report;
  }

  /**
   * Recipes installed earlier from files under `dir` that no file there defines any more: the
   * file was deleted, or it now names its recipe differently (a rename left the old name
   * running beside the new one, so every request got two jobs). They are removed; jobs they
   * started keep their own copy of the recipe and finish. A file that cannot be read now keeps
   * what it installed before, as does a file whose recipe has errors (recorded as invalid).
   */
  private async removeStale(
    dir: string,
    source: DefinitionSource,
    report: InstallReport,
    parsed: { file: string; definition: AppDefinition | RecipeDefinition }[],
  ): Promise<string[]> {
    const root = `${path.resolve(dir)}${path.sep}`;
    const kept = new Set(report.recipes.map((r) => r.name));
    const parsedFiles = new Set(parsed.map((d) => path.resolve(d.file)));
    const removed: string[] = [];
    for (const doc of await this.ctx.db.recipes.find({ source }).toArray()) {
      if (kept.has(doc._id) || !doc.file) continue;
      const file = path.resolve(doc.file);
      if (!file.startsWith(root)) continue;
      if (existsSync(file) && !parsedFiles.has(file)) continue;
      await this.ctx.db.recipes.deleteOne({ _id: doc._id, source, file: doc.file });
      removed.push(doc._id);
      this.ctx.logger.warn(
        { recipe: doc._id, file: doc.file },
        existsSync(file)
          ? 'recipe removed: its file now defines another recipe (renamed?)'
          : 'recipe removed: its file is gone',
      );
    }
    return removed;
  }

  private async upsert(
    def: RecipeDefinition,
    source: DefinitionSource,
    file: string | undefined,
    yaml: string | undefined,
    problems: Problem[],
  ): Promise<RecipeDoc['state']> {
    const now = this.ctx.now();
    const invalid = errorsOf(problems).length > 0;
    const existing = await this.ctx.db.recipes.findOne({ _id: def.name });
    let state: RecipeDoc['state'];
    if (invalid) state = 'invalid';
    else if (!existing || existing.state === 'invalid') state = def.enabled === false ? 'stopped' : 'running';
    // The author changed `enabled:` (a recipe turned off in its file, or on again): that is
    // followed. Otherwise an operator's start or stop stands, whatever the file says.
    else if (existing.definition && (existing.definition.enabled !== false) !== (def.enabled !== false)) {
      state = def.enabled === false ? 'stopped' : 'running';
      this.ctx.logger.info({ recipe: def.name, state }, `recipe ${state}: its enabled: changed`);
    } else state = existing.state;
    const set: Record<string, unknown> = {
      name: def.name,
      state,
      problems,
      source,
      file,
      yaml,
      updated_at: now,
    };
    if (!invalid) {
      set.definition = def;
      set.trigger_app = def.trigger.app;
      set.trigger_type = def.trigger.type;
    }
    await this.ctx.db.recipes.updateOne(
      { _id: def.name },
      { $set: set, $setOnInsert: { created_at: now } },
      { upsert: true },
    );
    return state;
  }

  private async recordInvalid(
    name: string,
    source: DefinitionSource,
    file: string,
    problems: Problem[],
  ): Promise<void> {
    const now = this.ctx.now();
    await this.ctx.db.recipes.updateOne(
      { _id: name },
      {
        $set: { name, state: 'invalid', problems, source, file, yaml: sourceOf(file), updated_at: now },
        $setOnInsert: { created_at: now },
      },
      { upsert: true },
    );
  }

  /** Every recipe with its state (running, stopped, invalid) and validation problems. */
  async list(actor: User): Promise<RecipeDoc[]> {
    requireOperator(actor, 'see recipes');
    return this.withGroupProblems(await this.ctx.db.recipes.find({}, { sort: { _id: 1 } }).toArray());
  }

  /**
   * Adds, to the problems recorded when each recipe was installed, a warning for every group it
   * names that does not exist now (checked when shown, so creating the group clears it).
   */
  private async withGroupProblems(docs: RecipeDoc[]): Promise<RecipeDoc[]> {
    if (!docs.some((d) => d.state !== 'invalid' && d.yaml?.includes('group:'))) return docs;
    const groups = new Set((await this.ctx.db.groups.find({}).toArray()).map((g) => g._id));
    return docs.map((doc) => {
      if (doc.state === 'invalid' || !doc.yaml?.includes('group:')) return doc;
      const missing = groupReferenceProblems(doc.yaml, doc.file ?? `recipe ${doc.name}`, groups);
      if (missing.length === 0) return doc;
      const problems = [...doc.problems, ...missing].sort((a, b) => a.line - b.line || a.column - b.column);
      return { ...doc, problems };
    });
  }

  async get(actor: User, name: string): Promise<RecipeDoc> {
    requireOperator(actor, 'see recipes');
    // Recipe names are lower case: `Laptop-Approval`, typed in a command, is laptop-approval.
    const lower = String(name).toLowerCase();
    const doc =
      (await this.ctx.db.recipes.findOne({ _id: String(name) })) ??
      (lower === String(name) ? null : await this.ctx.db.recipes.findOne({ _id: lower }));
    if (!doc) {
      const names = (await this.ctx.db.recipes.find({}, { sort: { _id: 1 }, limit: 21 }).toArray()).map(
        (r) => r.name,
      );
      throw new NotFoundError(
        `No recipe named "${name}". ${names.length === 0 ? 'No recipes are installed.' : `Recipes: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}.`}`,
      );
    }
    return (await this.withGroupProblems([doc]))[0]!;
  }

  async start(actor: User, name: string): Promise<RecipeDoc> {
    requireOperator(actor, 'start recipes');
    const doc = await this.get(actor, name);
    if (doc.state === 'invalid' || !doc.definition) {
      const first = errorsOf(doc.problems)[0];
      throw new ValidationError(
        `Recipe ${name} has errors and cannot start${first ? `: ${first.file}:${first.line}: ${first.message}` : '.'}`,
      );
    }
    return this.setState(actor, doc, 'running');
  }

  async stop(actor: User, name: string): Promise<RecipeDoc> {
    requireOperator(actor, 'stop recipes');
    const doc = await this.get(actor, name);
    if (doc.state === 'invalid') throw new ValidationError(`Recipe ${name} is invalid and is not running.`);
    return this.setState(actor, doc, 'stopped');
  }

  private async setState(actor: User, doc: RecipeDoc, state: 'running' | 'stopped'): Promise<RecipeDoc> {
    await this.ctx.db.recipes.updateOne({ _id: doc._id }, { $set: { state, updated_at: this.ctx.now() } });
    this.ctx.logger.info({ actor: actor._id, recipe: doc._id, state }, 'recipe state changed');
    this.onChange?.();
    return { ...doc, state };
  }

  /** Creates or replaces a recipe (or an app) from YAML text (admins). Errors come back with line numbers. */
  /** Stages of the app's current definition that `next` drops and that requests are in. */
  private async strandedStages(next: AppDefinition): Promise<{ stage: string; count: number }[]> {
    const current = await this.apps.find(next.key);
    if (!current) return [];
    const out: { stage: string; count: number }[] = [];
    for (const stage of current.stages) {
      if (next.stages.includes(stage)) continue;
      const count = await this.ctx.db.requests.countDocuments({ app: next.key, stage });
      if (count > 0) out.push({ stage, count });
    }
    return out;
  }

  async saveYaml(
    actor: User,
    text: string,
    file = 'admin.yaml',
  ): Promise<{ kind: 'app' | 'recipe'; name: string }> {
    requireAdmin(actor, 'create recipes');
    if (typeof text !== 'string' || text.length > 200_000)
      throw new ValidationError('Send the recipe as YAML text (at most 200 kB).');
    // A recipe is checked against its app in the store, as files are against the apps beside them.
    const { definition, problems } = parseDefinitionFile(text, file, {
      apps: await this.storedApps(),
      recipes: await this.storedRecipes(),
    });
    const errors = errorsOf(problems);
    if (!definition || errors.length > 0) {
      throw new ValidationError(
        `The ${file} has ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${errors
          .map((p) => `${p.file}:${p.line}: ${p.message}`)
          .join('; ')}`,
      );
    }
    if (definition.kind === 'app') {
      const stranded = await this.strandedStages(definition);
      if (stranded.length > 0) {
        const list = stranded.map((s) => `${s.count} in "${s.stage}"`).join(', ');
        throw new ValidationError(
          `${definition.name} still has requests in stages this change removes (${list}). Keep those stages, or move the requests to another stage first.`,
          { stages: `Stages in use: ${stranded.map((s) => s.stage).join(', ')}` },
        );
      }
      await this.apps.install(definition, 'store');
      return { kind: 'app', name: definition.key };
    }
    const app = await this.apps.find(definition.trigger.app);
    if (!app)
      throw new ValidationError(
        `Recipe ${definition.name} is triggered by app "${definition.trigger.app}", which does not exist.`,
      );
    await this.upsert(definition, 'store', undefined, text, problems);
    this.onChange?.();
    return { kind: 'recipe', name: definition.name };
  }

  /** The recipes installed, for the checks across recipes (a task_completed trigger's task). */
  private async storedRecipes(): Promise<RecipeDefinition[]> {
    const docs = await this.ctx.db.recipes.find({}).toArray();
    return docs.flatMap((d) => (d.definition ? [d.definition] : []));
  }

  private async storedApps(): Promise<AppDefinition[]> {
    const docs = await this.apps.list();
    return docs.flatMap((d) => (d.definition ? [d.definition] : []));
  }

  /** Template packs available to install. */
  listPacks(): string[] {
    if (!existsSync(TEMPLATES_DIR)) return [];
    return readdirSync(TEMPLATES_DIR)
      .filter((d) => statSync(path.join(TEMPLATES_DIR, d)).isDirectory())
      .sort();
  }

  /** Installs a template pack (an app and its recipes) shipped with Baton (admins). */
  async installPack(actor: User, pack: string): Promise<InstallReport> {
    requireAdmin(actor, 'install template packs');
    const packs = this.listPacks();
    if (!packs.includes(pack)) {
      throw new NotFoundError(`No template pack "${pack}". Packs: ${packs.join(', ') || 'none'}.`);
    }
    const report = await this.installDirectory(path.join(TEMPLATES_DIR, pack), 'pack');
    this.ctx.logger.info({ actor: actor._id, pack }, 'template pack installed');
    return report;
  }

  /** Jobs, newest first, filtered (operators and admins). */
  async listJobs(
    actor: User,
    filter: { status?: JobDoc['status']; recipe?: string; request?: string; limit?: number } = {},
  ): Promise<JobDoc[]> {
    requireOperator(actor, 'see jobs');
    const q: Record<string, unknown> = {};
    if (filter.status) q.status = String(filter.status);
    if (filter.recipe) q.recipe = String(filter.recipe);
    if (filter.request) q.request_id = String(filter.request);
    return this.ctx.db.jobs
      .find(q, { sort: { updated_at: -1 }, limit: Math.min(filter.limit ?? 50, 500) })
      .toArray();
  }

  async getJob(actor: User, id: string): Promise<JobDoc> {
    requireOperator(actor, 'see jobs');
    const job = await this.ctx.db.jobs.findOne({ _id: String(id) });
    if (!job) throw new NotFoundError(`No job ${id}.`);
    return job;
  }

  /**
   * The names of the recipes with a step that assigns tasks or sends notices to `group:<name>`
   * (written as is, not computed): what deleting the group would break.
   */
  async usingGroup(actor: User, name: string): Promise<string[]> {
    requireOperator(actor, 'see recipes');
    const docs = await this.ctx.db.recipes.find({}, { sort: { _id: 1 } }).toArray();
    return docs
      .filter((d) => {
        if (!d.definition) return false;
        for (const { step } of walkSteps(d.definition.steps)) {
          if (isConditionalStep(step) || (step.action !== 'assign_task' && step.action !== 'notify'))
            continue;
          const targets: unknown[] = Array.isArray(step.to) ? step.to : [step.to];
          if (targets.some((t) => typeof t === 'string' && t.trim() === `group:${name}`)) return true;
        }
        return false;
      })
      .map((d) => d.name);
  }

  /**
   * The recipe version a job runs, for people (its id is a content hash): when a job first ran
   * it, and whether it is the recipe as installed now (`installed`: false when the recipe has
   * been changed since, or is no longer installed).
   */
  async jobVersion(
    actor: User,
    job: JobDoc,
  ): Promise<{ first_run?: Date | undefined; installed: boolean; recipe_installed: boolean }> {
    requireOperator(actor, 'see jobs');
    const [version, recipe] = await Promise.all([
      this.ctx.db.recipeVersions.findOne({ _id: job.recipe_version }),
      this.ctx.db.recipes.findOne({ name: job.recipe }),
    ]);
    // A version's id is the hash of its definition's JSON: the same JSON is the same version.
    const installed =
      !!version &&
      !!recipe?.definition &&
      JSON.stringify(recipe.definition) === JSON.stringify(version.definition);
    return { first_run: version?.created_at, installed, recipe_installed: !!recipe?.definition };
  }
}

/** The text of a file that failed validation (so admins can read it beside its problems), if readable and small. */
function sourceOf(file: string): string | undefined {
  try {
    return statSync(file).size <= 200_000 ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** The `name:` of a recipe file that failed validation, if it can be read at all. */
function guessName(file: string): string | null {
  try {
    // Only used for labelling a broken file; the loader has already reported its problems.
    const doc = parseYaml(readFileSync(file, 'utf8')) as { kind?: unknown; name?: unknown } | null;
    if (doc && doc.kind === 'app') return null;
    if (doc && typeof doc.name === 'string' && /^[a-z][a-z0-9-]*$/.test(doc.name)) return doc.name;
  } catch {
    // fall through
  }
  return `file:${file}`;
}
