import { parseArgs } from 'node:util';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SECRET_MAX_AGE_SECONDS } from '#platform/secrets.ts';
import { nextRotationStep, type RotationTimings } from './key-rotation.ts';
import { OperatorError, requireOutput, stackOutputs } from './stack-outputs.ts';

/**
 * `npm run rotate-keys -- --stack NAME`: one step of the key-ring rotation each run (ops/key-rotation.ts),
 * on the stack's key-ring secret. Prints key ids and times, never key material. Exit status: 0 when a phase
 * completed, 2 when phase 2 is refused as too soon (run it again later), 1 on an error.
 */
export interface RotateDeps {
  secrets: SecretsManagerClient;
  secretId: string;
  timings: RotationTimings;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  print: (line: string) => void;
}

const PROGRESS_EVERY_MS = 30_000;

export async function rotateKeys(deps: RotateDeps): Promise<0 | 2> {
  const { secrets, secretId, print } = deps;
  const read = async () => {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new OperatorError('The key-ring secret has no string value.');
    return out.SecretString;
  };
  const write = (secret: string) =>
    secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secret }));

  for (;;) {
    const step = nextRotationStep(await read(), deps.now(), deps.timings);
    switch (step.kind) {
      case 'add':
        await write(step.secret);
        print(`Phase 1: added key ${step.keyId}; it becomes current at ${iso(step.switchAt)}, once every`);
        print(`function's cached key ring (up to ${deps.timings.cacheSeconds} s old) knows it.`);
        break;
      case 'wait': {
        const left = step.switchAt - deps.now();
        print(`Waiting for the functions' caches: ${step.keyId} becomes current in ${duration(left)}…`);
        await deps.sleep(Math.min(left, PROGRESS_EVERY_MS));
        break;
      }
      case 'switch':
        await write(step.secret);
        print(
          `Phase 1 done: ${step.keyId} is current. Codes made under ${step.oldKeys.join(', ')} still verify.`,
        );
        print(
          `Run this command again after ${iso(step.removableAt)} to remove ${step.oldKeys.join(', ')} (phase 2).`,
        );
        return 0;
      case 'too-soon':
        print(`Phase 2 refused: codes made under ${step.oldKeys.join(', ')} may still be checked.`);
        print(`It becomes safe at ${iso(step.removableAt)} (in ${duration(step.removableAt - deps.now())}).`);
        return 2;
      case 'unknown-age':
        throw new OperatorError(
          `The key ring has old keys (${step.oldKeys.join(', ')}) and no record of when ${step.keyId} was added ` +
            '(rotated by hand?): remove them by hand once the code lifetime plus the retention period have ' +
            'passed since the switch (docs/deploying.md, "Key-ring rotation", manual steps).',
        );
      case 'remove':
        await write(step.secret);
        print(`Phase 2 done: removed ${step.removed.join(', ')}; ${step.keyId} is the only key.`);
        return 0;
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function duration(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

async function main() {
  const { values } = parseArgs({ options: { stack: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help || !values.stack) {
    console.log('Usage: npm run rotate-keys -- --stack NAME   (docs/deploying.md, "Key-ring rotation")');
    return values.help ? 0 : 1;
  }
  const outputs = await stackOutputs(values.stack);
  const timings = {
    codeTtlSeconds: Number(requireOutput(outputs, 'CodeTtlSeconds', values.stack)),
    retentionSeconds: Number(requireOutput(outputs, 'RetentionSeconds', values.stack)),
    cacheSeconds: SECRET_MAX_AGE_SECONDS,
  };
  return rotateKeys({
    secrets: new SecretsManagerClient({}),
    secretId: requireOutput(outputs, 'KeyRingSecretArn', values.stack),
    timings,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    print: (line) => console.log(line),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      // An SDK error names the service's complaint; never a secret's value (none is ever in a message here).
      console.error(error instanceof OperatorError ? error.message : `${error.name}: ${error.message}`);
      process.exit(1);
    },
  );
}
