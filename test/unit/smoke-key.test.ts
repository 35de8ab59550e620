import { describe, expect, it, vi } from 'vitest';
import { apiKeyFrom } from '../../ops/smoke.ts';

/** Where `npm run smoke` takes the API key from without --stack: the environment, or a prompt; never argv. */
describe("npm run smoke's API key", () => {
  const source = (overrides: Partial<Parameters<typeof apiKeyFrom>[0]> = {}) => ({
    argument: undefined,
    env: {},
    terminal: false,
    prompt: vi.fn(async () => 'typed-key'),
    ...overrides,
  });

  it('comes from VOICE_OTP_API_KEY first, asking nothing', async () => {
    const from = source({ env: { VOICE_OTP_API_KEY: ' env-key ' }, terminal: true });
    expect(await apiKeyFrom(from)).toBe('env-key');
    expect(from.prompt).not.toHaveBeenCalled();
  });

  it('is asked for on a terminal when the environment has none', async () => {
    const from = source({ terminal: true });
    expect(await apiKeyFrom(from)).toBe('typed-key');
    expect(from.prompt).toHaveBeenCalledOnce();
    await expect(apiKeyFrom(source({ terminal: true, prompt: async () => '  ' }))).rejects.toThrow(
      'No API key was given.',
    );
  });

  it('is never taken from the command line, even with the environment set', async () => {
    for (const from of [
      source({ argument: 'k' }),
      source({ argument: 'k', env: { VOICE_OTP_API_KEY: 'e' } }),
    ])
      await expect(apiKeyFrom(from)).rejects.toThrow(/--api-key is not taken.*VOICE_OTP_API_KEY/);
  });

  it('without a terminal or the variable, says where it goes', async () => {
    await expect(apiKeyFrom(source())).rejects.toThrow('No API key: set VOICE_OTP_API_KEY');
  });
});
