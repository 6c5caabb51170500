// A keep-alive HTTP load generator for the agent's Unix socket, run as its own process so that it
// does not share an event loop with the benchmark driver:
//   node dist/bench/api-load.js SOCKET PATH CONNECTIONS SECONDS
// prints one JSON line: {requests, errors, seconds, requestsPerSecond, p50Ms, p99Ms}.
// wrk and ab (apache2-utils) cannot talk to a Unix socket; this can, and keeps CONNECTIONS
// connections busy back to back (each sends its next request when the previous answer ended).
import { Agent, request } from 'node:http';

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runLoad(socketPath: string, path: string, connections: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const t0 = process.hrtime.bigint();
  const endAt = Date.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const start = process.hrtime.bigint();
      const req = request({ socketPath, path, method: 'GET', agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (Date.now() < endAt) await one();
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { requests: sorted.length, errors, seconds: elapsed, requestsPerSecond: sorted.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

if (process.argv[1]?.endsWith('api-load.js')) {
  const [socketPath, path, connections, seconds] = process.argv.slice(2);
  if (socketPath === undefined || path === undefined) {
    process.stderr.write('usage: api-load.js SOCKET PATH [CONNECTIONS] [SECONDS]\n');
    process.exit(2);
  }
  const r = await runLoad(socketPath, path, Number(connections ?? 8), Number(seconds ?? 5));
  process.stdout.write(JSON.stringify(r) + '\n');
}
