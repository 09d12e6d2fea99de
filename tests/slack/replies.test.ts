import { describe, expect, it } from 'vitest';
import { describeError } from '../../adapters/slack/replies.js';
import { ValidationError } from '../../src/core/errors.js';
import { createLogger } from '../../src/logger.js';

describe('what a person is told when a Slack command fails', () => {
  const logger = createLogger('silent');

  it('a core refusal as it is; a form Slack refused to open late says so; anything else is generic', () => {
    expect(describeError(new ValidationError('Days must be at most 30'), logger)).toBe(
      'Days must be at most 30',
    );
    // The shape of @slack/web-api's platform error for views.open after 3 s.
    const late = Object.assign(new Error('An API error occurred: expired_trigger_id'), {
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'expired_trigger_id' },
    });
    expect(describeError(late, logger)).toMatch(/3 seconds to open a form .* Please try again\./);
    expect(describeError(new Error('boom'), logger)).toMatch(/^Something went wrong on our side/);
  });
});
