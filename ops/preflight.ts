import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { type PlivoCredentials, parsePlivoCredentials } from '#platform/secrets.ts';
import { OperatorError, stackOutputs } from './stack-outputs.ts';

/**
 * `npm run preflight -- --stack NAME`: what an operator runs before the first call and after every deploy.
 * Read-only, with the operator's own AWS credentials and region: the stack's outputs; the Plivo secret is set
 * (not the placeholder the stack creates) and Plivo accepts it (its account-details request); each caller ID
 * belongs to that Plivo account and can make calls and send SMS; the webhook URL refuses an unsigned request
 * with 403 (not a 5xx); the alarm topic has a confirmed subscription. One line per check, with the fix for a
 * failure; exit 0 only if every check passed. No secret, auth id or phone number is ever printed.
 */
export interface PreflightDeps {
  stackName: string;
  cloudFormation: CloudFormationClient;
  secrets: SecretsManagerClient;
  sns: SNSClient;
  /** Plivo's REST API (PLIVO_API_URL in tests). */
  plivoApiUrl: string;
  timeoutMs: number;
  print: (line: string) => void;
}

/** The placeholder auth id the stack's secret is created with (infra/voice-otp-stack.ts). */
export const PLACEHOLDER_AUTH_ID = 'REPLACE_WITH_PLIVO_AUTH_ID';
export const PREFLIGHT_OUTPUTS = ['WebhookUrl', 'PlivoSecretArn', 'PlivoNumbers', 'AlarmTopicArn'] as const;
/** A well-formed verification id no verification has: the probe must never touch a real one. */
const PROBE_ID = 'vrf_00000000000000000000000000';

interface Result {
  ok: boolean;
  line: string;
}
const pass = (check: string, detail: string): Result => ({ ok: true, line: `PASS  ${check}: ${detail}` });
const fail = (check: string, problem: string, fix: string): Result => ({
  ok: false,
  line: `FAIL  ${check}: ${problem} Fix: ${fix}`,
});

/** Masks a number as the service does: country code kept, last two digits kept. */
const masked = (e164: string) =>
  `${e164.slice(0, 2)}${'*'.repeat(Math.max(0, e164.length - 4))}${e164.slice(-2)}`;

export async function preflight(deps: PreflightDeps): Promise<0 | 1> {
  const results: Result[] = [];
  const report = (result: Result) => {
    results.push(result);
    deps.print(result.line);
  };
  const { stackName } = deps;

  let outputs: Record<string, string>;
  try {
    outputs = await stackOutputs(stackName, deps.cloudFormation);
  } catch (error) {
    report(
      fail('stack outputs', (error as Error).message, 'deploy the stack (npm run deploy) in this region.'),
    );
    return 1;
  }
  const missing = PREFLIGHT_OUTPUTS.filter((key) => !outputs[key]);
  if (missing.length > 0) {
    report(
      fail(
        'stack outputs',
        `stack ${stackName} lacks ${missing.join(', ')}.`,
        'deploy this version of voice-otp (npm run deploy).',
      ),
    );
    return 1;
  }
  report(pass('stack outputs', `stack ${stackName} has ${PREFLIGHT_OUTPUTS.join(', ')}`));

  const credentials = await checkPlivoSecret(deps, String(outputs.PlivoSecretArn), report);
  if (credentials && (await checkPlivoAccount(deps, credentials, report))) {
    await checkNumbers(deps, credentials, String(outputs.PlivoNumbers), report);
  } else {
    report(
      fail(
        'Plivo numbers',
        'not checked: Plivo did not accept the credentials.',
        'fix the lines above first.',
      ),
    );
  }
  await checkWebhookProbe(deps, String(outputs.WebhookUrl), report);
  await checkAlarmTopic(deps, String(outputs.AlarmTopicArn), report);

  const failed = results.filter((result) => !result.ok).length;
  deps.print(failed === 0 ? 'All checks passed.' : `${failed} check(s) failed.`);
  return failed === 0 ? 0 : 1;
}

async function checkPlivoSecret(
  deps: PreflightDeps,
  secretArn: string,
  report: (result: Result) => void,
): Promise<PlivoCredentials | undefined> {
  const check = 'Plivo secret';
  const fix = `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string '{"authId":"<Plivo auth id>","authToken":"<Plivo auth token>"}'`;
  let value: string | undefined;
  try {
    value = (await deps.secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    report(
      fail(
        check,
        `could not be read (${(error as Error).name}).`,
        'run this with credentials that may read it.',
      ),
    );
    return undefined;
  }
  let credentials: PlivoCredentials;
  try {
    // Its errors name the shape, never a fragment of the value.
    credentials = parsePlivoCredentials(value ?? '');
  } catch (error) {
    report(fail(check, `${(error as Error).message}.`, fix));
    return undefined;
  }
  if (credentials.authId === PLACEHOLDER_AUTH_ID) {
    report(fail(check, 'still holds the placeholder the stack created.', fix));
    return undefined;
  }
  report(pass(check, 'set (not the placeholder)'));
  return credentials;
}

/** One read-only request to Plivo's REST API; the status and parsed body, or the failure. */
async function plivoGet(deps: PreflightDeps, credentials: PlivoCredentials, path: string) {
  const authorization = `Basic ${Buffer.from(`${credentials.authId}:${credentials.authToken}`).toString('base64')}`;
  const response = await fetch(
    `${deps.plivoApiUrl}/v1/Account/${encodeURIComponent(credentials.authId)}/${path}`,
    { headers: { Authorization: authorization }, signal: AbortSignal.timeout(deps.timeoutMs) },
  );
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: response.status, body };
}

async function checkPlivoAccount(
  deps: PreflightDeps,
  credentials: PlivoCredentials,
  report: (result: Result) => void,
): Promise<boolean> {
  const check = 'Plivo credentials';
  try {
    const { status } = await plivoGet(deps, credentials, '');
    if (status === 200) {
      report(pass(check, 'Plivo accepts them (account details read)'));
      return true;
    }
    report(
      fail(
        check,
        status === 401 ? 'Plivo refused the auth id and token (401).' : `Plivo answered ${status}.`,
        status === 401
          ? "copy the auth id and token again from Plivo's console into the Plivo secret."
          : 'retry; if it persists, check status.plivo.com.',
      ),
    );
  } catch (error) {
    report(
      fail(check, `Plivo could not be reached (${(error as Error).name}).`, 'check the network and retry.'),
    );
  }
  return false;
}

async function checkNumbers(
  deps: PreflightDeps,
  credentials: PlivoCredentials,
  numbersOutput: string,
  report: (result: Result) => void,
) {
  let numbers: Record<string, string>;
  try {
    numbers = JSON.parse(numbersOutput) as Record<string, string>;
  } catch {
    report(
      fail(
        'Plivo numbers',
        'the stack output PlivoNumbers is not JSON.',
        'deploy this version of voice-otp.',
      ),
    );
    return;
  }
  for (const [country, number] of Object.entries(numbers)) {
    const check = `caller ID ${country === '*' ? '(default, fromNumber)' : `for ${country} (fromNumbers)`} ${masked(number)}`;
    const setting = country === '*' ? '-c fromNumber=+…' : `-c fromNumbers='{"${country}":"+…"}'`;
    try {
      const { status, body } = await plivoGet(deps, credentials, `Number/${number.replace(/^\+/, '')}/`);
      if (status === 404) {
        report(
          fail(
            check,
            'is not a number of this Plivo account.',
            `rent it in Plivo's console, or deploy with ${setting} set to one of yours.`,
          ),
        );
        continue;
      }
      if (status !== 200) {
        report(fail(check, `Plivo answered ${status}.`, 'retry; if it persists, check status.plivo.com.'));
        continue;
      }
      // Every stack can send SMS: apps may ask for it, and a failed call falls back to it.
      const lacking = [
        body.voice_enabled === true ? '' : 'voice',
        body.sms_enabled === true ? '' : 'SMS',
      ].filter(Boolean);
      if (lacking.length > 0) {
        report(
          fail(
            check,
            `belongs to the account but is not enabled for ${lacking.join(' and ')}.`,
            `enable it in Plivo's console, or use a number that has both (${setting}).`,
          ),
        );
        continue;
      }
      report(pass(check, 'belongs to the account, voice and SMS enabled'));
    } catch (error) {
      report(
        fail(check, `Plivo could not be reached (${(error as Error).name}).`, 'check the network and retry.'),
      );
    }
  }
}

async function checkWebhookProbe(deps: PreflightDeps, webhookUrl: string, report: (result: Result) => void) {
  const check = 'webhook URL';
  const url = `${webhookUrl.replace(/\/$/, '')}/v1/plivo/hangup?v=${PROBE_ID}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      // Unsigned: the function must refuse it before anything else, and record nothing.
      body: new URLSearchParams({ CallUUID: 'preflight-probe', CallStatus: 'completed' }).toString(),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    await response.text();
    if (response.status === 403) {
      report(pass(check, 'an unsigned request is refused with 403, as it must be'));
    } else if (response.status >= 500) {
      report(
        fail(
          check,
          `an unsigned request got ${response.status}: the hangup function is failing.`,
          'read the log group in the stack output HangupLogGroup (a missing secret grant or a crash at cold start).',
        ),
      );
    } else {
      report(
        fail(
          check,
          `an unsigned request got ${response.status}, not 403.`,
          'check that WebhookUrl is the webhook HTTP API and that this version is deployed.',
        ),
      );
    }
  } catch (error) {
    report(
      fail(check, `could not be reached (${(error as Error).name}).`, 'check the stack output WebhookUrl.'),
    );
  }
}

async function checkAlarmTopic(deps: PreflightDeps, topicArn: string, report: (result: Result) => void) {
  const check = 'alarm topic';
  const fix = `confirm the email AWS sent to alarmEmail, or subscribe: aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint <you@example.com>`;
  try {
    const subscriptions = [];
    let next: string | undefined;
    do {
      const page = await deps.sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: next }),
      );
      subscriptions.push(...(page.Subscriptions ?? []));
      next = page.NextToken;
    } while (next);
    const confirmed = subscriptions.filter(
      (s) => s.SubscriptionArn && !['PendingConfirmation', 'Deleted'].includes(s.SubscriptionArn),
    );
    if (confirmed.length > 0) report(pass(check, `${confirmed.length} confirmed subscription(s)`));
    else
      report(
        fail(
          check,
          subscriptions.length > 0
            ? 'its subscriptions are all pending confirmation: no one would hear an alarm.'
            : 'has no subscription: no one would hear an alarm.',
          fix,
        ),
      );
  } catch (error) {
    report(
      fail(
        check,
        `could not be read (${(error as Error).name}).`,
        'run this with credentials that may list its subscriptions.',
      ),
    );
  }
}

async function main() {
  const { values } = parseArgs({ options: { stack: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help || !values.stack) {
    console.log('Usage: npm run preflight -- --stack NAME   (read-only checks of a deployed stack)');
    return values.help ? 0 : 1;
  }
  return preflight({
    stackName: values.stack,
    cloudFormation: new CloudFormationClient({}),
    secrets: new SecretsManagerClient({}),
    sns: new SNSClient({}),
    plivoApiUrl: process.env.PLIVO_API_URL || 'https://api.plivo.com',
    timeoutMs: 10_000,
    print: (line) => console.log(line),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(error instanceof OperatorError ? error.message : `${error.name}: ${error.message}`);
      process.exit(1);
    },
  );
}
