/**
 * `npm run manifest` — prints manifest/slack.yaml with its request URLs filled in from
 * `--url <base>` or BATON_PUBLIC_URL (`--socket` for Socket Mode, where Slack needs no URL).
 * Paste the output into https://api.slack.com/apps → Create New App → From an app manifest.
 */
import { renderSlackManifest } from '../../adapters/slack/manifest.js';

function main(argv: readonly string[]): number {
  const i = argv.indexOf('--url');
  const inline = argv.find((a) => a.startsWith('--url='));
  const url = inline ? inline.slice('--url='.length) : i >= 0 ? argv[i + 1] : process.env.BATON_PUBLIC_URL;
  try {
    process.stdout.write(renderSlackManifest({ url, socket: argv.includes('--socket') }));
    return 0;
  } catch (err) {
    console.error(`baton: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
