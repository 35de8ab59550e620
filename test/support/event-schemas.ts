import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { OUTCOME_EVENT_TYPES, type OutcomeEvent } from '#events/outcome-events.ts';

/** schemas/events/<type>.json, the published contract of each outcome event's payload. */
const ajv = new Ajv2020({
  strict: true,
  allErrors: true,
  formats: { 'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/ },
});
const validators = new Map(
  OUTCOME_EVENT_TYPES.map((type) => [
    type,
    ajv.compile(
      JSON.parse(
        readFileSync(new URL(`../../schemas/events/${type}.json`, import.meta.url), 'utf8'),
      ) as object,
    ),
  ]),
);

/**
 * Holds an event to its type's schema and to what no payload may hold: a code, a hash or a token (`secrets`),
 * or six or more consecutive digits (a phone number's).
 */
/**
 * Six or more consecutive digits outside the verification ids: a random id (26 Crockford characters, 10 of
 * 32 of them digits) holds such a run about once in fifty, and it is no phone number.
 */
export function expectNoDigitRun(text: string) {
  expect(text.replace(/vrf_[0-9A-Z]{26}/g, 'vrf_')).not.toMatch(/\d{6,}/);
}

export function expectValidEvent(event: OutcomeEvent, secrets: readonly string[] = []) {
  const validate = validators.get(event.payload.type);
  if (!validate) throw new Error(`no schema for ${event.payload.type}`);
  expect(validate(event.payload), JSON.stringify(validate.errors)).toBe(true);
  expect(event.id).toMatch(/^evt_[A-Za-z0-9_-]{26}$/);
  const text = JSON.stringify(event.payload);
  expectNoDigitRun(text);
  for (const secret of secrets) expect(text).not.toContain(secret);
}
