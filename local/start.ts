import { JAVA_MISSING, javaAvailable } from './dynamodb-local.ts';
import { SPECIAL_RECIPIENTS } from './message-simulator.ts';
import { SPECIAL_CALLEES } from './simulator.ts';
import { startLocalStack } from './stack.ts';

/** `npm start`: the whole service on this machine, offline. */
if (!javaAvailable()) {
  console.error(JAVA_MISSING);
  process.exit(1);
}

const stack = await startLocalStack({
  port: Number(process.env.PORT ?? 3000),
  env: process.env,
  log: (line) => console.log(line),
});

const lines =
  stack.mode === 'simulated'
    ? [
        `voice-otp is running locally (ready in ${stack.startupMs} ms), with DynamoDB Local and the Plivo phone simulator.`,
        '',
        `  Demo page   ${stack.url}/`,
        `  API         ${stack.url}/v1/verifications`,
        `  API key     ${stack.apiKey}    (send it as x-api-key)`,
        `  Simulator   ${stack.url}/_simulator/calls  and the SMS and WhatsApp inbox ${stack.url}/_simulator/messages`,
        '',
        'Try it:',
        `  curl -s -X POST ${stack.url}/v1/verifications -H 'x-api-key: ${stack.apiKey}' -H 'content-type: application/json' -d '{"phone":"+14155550123"}'`,
        '',
        'Special callees:',
        ...Object.entries(SPECIAL_CALLEES).map(([number, behaviour]) => `  ${number}  ${behaviour}`),
        '  any other   answers and listens',
        '',
        'Special message recipients (every callee above receives SMS and WhatsApp messages normally):',
        ...Object.entries(SPECIAL_RECIPIENTS).map(([number, behaviour]) => `  ${number}  ${behaviour}`),
        '  any other   delivered (and a WhatsApp message read)',
        '',
      ]
    : [
        `voice-otp is running locally (ready in ${stack.startupMs} ms) and places REAL calls through Plivo.`,
        `  API ${stack.url}/v1/verifications, x-api-key ${stack.apiKey}`,
        `  Plivo will call back ${process.env.PUBLIC_URL}: it must reach this machine.`,
        '  The phone simulator and the demo page are off in this mode.',
        '',
      ];
console.log(lines.join('\n'));

const shutdown = () => {
  stack.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
