import { describe, expect, it } from 'vitest';
import { loadConfig } from '#platform/config.ts';
import { SMS_VERIFICATION, VOICE_VERIFICATION, WHATSAPP_VERIFICATION } from '../../bench/cost.ts';
import { BENCH_SETTINGS, functionEnvironment, type LocalResources } from '../../bench/environment.ts';

const LOCAL: LocalResources = {
  dynamodb: {
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  },
  tableName: 'voice-otp-bench',
  publicUrl: 'http://127.0.0.1:2',
  keyRingSecret: JSON.stringify({ current: 1, keys: { 1: Buffer.alloc(32, 1).toString('base64') } }),
  plivo: { apiUrl: 'http://127.0.0.1:3', authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: 'token' },
};

describe("the bench's function environment", () => {
  // The bench measures sends on every channel; a stack that refused one would stop the run at its first send.
  it('is read by the service as a stack that sends on every channel the bench measures', () => {
    const config = loadConfig(functionEnvironment(LOCAL));
    for (const kind of [VOICE_VERIFICATION, SMS_VERIFICATION, WHATSAPP_VERIFICATION]) {
      expect(config.channels).toContain(kind.channel);
    }
  });

  it('raises every limit it names', () => {
    const environment = functionEnvironment(LOCAL);
    for (const [name, value] of Object.entries(BENCH_SETTINGS)) expect(environment[name]).toBe(value);
  });
});
