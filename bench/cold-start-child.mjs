// One cold start, as Lambda's runtime does it: a fresh Node process imports the bundle and hands its handler
// one event. Plain JavaScript on purpose: a TypeScript entry point makes Node load its type stripper (about
// 30 ms and 17 MB here), which every sample would then include.
//
// argv[2]: the bundle's file URL, or "-" to measure Node alone. BENCH_EVENT: the event, as JSON.
// Writes one JSON line to fd 3: times in ms since the process started, and its peak RSS.
import { writeSync } from 'node:fs';

const loading = performance.now();
let imported = loading;
let handled = loading;
let result = null;
if (process.argv[2] !== '-') {
  const { handler } = await import(process.argv[2]);
  imported = performance.now();
  result = await handler(JSON.parse(process.env.BENCH_EVENT ?? 'null'), { awsRequestId: 'bench-cold-start' });
  handled = performance.now();
}
writeSync(
  3,
  `${JSON.stringify({
    bootMs: loading,
    importMs: imported - loading,
    invokeMs: handled - imported,
    readyMs: handled,
    maxRssKiB: process.resourceUsage().maxRSS,
    result,
  })}\n`,
);
// The SDK's keep-alive sockets would hold the process open; Lambda freezes it instead.
process.exit(0);
