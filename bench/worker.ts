import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The phases that run the service (warm latency, throughput) and the CDK build each run in a child process
 * on the same Node: the service logs to stdout as it does on Lambda, and there it goes to /dev/null instead
 * of into the table; aws-cdk-lib never loads into the process that measures.
 */
type Message<Output> =
  | { kind: 'progress'; line: string }
  | { kind: 'done'; output: Output }
  | { kind: 'failed'; error: string };

export async function runWorker<Input, Output>(
  script: URL,
  input: Input,
  options: { progress: (line: string) => void; timeoutMs: number },
): Promise<Output> {
  const child = spawn(process.execPath, [fileURLToPath(script)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: process.env,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  try {
    return await new Promise<Output>((resolve, reject) => {
      let settled = false;
      child.on('message', (message: Message<Output>) => {
        if (message.kind === 'progress') options.progress(message.line);
        else if (message.kind === 'done') {
          settled = true;
          resolve(message.output);
        } else {
          settled = true;
          reject(new Error(`${fileURLToPath(script)} failed: ${message.error}\n${stderr}`));
        }
      });
      child.once('exit', (code, signal) => {
        if (!settled)
          reject(
            new Error(`${fileURLToPath(script)} exited (${signal ?? code}) without a result:\n${stderr}`),
          );
      });
      child.send(input as object);
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill();
      });
    }
  }
}

/** The child's side: receives its input, reports progress, sends its output and exits. */
export function serveWorker<Input, Output>(
  run: (input: Input, progress: (line: string) => void) => Promise<Output>,
) {
  const send = (message: Message<Output>) =>
    new Promise<void>((resolve) => process.send?.(message, () => resolve()) ?? resolve());
  // Orphaned (the benchmark was interrupted): stop too.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (input: Input) => {
    run(input, (line) => void send({ kind: 'progress', line }))
      .then(
        (output) => send({ kind: 'done', output }),
        (error: unknown) => send({ kind: 'failed', error: (error as Error).stack ?? String(error) }),
      )
      .finally(() => process.exit(0));
  });
}
