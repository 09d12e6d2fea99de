/**
 * `admin requests move <ID> <stage>`: an admin moves a request to another stage by hand, as
 * the portal's *Move to another stage* does (the same core call, `requests.setStage`). The
 * same choice on Slack and Teams, each surface formatting it.
 */
import type { Baton } from '../../src/core/baton.js';
import type { RequestDoc, User } from '../../src/core/types.js';
import { requireAdmin } from '../../src/core/users.js';

/** The stage as the app spells it, for one typed in any case ("approved"); else as typed. */
function stageNamed(stages: string[], typed: string): string {
  const fold = (s: string) => s.normalize('NFKC').toLocaleLowerCase().replace(/\s+/g, ' ').trim();
  return stages.find((s) => s === typed) ?? stages.find((s) => fold(s) === fold(typed)) ?? typed;
}

/** The stages of a request's app, for a usage example: one it is not in, the last first. */
export async function exampleStage(baton: Baton, actor: User, id: string): Promise<string | undefined> {
  const request = await baton.requests.get(actor, id).catch(() => null);
  const app = request ? await baton.apps.find(request.app) : null;
  return app ? [...app.stages].reverse().find((s) => s !== request!.stage) : undefined;
}

export async function moveRequest(
  baton: Baton,
  actor: User,
  id: string,
  typed: string,
): Promise<{ request: RequestDoc; from: string; moved: boolean }> {
  requireAdmin(actor, 'change the stage of a request by hand');
  const before = await baton.requests.get(actor, id);
  const app = await baton.apps.get(before.app);
  const request = await baton.requests.setStage(actor, before._id, stageNamed(app.stages, typed));
  return { request, from: before.stage, moved: request.stage !== before.stage };
}
