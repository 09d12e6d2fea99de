import type { RecipeDefinition } from '../recipes/schema.js';

type Step = RecipeDefinition['steps'][number];
export type ActionStep = Extract<Step, { action: string }>;

/**
 * A recipe's step tree compiled to a flat program, so a job's position is one integer
 * (`pc`) that survives a restart. The same definition always compiles to the same program.
 */
export type Instruction =
  | { op: 'action'; step: ActionStep; label: string }
  | { op: 'branch'; condition: string; elseTo: number; hasElse: boolean; label: string }
  | { op: 'jump'; to: number };

const cache = new WeakMap<RecipeDefinition, Instruction[]>();

export function compileRecipe(def: RecipeDefinition): Instruction[] {
  const cached = cache.get(def);
  if (cached) return cached;
  const program: Instruction[] = [];
  let counter = 0;
  const emit = (steps: readonly Step[]): void => {
    for (const step of steps) {
      counter++;
      if ('if' in step) {
        const label = step.id ?? `if#${counter}`;
        const branchAt = program.length;
        program.push({
          op: 'branch',
          condition: step.if,
          elseTo: -1,
          hasElse: Boolean(step.else?.length),
          label,
        });
        emit(step.then);
        if (step.else && step.else.length > 0) {
          const jumpAt = program.length;
          program.push({ op: 'jump', to: -1 });
          (program[branchAt] as { elseTo: number }).elseTo = program.length;
          emit(step.else);
          (program[jumpAt] as { to: number }).to = program.length;
        } else {
          (program[branchAt] as { elseTo: number }).elseTo = program.length;
        }
      } else {
        const action = step as ActionStep;
        program.push({ op: 'action', step: action, label: action.id ?? `${action.action}#${counter}` });
      }
    }
  };
  emit(def.steps);
  cache.set(def, program);
  return program;
}
