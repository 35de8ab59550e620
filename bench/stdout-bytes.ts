/**
 * Bytes the service writes to stdout (its JSON logs and metrics), counted and passed on: what CloudWatch Logs
 * would ingest from a function. The returned function gives the bytes since its last call.
 */
export function countStdout(): () => number {
  let bytes = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  return () => {
    const counted = bytes;
    bytes = 0;
    return counted;
  };
}
