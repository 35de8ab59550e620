import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStandIn, awsStandIn } from '../support/aws-stand-in.ts';
import { wrongCode } from '../support/harness.ts';
import {
  heardDigits,
  SPAWN_TIMEOUT_MS,
  type SpawnedStack,
  spawnLocalStack,
  waitForCall,
  waitForMessage,
} from '../support/local-stack.ts';

/**
 * `npm run smoke` against the local stack, exactly as an operator runs it against AWS: a child process
 * (`node ops/smoke.ts`, which the npm script runs), the code fed on its stdin. `--stack` reads the outputs and
 * the API key through the AWS SDK, here from a loopback stand-in for CloudFormation and API Gateway.
 */

let stack: SpawnedStack;
let aws: AwsStandIn;

beforeAll(async () => {
  [stack, aws] = await Promise.all([spawnLocalStack({ PHONE_MIN_GAP_SECONDS: '0' }), awsStandIn()]);
  aws.stacks.set('VoiceOtp', { ApiUrl: stack.url, ApiKeyId: 'key-id-1' });
  aws.apiKeys.set('key-id-1', stack.apiKey);
}, SPAWN_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([stack?.stop(), aws?.close()]);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command; once it has started a verification, `code()` says what to type on its stdin. */
function runSmoke(
  args: string[],
  code?: () => Promise<string>,
  env: Record<string, string> = {},
): Promise<Run> {
  const child = spawn(process.execPath, ['ops/smoke.ts', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      ...process.env,
      ...env,
      AWS_ENDPOINT_URL: aws.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'stand-in',
      AWS_SECRET_ACCESS_KEY: 'stand-in',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let fed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (!fed && code && stdout.includes(' started: ')) {
      fed = true;
      code().then(
        (typed) => child.stdin.end(`${typed}\n`),
        () => child.stdin.end(),
      );
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  if (!code) child.stdin.end();
  return new Promise((resolve) =>
    child.once('exit', (exitCode) => resolve({ code: exitCode, stdout, stderr })),
  );
}

describe('npm run smoke', () => {
  it('voice, with --stack: prints the id and the call’s progress, checks the code heard, exits 0 on approval', async () => {
    const phone = '+14155550170';
    const run = await runSmoke(['--stack', 'VoiceOtp', '--phone', phone], async () => {
      const call = await waitForCall(stack, phone, (c) => heardDigits(c.transcript).length >= 6);
      return heardDigits(call.transcript).slice(0, 6);
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Verification vrf_[0-9A-Z]{26} started: call to \+1\*{8}70/);
    expect(run.stdout).toMatch(/ {2}call: (queued|ringing|in-progress)/);
    expect(run.stdout).toMatch(/Final status: approved; call completed, \d+ s/);
  }, 60_000);

  it('sms, with --api-url and the key in VOICE_OTP_API_KEY: the code read from the SMS approves', async () => {
    const phone = '+14155550171';
    const run = await runSmoke(
      ['--api-url', stack.url, '--phone', phone, '--channel', 'sms'],
      async () => {
        const message = await waitForMessage(stack, phone, (m) => Boolean(m.text));
        return /\b(\d{6})\b/.exec(message.text ?? '')?.[1] ?? '';
      },
      { VOICE_OTP_API_KEY: stack.apiKey },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Final status: approved; SMS delivered/);
  }, 60_000);

  it('whatsapp: the code read in the WhatsApp message approves, and the outcome waits for read', async () => {
    const phone = '+14155550178';
    const run = await runSmoke(
      ['--api-url', stack.url, '--phone', phone, '--channel', 'whatsapp'],
      async () => {
        const message = await waitForMessage(stack, phone, (m) => Boolean(m.text));
        return /\*(\d{6})\*/.exec(message.text ?? '')?.[1] ?? '';
      },
      { VOICE_OTP_API_KEY: stack.apiKey },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/started: WhatsApp message to \+1\*{8}78/);
    expect(run.stdout).toMatch(/Final status: approved; WhatsApp message read\.$/m);
    // Not on WhatsApp: no fallback in a smoke test, so Plivo's refusal is the answer.
    const refused = await runSmoke(
      ['--api-url', stack.url, '--phone', '+12025550199', '--channel', 'whatsapp'],
      undefined,
      { VOICE_OTP_API_KEY: stack.apiKey },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('on WhatsApp');
  }, 60_000);

  it('a wrong code: exit 1 with the status', async () => {
    const phone = '+14155550172';
    const run = await runSmoke(['--stack', 'VoiceOtp', '--phone', phone], async () => {
      const call = await waitForCall(stack, phone, (c) => heardDigits(c.transcript).length >= 6);
      return wrongCode(heardDigits(call.transcript).slice(0, 6));
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Final status: pending; call');
    const typo = await runSmoke(['--stack', 'VoiceOtp', '--phone', '+14155550176'], async () => '12x456');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('400 invalid_code');
  }, 90_000);

  it('a wrong key: exit 1, naming VOICE_OTP_API_KEY', async () => {
    const run = await runSmoke(['--api-url', stack.url, '--phone', '+14155550173'], undefined, {
      VOICE_OTP_API_KEY: 'wrong',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The API refused the key (403 forbidden');
    expect(run.stderr).toContain('VOICE_OTP_API_KEY');
  });

  it('never takes the key on the command line (shell history, ps), and sends nothing', async () => {
    const before = (await stack.api('GET', '/_simulator/calls')).body.calls as unknown[];
    for (const args of [
      ['--api-url', stack.url, '--api-key', stack.apiKey, '--phone', '+14155550177'],
      ['--stack', 'VoiceOtp', '--api-key', stack.apiKey, '--phone', '+14155550177'],
    ]) {
      const run = await runSmoke(args);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('--api-key is not taken');
      expect(run.stderr).toContain('VOICE_OTP_API_KEY');
      expect(run.stderr + run.stdout).not.toContain(stack.apiKey);
    }
    // No key anywhere, and no terminal to ask on: it says where the key goes.
    const none = await runSmoke(['--api-url', stack.url, '--phone', '+14155550177'], undefined, {
      VOICE_OTP_API_KEY: '',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No API key: set VOICE_OTP_API_KEY');
    expect((await stack.api('GET', '/_simulator/calls')).body.calls).toHaveLength(before.length);
  });

  it('a number Plivo refuses: exit 1, saying so', async () => {
    const run = await runSmoke(['--api-url', stack.url, '--phone', '+12025550193'], undefined, {
      VOICE_OTP_API_KEY: stack.apiKey,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Plivo refused the number (422 call_rejected');
  });

  it('a wrong URL: exit 1, naming --api-url', async () => {
    const run = await runSmoke(['--api-url', 'http://127.0.0.1:9', '--phone', '+14155550174'], undefined, {
      VOICE_OTP_API_KEY: 'k',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Could not reach the API at http://127.0.0.1:9');
    const wrongPath = await runSmoke(
      ['--api-url', `${stack.url}/prod`, '--phone', '+14155550174'],
      undefined,
      {
        VOICE_OTP_API_KEY: stack.apiKey,
      },
    );
    expect(wrongPath.code).toBe(1);
    expect(wrongPath.stderr).toContain('Check --api-url');
  });

  it('an unknown stack: exit 1, naming it', async () => {
    const run = await runSmoke(['--stack', 'Nope', '--phone', '+14155550175']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Stack Nope was not found');
  });
});
