import type { Cost } from './cost.ts';
import { COST_TARGET, type Results } from './results.ts';
import { DELIVERY_REPORT, SMS_SEND } from './routes.ts';
import type { ScaleOutput } from './scale.ts';

/**
 * The results as tables: plain text for the terminal, Markdown for docs/performance.md. Both come from the same
 * rows, so the page shows exactly what the run printed (a test holds the page to bench/results.json).
 */
interface Section {
  title: string;
  headers: string[];
  rows: string[][];
  notes: string[];
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const ms = (value: number, digits = 1) => `${value.toFixed(digits)} ms`;
const x = (value: number) => `${value.toFixed(2)}×`;
const usd = (value: number) => `$${value < 0.001 ? value.toFixed(8) : value.toFixed(4)}`;
const mark = (met: boolean) => (met ? 'met' : 'MISSED');

function sections(r: Results): Section[] {
  const targetFor = (name: string) => r.targets.filter((t) => t.target.startsWith(`${name}:`));
  const find = (name: string, what: string) => targetFor(name).find((c) => c.target.includes(what));
  const goalOf = (name: string, what: string) => {
    const t = find(name, what);
    return t ? `${t.goal.replace(' floor', '')} ${mark(t.met)}` : '';
  };
  const coldGoal = (name: string) => {
    const time = find(name, 'cold start');
    const rss = find(name, 'RSS');
    return time && rss ? `${time.goal.replace(' floor', '')}: ${mark(time.met)}, ${mark(rss.met)}` : '';
  };
  return [
    {
      title: 'Bundle size (CDK NodejsFunction bundling, AWS SDK inside)',
      headers: [
        'bundle',
        'minified',
        'gzip',
        '× floor',
        '× floor (gzip)',
        'target',
        'largest additions over the floor',
      ],
      rows: r.bundles.map((b) => [
        b.name === 'floor' ? 'floor (DynamoDB GetItem)' : b.name,
        kib(b.bytes),
        kib(b.gzipBytes),
        x(b.ratio),
        x(b.gzipRatio),
        b.name === 'floor' ? '' : goalOf(b.name, 'bundle'),
        b.beyondFloor.map((p) => `${p.name} ${kib(p.bytes)}`).join(', '),
      ]),
      notes: ['Source maps (index.mjs.map) ship beside each bundle and are not counted here.'],
    },
    {
      title: `Cold start: fresh Node process per sample, one real event (NODE_OPTIONS=${r.coldStart.nodeOptions}, as deployed)`,
      headers: [
        'process',
        'samples',
        'median',
        'p90',
        '× floor',
        'Node boot',
        'import',
        'import × floor',
        'first invoke',
        'peak RSS',
        'RSS × floor',
        'target (time, RSS)',
      ],
      rows: r.coldStart.rows.map((c) => {
        const bundled = !['node', 'floor'].includes(c.name);
        return [
          c.name === 'node' ? 'node alone (no bundle)' : c.name === 'floor' ? 'floor (GetItem)' : c.name,
          String(c.samples),
          ms(c.totalMs.p50),
          ms(c.totalMs.p90),
          x(c.ratio),
          ms(c.bootMs),
          c.name === 'node' ? '' : ms(c.importMs.p50),
          bundled ? x(c.importRatio) : '',
          c.name === 'node' ? '' : ms(c.invokeMs.p50),
          `${c.peakRssMiB.p50.toFixed(0)} MiB`,
          x(c.rssRatio),
          bundled ? coldGoal(c.name) : '',
        ];
      }),
      notes: [
        'median/p90: from spawn() to the handler result arriving in the parent. import: loading the bundle ' +
          "(Lambda's Init Duration). first invoke: config, clients and keys built on first use, plus the work.",
        `send places a call; ${SMS_SEND} is the same bundle sending the code by SMS (channel "sms"), held to ` +
          "send's targets.",
      ],
    },
    {
      title: 'Cold start without --enable-source-maps (same bundles)',
      headers: ['process', 'samples', 'median', 'import', 'peak RSS', '× floor', 'median saved vs deployed'],
      rows: r.coldStart.withoutSourceMaps.map((c) => {
        const deployed = r.coldStart.rows.find((row) => row.name === c.name);
        return [
          c.name === 'floor' ? 'floor (GetItem)' : c.name,
          String(c.samples),
          ms(c.totalMs.p50),
          ms(c.importMs.p50),
          `${c.peakRssMiB.p50.toFixed(0)} MiB`,
          x(c.ratio),
          deployed ? ms(deployed.totalMs.p50 - c.totalMs.p50) : '',
        ];
      }),
      notes: [],
    },
    {
      title: `Warm latency: ${r.settings.warmInvocations} invocations per route in one process, each paired with its raw DynamoDB call`,
      headers: [
        'route',
        'p50',
        'p99',
        'floor',
        'floor p50',
        'floor p99',
        '× p50',
        '× p99',
        'CPU/inv',
        'log bytes/inv',
      ],
      rows: r.warm.map((w) => [
        w.route,
        ms(w.latencyMs.p50, 2),
        ms(w.latencyMs.p99, 2),
        `raw ${w.floor.operation}`,
        ms(w.floor.latencyMs.p50, 2),
        ms(w.floor.latencyMs.p99, 2),
        x(w.ratioP50),
        x(w.ratioP99),
        ms(w.cpuMs, 2),
        w.logBytes.toFixed(0),
      ]),
      notes: [
        "floor: the route's own DynamoDB requests, captured as it issued them and replayed through a bare " +
          'document client on a copy of the item it works on (bench/routes.ts).',
        'CPU/inv: CPU time of this process per invocation (the DynamoDB Local server runs in its own process).',
        `${SMS_SEND}: sends the code by SMS through the simulated Message API. ${DELIVERY_REPORT}: Plivo's signed ` +
          'report to hangup, each message getting queued, sent and delivered in turn.',
      ],
    },
    {
      title:
        'DynamoDB round trips and capacity per invocation (SDK middleware, ReturnConsumedCapacity TOTAL)',
      headers: [
        'route',
        'round trips',
        'most',
        'operations (most common)',
        'design',
        'design calls',
        'RRU',
        'WRU',
      ],
      rows: r.roundTrips.map((t) => [
        t.route,
        t.measured.toFixed(2),
        String(t.max),
        t.operations.join(' → ') || 'none',
        `${t.design.count}${t.max > t.design.count ? ' MISSED' : ''}`,
        t.design.calls,
        t.readUnits.toFixed(2),
        `${t.writeUnits.toFixed(2)}${t.estimatedWriteUnits ? ` (${t.estimatedWriteUnits.toFixed(2)} estimated)` : ''}`,
      ]),
      notes: [
        'design: the round trips the route needs (bench/routes.ts, from DESIGN.md); a route whose invocations ' +
          'ever take more misses its target.',
        'Units as DynamoDB Local reports them; a refused conditional write reports none but is billed, so its ' +
          'units are estimated from the size of the item it was refused on.',
      ],
    },
    {
      title: `Throughput: ${r.throughput.concurrency} requests in flight`,
      headers: ['load', 'requests', 'req/s', 'p50', 'p99', '× raw'],
      rows: [
        [
          'right-code checks over HTTP (local stack)',
          String(r.throughput.checks.requests),
          r.throughput.checks.requestsPerSecond.toFixed(0),
          ms(r.throughput.checks.latencyMs.p50),
          ms(r.throughput.checks.latencyMs.p99),
          x(r.throughput.ratio),
        ],
        [
          'raw UpdateItem (same DynamoDB Local)',
          String(r.throughput.rawUpdateItem.requests),
          r.throughput.rawUpdateItem.requestsPerSecond.toFixed(0),
          ms(r.throughput.rawUpdateItem.latencyMs.p50),
          ms(r.throughput.rawUpdateItem.latencyMs.p99),
          x(1),
        ],
      ],
      notes: [],
    },
    scaleSection(r.scale),
    costSection(r.cost, [`Prices: ${r.cost.prices.asOf}.`]),
    costSection(r.smsCost, [
      `Prices: ${r.smsCost.prices.asOf}; ${r.smsCost.prices.plivoUsSmsSource}.`,
      'check right is the route measured on voice verifications: checking a code does not depend on the ' +
        'channel that carried it. Segments: the most any SMS of this run took.',
    ]),
    {
      title: 'Targets',
      headers: ['target', 'goal', 'measured', 'result'],
      rows: r.targets.map((t) => [t.target, t.goal, t.measured, t.met ? 'met' : `MISSED by ${t.gap}`]),
      notes: [],
    },
  ];
}

/** bench/scale.ts: the hottest item's share of the sends' writes, with and without shards, and the cap held. */
function scaleSection(scale: ScaleOutput): Section {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  const passes = [
    ['sharded', scale.sharded],
    ['one item per counter', scale.unsharded],
    [`sharded, DAILY_CALL_CAP ${scale.capped.dailyCallCap}`, scale.capped],
  ] as const;
  return {
    title: `Scale: real sends, ${scale.concurrency} in flight, every DynamoDB write counted per item`,
    headers: [
      'pass',
      'shards',
      'sends',
      'admitted',
      'refused',
      'writes',
      'BatchGet',
      's',
      'hottest item',
      'its share',
    ],
    rows: passes.map(([name, pass]) => [
      name,
      String(pass.shards),
      String(pass.sends),
      String(pass.admitted),
      Object.entries(pass.refused)
        .map(([code, n]) => `${n} ${code}`)
        .join(', ') || '0',
      String(pass.writes),
      String(pass.batchReads),
      pass.seconds.toFixed(1),
      pass.hottest.item,
      `${pct(pass.hottest.shareOfSends)} (1/N = ${pct(1 / pass.shards)})`,
    ]),
    notes: [
      "its share: the hottest item's writes (refused conditional writes included) over the sends; one item " +
        'takes about 1,000 writes a second on DynamoDB, so a counter every send writes caps the service there.',
      `The capped pass ${scale.capped.exact ? 'admitted exactly' : 'did NOT admit exactly'} the cap: ` +
        `${scale.capped.admitted} admitted, the global counter's shards holding ${scale.capped.globalCounted}.`,
    ],
  };
}

/** The scale phase alone (npm run bench:scale, bench/scale-only.ts). */
export const renderScaleText = (scale: ScaleOutput) => textTable(scaleSection(scale));

function costSection(cost: Cost, notes: string[]): Section {
  return {
    title: `Cost per ${cost.channel === 'sms' ? 'SMS' : 'voice'} verification at ${cost.verificationsPerMonth.toLocaleString('en-US')} verifications a month (${cost.description})`,
    headers: ['item', 'basis', 'per verification'],
    rows: [
      ...cost.lines.map((line) => [line.item, line.basis, usd(line.dollars)]),
      ['AWS total', `target ≤ ${usd(COST_TARGET)}`, usd(cost.awsTotal)],
      [
        'AWS total, Lambda CPU-scaled',
        'durations with CPU time scaled to the share of a vCPU 256/512 MB buys (1 vCPU at 1,769 MB)',
        usd(cost.awsTotalCpuScaled),
      ],
      ...cost.alternatives.map((line) => [line.item, line.basis, usd(line.dollars)]),
      [cost.tracing.item, cost.tracing.basis, `+${usd(cost.tracing.dollars)}`],
      ...cost.notPriced.map((line) => [line.item, line.basis, 'not priced']),
      ...cost.references.map((line) => [line.item, line.basis, usd(line.dollars)]),
    ],
    notes,
  };
}

function textTable(section: Section): string {
  const widths = section.headers.map((header, i) =>
    Math.max(header.length, ...section.rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    section.title,
    line(section.headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...section.rows.map(line),
    ...section.notes.map((note) => `  ${note}`),
  ].join('\n');
}

export function machineLine(r: Results): string {
  const m = r.machine;
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}`;
}

export function renderText(r: Results): string {
  return [
    `voice-otp benchmark, ${r.generatedAt} (${r.durationSeconds.toFixed(0)} s)`,
    `Machine: ${machineLine(r)}`,
    `Code: ${r.source.commit ?? 'unknown commit'}${r.source.uncommitted.length ? ` with uncommitted changes to ${r.source.uncommitted.join(', ')}` : ''}`,
    '',
    ...sections(r).flatMap((section) => [textTable(section), '']),
  ].join('\n');
}

const cellMd = (text: string) => text.replace(/\|/g, '\\|');

export function renderMarkdown(r: Results): string {
  const body = sections(r).flatMap((section) => [
    `## ${section.title}`,
    '',
    `| ${section.headers.map(cellMd).join(' | ')} |`,
    `| ${section.headers.map(() => '---').join(' | ')} |`,
    ...section.rows.map((row) => `| ${row.map(cellMd).join(' | ')} |`),
    ...(section.notes.length ? ['', ...section.notes] : []),
    '',
  ]);
  return [
    '# Performance',
    '',
    '`npm run bench` measures bundle size, cold start, memory, warm latency, DynamoDB round trips, ' +
      'throughput and cost. The machines are shared and noisy, so every figure is compared with a floor ' +
      'measured in the same run: a bundle built the same way that only reads one item with the DynamoDB ' +
      "document client, and each route's own DynamoDB requests replayed raw on a copy of the item it works on. " +
      'None of it is a timed test.',
    '',
    `Latest run: ${r.generatedAt} (commit ${r.source.commit ?? 'unknown'}), on ${machineLine(r)}; ` +
      `${r.durationSeconds.toFixed(0)} s in all. ` +
      'Full figures in [`bench/results.json`](../bench/results.json). This page is written by `npm run bench`; ' +
      'edit bench/report.ts, not the page.',
    '',
    ...body,
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    'npm run bench   # needs Java 17+ for DynamoDB Local; a few minutes on 2 cores',
    '```',
    '',
    "It builds every function's bundle and the floor with the stack's own CDK bundling (infra/service-function.ts), " +
      'starts DynamoDB Local and the Plivo phone simulator (Call and Message APIs) on 127.0.0.1, raises the ' +
      'rate limits for the run (bench/environment.ts), prints the tables, writes `bench/results.json` and ' +
      'stops everything it started; a full run takes 10 to 13 minutes on 2 cores. ' +
      '`npm run bench -- --quick` runs a smaller sample in a few minutes (figures too noisy to quote; written ' +
      'to `bench/out/results-quick.json`): CI runs it after the tests (`.ci/run`), and it fails on an error, never ' +
      'on a missed ratio. A full run rewrites this page from `bench/results.json`; `--markdown <file>` writes it ' +
      'elsewhere. `npm run bench:warm` and ' +
      '`npm run bench:cold` run one phase alone, and `npm run bench:scale` the scale phase.',
    '',
  ].join('\n');
}
