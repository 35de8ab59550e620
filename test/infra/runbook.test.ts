import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { synthTemplate } from './synth.ts';
import { ofType } from './template.ts';

/**
 * RUNBOOK.md has an entry for every alarm the stack creates, read from the synthesized template (so an alarm
 * added anywhere in the stack, by any construct, needs its entry), and none for an alarm that is gone.
 */
const runbook = readFileSync(new URL('../../RUNBOOK.md', import.meta.url), 'utf8');

/** The alarms' construct ids: `VoiceOtp/Monitoring/Api5xx/Resource` → `Api5xx`. */
function alarmIds(settings: Record<string, unknown>): string[] {
  return ofType(synthTemplate(settings), 'AWS::CloudWatch::Alarm').map(([logicalId, resource]) => {
    const path = String(resource.Metadata?.['aws:cdk:path'] ?? '');
    const id = path.split('/').at(-2);
    if (!id) throw new Error(`alarm ${logicalId} has no construct path`);
    return id;
  });
}

/** The ids in backticks in the headings of RUNBOOK.md's "Alarms" section. */
function runbookEntries(): string[] {
  const section = runbook.split(/^## /m).find((part) => part.startsWith('Alarms'));
  if (!section) throw new Error('RUNBOOK.md has no "## Alarms" section');
  return section
    .split('\n')
    .filter((line) => line.startsWith('### '))
    .flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? ''));
}

test('every alarm of the stack has a runbook entry, and every entry an alarm', () => {
  // Every optional part on, so every alarm the stack can create is there.
  const alarms = new Set(
    alarmIds({
      waf: 'true',
      alarmEmail: 'ops@example.com',
      whatsappFromNumber: '+14155550111',
      whatsappTemplate: 'acme_verification',
    }),
  );
  expect(alarms.size).toBeGreaterThanOrEqual(17);
  const entries = new Set(runbookEntries());
  expect({
    withoutEntry: [...alarms].filter((id) => !entries.has(id)).sort(),
    withoutAlarm: [...entries].filter((id) => !alarms.has(id)).sort(),
  }).toEqual({ withoutEntry: [], withoutAlarm: [] });
}, 120_000);

test('each entry says what it means, how to confirm it and what to do', () => {
  const section = runbook.split(/^## /m).find((part) => part.startsWith('Alarms')) ?? '';
  const entries = section.split(/^### /m).slice(1);
  for (const entry of entries) {
    const name = entry.split('\n')[0];
    expect(entry, name).toContain('**Means**');
    expect(entry, name).toContain('**Confirm**');
    expect(entry, name).toContain('**Do**');
  }
});
