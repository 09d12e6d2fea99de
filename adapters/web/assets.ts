import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where the portal's own static files live (source and compiled layouts). */
function publicDir(): string {
  const candidates = [path.join(here, 'public'), path.resolve(here, '../../../adapters/web/public')];
  for (const dir of candidates) {
    try {
      readFileSync(path.join(dir, 'app.css'));
      return dir;
    } catch {}
  }
  return candidates[0]!;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function load(file: string, type: string): Asset {
  const body = readFileSync(file);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

/**
 * The portal's static files: its stylesheet, script and icon, and the adaptivecards bundle
 * (about 300 KB minified, 70 KB gzipped). A fixed list, read once: nothing else on disk is reachable.
 */
export function registerAssets(app: FastifyInstance): void {
  const dir = publicDir();
  const assets = new Map<string, Asset>([
    ['app.css', load(path.join(dir, 'app.css'), 'text/css; charset=utf-8')],
    ['app.js', load(path.join(dir, 'app.js'), 'text/javascript; charset=utf-8')],
    ['favicon.svg', load(path.join(dir, 'favicon.svg'), 'image/svg+xml')],
    [
      'adaptivecards.min.js',
      load(require.resolve('adaptivecards/dist/adaptivecards.min.js'), 'text/javascript; charset=utf-8'),
    ],
  ]);
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = assets.get(req.params.name);
    if (!asset) return reply.status(404).send({ error: 'baton.not_found', message: 'No such asset.' });
    reply.header('etag', asset.etag).header('cache-control', 'public, max-age=3600');
    if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.type(asset.type).send(asset.body);
  });
}
