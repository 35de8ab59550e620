import { newKeyRingSecret } from '#platform/keyring.ts';
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { functionEnvironment } from './environment.ts';
import { type PlivoApi, startPlivoApi } from './plivo-simulator.ts';

export interface StandaloneResources {
  plivo: PlivoApi;
  /** The functions' environment on a fresh table (created here when `createTable`), with a fresh key ring. */
  env: Record<string, string>;
}

/**
 * For the phase runners started alone (`npm run bench:cold`, `bench:warm`, `bench:scale`): starts
 * DynamoDB Local and the Plivo simulator, hands `run` the functions' environment, and stops both whatever
 * happens. An error is printed and sets a failing exit code.
 */
export async function runStandalone(
  tableName: string,
  options: { createTable: boolean },
  run: (resources: StandaloneResources) => Promise<void>,
): Promise<void> {
  const running: { dynamodb?: DynamoDbLocal; plivo?: PlivoApi } = {};
  try {
    const dynamodb = await startDynamoDbLocal();
    running.dynamodb = dynamodb;
    const plivo = await startPlivoApi();
    running.plivo = plivo;
    // As in `npm run bench`: only the phases that read the stream have one (it slows every write as it grows).
    if (options.createTable) await createTable(dynamodb, tableName, { stream: false });
    const env = functionEnvironment({
      dynamodb,
      tableName,
      publicUrl: 'https://voice-otp.bench.invalid/prod',
      keyRingSecret: newKeyRingSecret(),
      plivo,
    });
    await run({ plivo, env });
  } catch (error) {
    process.exitCode = 1;
    console.error(error);
  } finally {
    await running.plivo?.stop();
    await running.dynamodb?.stop();
  }
}
