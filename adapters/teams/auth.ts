/**
 * Verify (Bot Framework JWTs, by botbuilder) and the credentials for outbound connector calls,
 * both from the Teams variables. Nothing here logs a secret.
 */
import { readFileSync } from 'node:fs';
import {
  type Activity,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConfigurationServiceClientCredentialFactory,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import type { Config } from '../../src/config.js';

/** Public-cloud Bot Framework endpoints (botframework-connector's AuthenticationConstants). */
export const BOT_FRAMEWORK = {
  loginUrl: 'https://login.microsoftonline.com/botframework.com',
  oauthScope: 'https://api.botframework.com',
  tokenIssuer: 'https://api.botframework.com',
  oauthUrl: 'https://api.botframework.com',
  openIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  emulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
  callerId: 'urn:botframework:azure',
} as const;

export type TeamsMode =
  | { on: true; auth: 'jwt' | 'anonymous'; appId: string }
  | { on: false; reason: string; configured: boolean };

/** Whether the Teams surface can run with this configuration, and how. */
export function teamsMode(config: Config): TeamsMode {
  const appId = config.MICROSOFT_APP_ID;
  if (appId) {
    const msi = config.MICROSOFT_APP_TYPE === 'UserAssignedMSI';
    const cert = config.MICROSOFT_APP_CERTIFICATE_THUMBPRINT || config.MICROSOFT_APP_CERTIFICATE_KEY_FILE;
    if (cert && !(config.MICROSOFT_APP_CERTIFICATE_THUMBPRINT && config.MICROSOFT_APP_CERTIFICATE_KEY_FILE)) {
      return {
        on: false,
        configured: true,
        reason: 'set both MICROSOFT_APP_CERTIFICATE_THUMBPRINT and MICROSOFT_APP_CERTIFICATE_KEY_FILE',
      };
    }
    if (!msi && !cert && !config.MICROSOFT_APP_PASSWORD) {
      return {
        on: false,
        configured: true,
        reason: 'set MICROSOFT_APP_PASSWORD (or a certificate, or MICROSOFT_APP_TYPE=UserAssignedMSI)',
      };
    }
    if ((config.MICROSOFT_APP_TYPE === 'SingleTenant' || msi) && !config.MICROSOFT_APP_TENANT_ID) {
      return {
        on: false,
        configured: true,
        reason: `set MICROSOFT_APP_TENANT_ID (MICROSOFT_APP_TYPE is ${config.MICROSOFT_APP_TYPE})`,
      };
    }
    return { on: true, auth: 'jwt', appId };
  }
  if (config.TEAMS_ALLOW_ANONYMOUS) return { on: true, auth: 'anonymous', appId: '' };
  const configured = Boolean(config.MICROSOFT_APP_PASSWORD || config.MICROSOFT_APP_TENANT_ID);
  return {
    on: false,
    configured,
    reason: 'set MICROSOFT_APP_ID (or TEAMS_ALLOW_ANONYMOUS=true for the Bot Framework Emulator and tests)',
  };
}

/** botbuilder's configuration object for our variables. */
function authConfiguration(config: Config): Record<string, string> {
  const c: Record<string, string> = {};
  if (!config.MICROSOFT_APP_ID) return c;
  c.MicrosoftAppId = config.MICROSOFT_APP_ID;
  if (config.MICROSOFT_APP_PASSWORD) c.MicrosoftAppPassword = config.MICROSOFT_APP_PASSWORD;
  if (config.MICROSOFT_APP_TYPE) c.MicrosoftAppType = config.MICROSOFT_APP_TYPE;
  if (config.MICROSOFT_APP_TENANT_ID) c.MicrosoftAppTenantId = config.MICROSOFT_APP_TENANT_ID;
  if (config.MICROSOFT_APP_CERTIFICATE_THUMBPRINT && config.MICROSOFT_APP_CERTIFICATE_KEY_FILE) {
    c.CertificateThumbprint = config.MICROSOFT_APP_CERTIFICATE_THUMBPRINT;
    c.CertificatePrivateKey = readFileSync(config.MICROSOFT_APP_CERTIFICATE_KEY_FILE, 'utf8');
  }
  if (config.TEAMS_OPENID_METADATA_URL) {
    // Setting one endpoint switches botbuilder to "all endpoints given": give the others too.
    const tenant = config.MICROSOFT_APP_TYPE === 'SingleTenant' ? config.MICROSOFT_APP_TENANT_ID : undefined;
    c.ToBotFromChannelOpenIdMetadataUrl = config.TEAMS_OPENID_METADATA_URL;
    c.ToChannelFromBotLoginUrl = tenant
      ? `https://login.microsoftonline.com/${tenant}`
      : BOT_FRAMEWORK.loginUrl;
    c.ToChannelFromBotOAuthScope = BOT_FRAMEWORK.oauthScope;
    c.ToBotFromChannelTokenIssuer = BOT_FRAMEWORK.tokenIssuer;
    c.OAuthUrl = BOT_FRAMEWORK.oauthUrl;
    c.ToBotFromEmulatorOpenIdMetadataUrl = BOT_FRAMEWORK.emulatorOpenIdMetadataUrl;
    c.CallerId = BOT_FRAMEWORK.callerId;
  }
  return c;
}

/**
 * CloudAdapter with its turn entry point public. Its `process` prints every refused token, and
 * anything else that escapes a turn, with console.error (a multi-line stack outside the JSON
 * log that anyone able to reach /api/messages can repeat at will); Baton calls this instead and
 * logs refusals itself.
 */
export class BatonCloudAdapter extends CloudAdapter {
  /** Authenticates the activity (throws when its token is refused), then runs `logic` as its turn. */
  runActivity(
    authorization: string,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(authorization, activity, logic);
  }
}

export interface TeamsAuth {
  adapter: BatonCloudAdapter;
  /** A bearer token for connector calls (null when anonymous). */
  token: (serviceUrl: string) => Promise<string | null>;
}

/**
 * The CloudAdapter (JWT validation of every inbound activity when an app id is set) and the
 * outbound token source: botbuilder's app credentials (password, certificate or managed
 * identity), which cache and renew the token.
 */
export function createTeamsAuth(config: Config): TeamsAuth {
  const settings = authConfiguration(config);
  const credentials = new ConfigurationServiceClientCredentialFactory(settings);
  const auth = new ConfigurationBotFrameworkAuthentication(settings, credentials);
  const adapter = new BatonCloudAdapter(auth);
  const appId = config.MICROSOFT_APP_ID;
  let appCredentials: Promise<{ getToken?: (force?: boolean) => Promise<string> }> | undefined;
  const token = async (): Promise<string | null> => {
    if (!appId) return null;
    appCredentials ??= credentials.createCredentials(
      appId,
      BOT_FRAMEWORK.oauthScope,
      settings.ToChannelFromBotLoginUrl ?? BOT_FRAMEWORK.loginUrl,
      true,
    ) as Promise<{ getToken?: (force?: boolean) => Promise<string> }>;
    const creds = await appCredentials;
    if (typeof creds.getToken !== 'function') return null;
    return creds.getToken();
  };
  return { adapter, token };
}
