// Test runner: node's built-in runner over the compiled tests, tier by tier, then one clear count.
//   node dist/test/run.js fast   unit + integration (run often)
//   node dist/test/run.js all    fast + vm (what CI runs)
//   node dist/test/run.js FILE.test.js ...   just those files
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const TIERS: Record<string, readonly string[]> = {
  unit: ['unit'],
  integration: ['integration'],
  vm: ['vm'],
  fast: ['unit', 'integration'],
  all: ['unit', 'integration', 'vm'],
};

function findTests(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return findTests(p);
    return n.endsWith('.test.js') ? [p] : [];
  });
}

const args = process.argv.slice(2);
const tier = args[0] ?? 'fast';
// Each group is one `node --test` run; VM tests run one file at a time: two TCG guests on the
// 2-core CI machine would each take more than twice as long (and time out sooner).
const groups: { files: string[]; concurrency: string }[] =
  TIERS[tier] !== undefined
    ? TIERS[tier].map((t) => ({ files: findTests(join(here, t)), concurrency: t === 'vm' ? '1' : (process.env.ATOMIC_TEST_CONCURRENCY ?? '2') })).filter((g) => g.files.length > 0)
    : [{ files: args.map((a) => resolve(a)), concurrency: process.env.ATOMIC_TEST_CONCURRENCY ?? '2' }];
const fileCount = groups.reduce((n, g) => n + g.files.length, 0);
if (fileCount === 0) {
  process.stderr.write(`test runner: no test files for ${args.join(' ') || tier}\n`);
  process.exit(2);
}

const counts = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };

function runGroup(files: readonly string[], concurrency: string): Promise<number | null> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-256 * 1024);
    });
    child.on('close', (code) => {
      // The spec reporter ends with "ℹ tests N", "ℹ pass N", ...; read them back for our own line.
      for (const key of Object.keys(counts) as (keyof typeof counts)[]) {
        const m = new RegExp(`ℹ ${key} (\\d+)`).exec(tail);
        if (m?.[1] !== undefined) counts[key] += Number(m[1]);
      }
      resolveRun(code);
    });
  });
}

let allOk = true;
for (const g of groups) {
  const code = await runGroup(g.files, g.concurrency);
  if (code !== 0) allOk = false;
}
const ok = allOk && counts.fail === 0 && counts.cancelled === 0;
process.stdout.write(
  `\n${ok ? 'PASS' : 'FAIL'}: ${counts.pass} passed, ${counts.fail} failed, ${counts.cancelled} cancelled, ` +
    `${counts.skipped} skipped, ${counts.tests} tests in ${fileCount} files (tier: ${TIERS[tier] !== undefined ? tier : 'files'})\n`,
);
process.exit(ok ? 0 : 1);
