import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ResealReport, resealWebhookSecrets } from '#events/app-webhooks.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import { SECRET_MAX_AGE_SECONDS } from '#platform/secrets.ts';
import { webhookSecretStore } from '#store/dynamodb-webhooks.ts';
import type { WebhookSecretStore } from '#store/store.ts';
import { nextRotationStep, type RotationTimings } from './key-rotation.ts';
import { OperatorError, requireOutput, stackOutputs } from './stack-outputs.ts';

/**
 * `npm run rotate-keys -- --stack NAME`: one step of the key-ring rotation each run (ops/key-rotation.ts),
 * on the stack's key-ring secret. Prints key ids and times, never key material. Exit status: 0 when a phase
 * completed, 2 when phase 2 is refused as too soon (run it again later), 1 on an error.
 *
 * Every write is conditional on the secret being the version this run read (Secrets Manager has no
 * conditional PutSecretValue: the new version is put aside as AWSPENDING, then AWSCURRENT is moved to it from
 * the version read, which Secrets Manager refuses once AWSCURRENT has moved on), so two runs at once, or a run
 * and a hand edit, never overwrite each other. Before phase 2 removes the old keys, every app webhook secret
 * sealed under one of them is sealed again under the current key (the table's `WEBHOOK#` items).
 */
export interface RotateDeps {
  secrets: SecretsManagerClient;
  secretId: string;
  /** The table's app webhook secrets, resealed before phase 2. */
  webhooks: WebhookSecretStore;
  timings: RotationTimings;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  print: (line: string) => void;
}

const PROGRESS_EVERY_MS = 30_000;
/** Passes over the webhook secrets before phase 2 gives up on one that keeps moving under an old key. */
const RESEAL_PASSES = 3;

interface ReadSecret {
  value: string;
  versionId: string;
}

export async function rotateKeys(deps: RotateDeps): Promise<0 | 2> {
  const { secrets, secretId, print } = deps;
  const read = async (): Promise<ReadSecret> => {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString || !out.VersionId)
      throw new OperatorError('The key-ring secret has no string value.');
    return { value: out.SecretString, versionId: out.VersionId };
  };
  const write = (secret: string, over: ReadSecret) => writeIfUnchanged(secrets, secretId, secret, over);

  for (;;) {
    const current = await read();
    const step = nextRotationStep(current.value, deps.now(), deps.timings);
    switch (step.kind) {
      case 'add':
        await write(step.secret, current);
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
        await write(step.secret, current);
        print(
          `Phase 1 done: ${step.keyId} is current. Codes made under ${step.oldKeys.join(', ')} still verify.`,
        );
        print(
          `Run this command again after ${iso(step.removableAt)} to remove ${step.oldKeys.join(', ')} (phase 2).`,
        );
        return 0;
      case 'too-soon':
        if (step.secret) {
          await write(step.secret, current);
          print(`No record of when ${step.keyId} became current (rotated by hand?): recorded now.`);
        }
        print(`Phase 2 refused: codes made under ${step.oldKeys.join(', ')} may still be checked.`);
        print(`It becomes safe at ${iso(step.removableAt)} (in ${duration(step.removableAt - deps.now())}).`);
        return 2;
      case 'remove': {
        const report = await resealUntilStable(deps, parseKeyRing(current.value));
        if (report.resealed.length > 0)
          print(`Resealed the webhook secrets of ${report.resealed.length} API key(s) under ${step.keyId}.`);
        if (report.unreadable.length > 0)
          print(
            `Webhook secrets that open under no key, left as they are (their deliveries already fail; the app ` +
              `must PUT /v1/webhook again, RUNBOOK "WebhookSecretUnreadable"): API keys ${report.unreadable.join(', ')}.`,
          );
        await write(step.secret, current);
        print(`Phase 2 done: removed ${step.removed.join(', ')}; ${step.keyId} is the only key.`);
        return 0;
      }
    }
  }
}

/**
 * Reseals until a pass finds nothing left under an old key; refuses phase 2 (nothing removed) if secrets
 * keep appearing under one, which no function can still do this long after the switch.
 */
async function resealUntilStable(deps: RotateDeps, ring: ReturnType<typeof parseKeyRing>) {
  const total: ResealReport = { resealed: [], current: 0, unreadable: [] };
  for (let pass = 0; pass < RESEAL_PASSES; pass++) {
    const report = await resealWebhookSecrets(deps.webhooks, ring);
    total.resealed.push(...report.resealed);
    total.unreadable = report.unreadable;
    if (report.resealed.length === 0) return total;
  }
  throw new OperatorError(
    `App webhook secrets kept appearing under an old key after ${RESEAL_PASSES} passes: phase 2 refused, ` +
      'nothing removed. Check that no function runs with an old key ring, and run the command again.',
  );
}

/** Writes `secret` as the new current version only if the current one is still `over` (see above). */
async function writeIfUnchanged(
  secrets: SecretsManagerClient,
  secretId: string,
  secret: string,
  over: ReadSecret,
): Promise<void> {
  const versionId = randomUUID();
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: secret,
      ClientRequestToken: versionId,
      VersionStages: ['AWSPENDING'],
    }),
  );
  try {
    await secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: versionId,
        RemoveFromVersionId: over.versionId,
      }),
    );
  } catch (error) {
    // Secrets Manager's answer when AWSCURRENT is no longer on the version named in RemoveFromVersionId.
    if ((error as Error).name !== 'InvalidParameterException') throw error;
    throw new OperatorError(
      'The key-ring secret changed since this run read it (another rotate-keys, or a change by hand): ' +
        'nothing was written over it. Run the command again to continue from the secret as it is now.',
    );
  } finally {
    // The label only marked the version being written; current or refused, it is done with.
    await secrets
      .send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSPENDING',
          RemoveFromVersionId: versionId,
        }),
      )
      .catch(() => undefined);
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
    webhooks: webhookSecretStore({
      db: DynamoDBDocumentClient.from(new DynamoDBClient({})),
      tableName: requireOutput(outputs, 'TableName', values.stack),
      retentionSeconds: timings.retentionSeconds,
    }),
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
