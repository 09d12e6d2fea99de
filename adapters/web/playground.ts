import type { Config } from '../../src/config.js';

/** Addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface SignInProviders {
  slack: boolean;
  microsoft: boolean;
}

/** Which production sign-in providers are configured. */
export function signInProviders(config: Config): SignInProviders {
  return {
    slack: Boolean(config.SLACK_CLIENT_ID && config.SLACK_CLIENT_SECRET),
    microsoft: Boolean(
      config.MICROSOFT_OIDC_CLIENT_ID &&
        config.MICROSOFT_OIDC_CLIENT_SECRET &&
        (config.MICROSOFT_OIDC_TENANT_ID || config.MICROSOFT_OIDC_ISSUER),
    ),
  };
}

export type PlaygroundMode = { on: true; forced: boolean; reason: string } | { on: false; reason: string };

/**
 * The playground is on when no sign-in provider is configured and the server listens on a
 * loopback address only; BATON_PLAYGROUND=true forces it on anywhere (the caller logs that
 * loudly), BATON_PLAYGROUND=false turns it off.
 */
export function playgroundMode(config: Config): PlaygroundMode {
  const providers = signInProviders(config);
  const configured = providers.slack || providers.microsoft;
  const loopback = isLoopbackHost(config.HOST);
  if (config.BATON_PLAYGROUND === false) return { on: false, reason: 'BATON_PLAYGROUND=false' };
  if (config.BATON_PLAYGROUND === true)
    return { on: true, forced: !loopback || configured, reason: 'BATON_PLAYGROUND=true' };
  if (configured) return { on: false, reason: 'a sign-in provider is configured' };
  if (!loopback)
    return {
      on: false,
      reason: `HOST ${config.HOST} is not a loopback address (set BATON_PLAYGROUND=true to force it)`,
    };
  return { on: true, forced: false, reason: 'no sign-in provider is configured and HOST is loopback' };
}
