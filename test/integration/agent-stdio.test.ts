// stdin and terminals against `atomicd run` with the real docker CLI, on runc and crun: piped
// `docker run -i` / `docker exec -i` (with 1 MiB through them), `-t` output raw with a pts device,
// resizes seen by `stty size`, interactive `docker exec -it` / `docker run -it` / `docker attach`
// driven through a real pty (util-linux `script`), detach keys leaving the container running, and
// a `-i` container that survives an agent restart and still takes stdin from a new attach.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { agentHttp, agentWithBusybox, docker, startAgent, type AgentProcess, type AgentWorld } from '../fixtures/agent-process.js';
import { CLI, type RunResult } from '../helpers.js';

/** The docker CLI with `input` as its stdin (a pipe that ends after it). */
function dockerIn(agent: Pick<AgentProcess, 'socket'>, args: readonly string[], input: string | Buffer, timeoutMs = 60_000): Promise<RunResult> {
  return withInput('docker', args, agent, input, timeoutMs);
}

/** The atomic CLI with `input` as its stdin. */
function atomicIn(agent: Pick<AgentProcess, 'socket'>, args: readonly string[], input: string | Buffer, timeoutMs = 60_000): Promise<RunResult> {
  return withInput(process.execPath, [CLI, '-H', `unix://${agent.socket}`, ...args], agent, input, timeoutMs);
}

function withInput(cmd: string, args: readonly string[], agent: Pick<AgentProcess, 'socket'>, input: string | Buffer, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { env: { ...process.env, DOCKER_HOST: `unix://${agent.socket}` }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** A shell command run on a real terminal (util-linux script), typed into and read from. */
class Terminal {
  private readonly child: ChildProcess;
  private text = '';
  private readonly closed: Promise<number>;

  constructor(agent: Pick<AgentProcess, 'socket'>, command: string) {
    // -e: script exits with the command's status; -f: output flushed as it comes.
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, DOCKER_HOST: `unix://${agent.socket}`, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.text += b.toString()));
    this.child.stderr?.on('data', (b: Buffer) => (this.text += b.toString()));
    this.child.stdin?.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.child.on('close', (code) => resolve(code ?? -1)));
  }

  get output(): string {
    return this.text;
  }

  type(s: string): void {
    this.child.stdin?.write(s);
  }

  /** Until the output matches (a generous bound only so that a hang fails instead of blocking). */
  async waitFor(re: RegExp, what: string): Promise<void> {
    for (let i = 0; !re.test(this.text); i++) {
      if (this.child.exitCode !== null || i > 1200) assert.fail(`${what}: ${re} not seen; output so far: ${JSON.stringify(this.text)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async exit(): Promise<number> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    const code = await this.closed;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const MIB = 1024 * 1024;
/** 1 MiB of text lines (no lone control bytes that a detach key scanner could take). */
const bigInput = (): Buffer => Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n'.repeat(MIB / 64));

async function running(agent: AgentProcess, name: string): Promise<string> {
  return (await docker(agent, ['inspect', '-f', '{{.State.Status}}', name])).stdout.trim();
}

for (const runtime of ['runc', 'crun'] as const) {
  describe(`stdin and terminals on ${runtime}`, () => {
    let world: AgentWorld;
    let agent: AgentProcess;
    let image: string;
    let restarted: AgentProcess | undefined;

    before(async () => {
      world = await agentWithBusybox(`agent-stdio-${runtime}-`, { name: 'stdio', runtime });
      ({ agent, image } = world);
    });

    after(async () => {
      await restarted?.kill();
      await world?.close();
    });

    test('docker run -i: piped stdin reaches the container, its end ends cat; 1 MiB arrives whole', async () => {
      const hello = await dockerIn(agent, ['run', '-i', '--rm', image, 'cat'], 'hello\n');
      assert.equal(hello.status, 0, hello.stderr);
      assert.equal(hello.stdout, 'hello\n');
      const big = await dockerIn(agent, ['run', '-i', '--rm', image, 'sh', '-c', 'cat | wc -c'], bigInput());
      assert.equal(big.status, 0, big.stderr);
      assert.equal(big.stdout.trim(), String(MIB));
      // What went through is what came out, byte for byte (md5sum of the same bytes).
      const sum = await dockerIn(agent, ['run', '-i', '--rm', image, 'sh', '-c', 'md5sum'], bigInput());
      const { createHash } = await import('node:crypto');
      assert.equal(sum.stdout.split(' ')[0], createHash('md5').update(bigInput()).digest('hex'));
      // A start that fails removes a --rm container (the CLI waits for that), with stdin attached too.
      const missing = await dockerIn(agent, ['run', '-i', '--rm', '--name', 'nosuch', image, 'nosuch-command'], 'x\n');
      assert.notEqual(missing.status, 0);
      assert.match(missing.stderr, /nosuch-command/);
      assert.equal((await docker(agent, ['ps', '-aq', '-f', 'name=nosuch'])).stdout, '');
      const inspect = await docker(agent, ['create', '-i', image, 'cat']);
      assert.equal(inspect.status, 0, inspect.stderr);
      const cfg = JSON.parse((await docker(agent, ['inspect', '-f', '{{json .Config}}', inspect.stdout.trim()])).stdout) as { OpenStdin: boolean };
      assert.equal(cfg.OpenStdin, true);
      await docker(agent, ['rm', inspect.stdout.trim()]);
    });

    test('docker exec -i: piped stdin, 1 MiB through wc -c', async () => {
      assert.equal((await docker(agent, ['run', '-d', '--name', 'ex', image, 'sleep', '300'])).status, 0);
      const cat = await dockerIn(agent, ['exec', '-i', 'ex', 'cat'], 'from exec stdin\n');
      assert.equal(cat.status, 0, cat.stderr);
      assert.equal(cat.stdout, 'from exec stdin\n');
      const wc = await dockerIn(agent, ['exec', '-i', 'ex', 'sh', '-c', 'wc -c; exit 3'], bigInput());
      assert.equal(wc.status, 3, wc.stderr);
      assert.equal(wc.stdout.trim(), String(MIB));
      // exec -d (with a terminal too) starts the command and returns; it runs on.
      for (const flags of [['-d'], ['-d', '-t']]) {
        assert.equal((await docker(agent, ['exec', ...flags, 'ex', 'sh', '-c', `echo bg > /tmp/bg${flags.length}`])).status, 0);
        let seen = '';
        for (let i = 0; i < 200 && seen === ''; i++) seen = (await docker(agent, ['exec', 'ex', 'sh', '-c', `cat /tmp/bg${flags.length} 2>/dev/null; true`])).stdout;
        assert.equal(seen, 'bg\n', `exec ${flags.join(' ')}`);
      }
    });

    test('docker run -t: raw output (no stream headers) from a pts, logged as stdout; docker exec -t', async () => {
      const tty = await docker(agent, ['run', '-t', '--name', 'tt', image, 'sh', '-c', 'tty; echo err >&2; exit 4'], { timeoutMs: 60_000 });
      assert.equal(tty.status, 4, tty.stderr);
      // A terminal: one stream, carriage returns from the line discipline, stderr on it too.
      assert.match(tty.stdout, /^\/dev\/pts\/\d+\r\nerr\r\n$/);
      const logs = await docker(agent, ['logs', 'tt']);
      assert.match(logs.stdout, /^\/dev\/pts\/\d+\r\nerr\r\n$/);
      assert.equal(logs.stderr, '');
      await docker(agent, ['rm', 'tt']);
      assert.equal((await docker(agent, ['run', '-d', '--name', 'ext', image, 'sleep', '300'])).status, 0);
      const ex = await docker(agent, ['exec', '-t', 'ext', 'sh', '-c', 'tty'], { timeoutMs: 30_000 });
      assert.equal(ex.status, 0, ex.stdout + ex.stderr);
      assert.match(ex.stdout, /^\/dev\/pts\/\d+\r\n$/);
      const notTty = await docker(agent, ['exec', 'ext', 'sh', '-c', 'tty; exit 0']);
      assert.equal(notTty.stdout, 'not a tty\n');
    });

    test('resize: POST /containers/{id}/resize and docker exec -it on a sized terminal, seen by stty size', async () => {
      assert.equal((await docker(agent, ['run', '-d', '-it', '--name', 'term', image, 'sh'])).status, 0);
      const r = await agentHttp(agent, 'POST', '/v1.43/containers/term/resize?h=40&w=120');
      assert.equal(r.status, 200, r.body);
      const size = await docker(agent, ['exec', 'term', 'sh', '-c', 'stty size < /proc/1/fd/0']);
      assert.equal(size.stdout, '40 120\n', size.stderr);
      const bad = await agentHttp(agent, 'POST', '/v1.43/containers/term/resize?h=x&w=1');
      assert.equal(bad.status, 400);
      assert.match(bad.body, /h:/);

      // The CLI sends the size of its terminal (set here with stty) to the exec's pty.
      const t = new Terminal(agent, 'stty rows 33 cols 101; docker exec -it term sh');
      try {
        await t.waitFor(/# /, 'the shell prompt');
        t.type('stty size; echo "mark-$((6*7))"\r');
        await t.waitFor(/mark-42/, 'the command output');
        assert.match(t.output, /33 101\r\n/);
        t.type('exit 5\r');
        assert.equal(await t.exit(), 5, t.output);
      } finally {
        t.kill();
      }
    });

    test('docker run -it: an interactive shell; its exit code is the run\'s', async () => {
      const t = new Terminal(agent, `docker run -it --rm ${image} sh`);
      try {
        await t.waitFor(/# /, 'the shell prompt');
        t.type('echo "in-run-$((3*3))"; tty\r');
        await t.waitFor(/in-run-9\r\n\/dev\/pts\/\d+/, 'the command output');
        t.type('exit 7\r');
        assert.equal(await t.exit(), 7, t.output);
      } finally {
        t.kill();
      }
    });

    test('docker attach to -d -it: interactive; ctrl-p,ctrl-q and --detach-keys detach, the container keeps running', async () => {
      assert.equal((await docker(agent, ['run', '-d', '-it', '--name', 'det', image, 'sh'])).status, 0);
      const t = new Terminal(agent, 'docker attach det');
      try {
        t.type('echo "attached-$((2+3))"\r');
        await t.waitFor(/attached-5/, 'output through attach');
        t.type('\x10');
        t.type('\x11');
        // The docker CLI notices the keys itself on a terminal, says so and exits (status 1, as
        // against dockerd).
        await t.exit();
        assert.match(t.output, /read escape sequence/);
      } finally {
        t.kill();
      }
      assert.equal(await running(agent, 'det'), 'running');
      const t2 = new Terminal(agent, 'docker attach --detach-keys ctrl-x,x det');
      try {
        t2.type('echo "again-$((1+1))"\r');
        await t2.waitFor(/again-2/, 'output through the second attach');
        t2.type('\x18');
        t2.type('x');
        await t2.exit();
        assert.match(t2.output, /read escape sequence/);
      } finally {
        t2.kill();
      }
      assert.equal(await running(agent, 'det'), 'running');
      // The shell still has its terminal: a third attach ends it.
      const t3 = new Terminal(agent, 'docker attach det');
      try {
        t3.type('exit 9\r');
        assert.equal(await t3.exit(), 9, t3.output);
      } finally {
        t3.kill();
      }
    });

    test('detach keys on the server side: a raw attach that types ctrl-p ctrl-q is ended, the container runs on', async () => {
      assert.equal((await docker(agent, ['run', '-d', '-i', '--name', 'raw', image, 'sh', '-c', 'while read l; do echo "got $l"; done'])).status, 0);
      const { connect } = await import('node:net');
      const s = connect(agent.socket);
      await new Promise((r) => s.once('connect', r));
      s.write('POST /v1.43/containers/raw/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
      let got = Buffer.alloc(0);
      s.on('data', (b: Buffer) => (got = Buffer.concat([got, b])));
      const closed = new Promise((r) => s.once('close', r));
      for (let i = 0; !got.includes('101'); i++) {
        if (i > 600) assert.fail('no 101');
        await new Promise((r) => setTimeout(r, 50));
      }
      s.write('ping\n');
      for (let i = 0; !got.includes('got ping'); i++) {
        if (i > 600) assert.fail(`no echo: ${got.toString()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // One key per write, as a terminal sends them.
      s.write('\x10');
      await new Promise((r) => setTimeout(r, 100));
      s.write('\x11');
      await closed;
      assert.equal(await running(agent, 'raw'), 'running');
    });

    test('atomic run -i / exec -i with piped stdin; atomic exec -it and run -it on a terminal (size sent, exit code kept)', async () => {
      const hello = await atomicIn(agent, ['run', '-i', '--rm', image, 'cat'], 'hello atomic\n');
      assert.equal(hello.status, 0, hello.stderr);
      assert.equal(hello.stdout, 'hello atomic\n');
      assert.equal((await docker(agent, ['run', '-d', '--name', 'aex', image, 'sleep', '300'])).status, 0);
      const wc = await atomicIn(agent, ['exec', '-i', 'aex', 'sh', '-c', 'wc -c; exit 2'], bigInput());
      assert.equal(wc.status, 2, wc.stderr);
      assert.equal(wc.stdout.trim(), String(MIB));
      const atomicCmd = `${process.execPath} ${CLI} -H unix://${agent.socket}`;
      const t = new Terminal(agent, `stty rows 21 cols 77; ${atomicCmd} exec -it aex sh`);
      try {
        await t.waitFor(/# /, 'the shell prompt');
        t.type('stty size; echo "amark-$((5*5))"\r');
        await t.waitFor(/amark-25/, 'the command output');
        assert.match(t.output, /21 77\r\n/);
        t.type('exit 4\r');
        assert.equal(await t.exit(), 4, t.output);
      } finally {
        t.kill();
      }
      const r = new Terminal(agent, `${atomicCmd} run -it --rm ${image} sh`);
      try {
        await r.waitFor(/# /, 'the shell prompt');
        r.type('tty; exit 8\r');
        assert.equal(await r.exit(), 8, r.output);
        assert.match(r.output, /\/dev\/pts\/\d+/);
      } finally {
        r.kill();
      }
    });

    test('a -i container survives an agent restart, and a new attach feeds its stdin', async () => {
      assert.equal((await docker(agent, ['run', '-d', '-i', '--name', 'keep', image, 'sh', '-c', 'read l; echo "got $l"; exit 6'])).status, 0);
      await agent.kill();
      restarted = await startAgent({ work: world.work, name: 'stdio', runtime, stateDir: agent.stateDir, cgroupParent: agent.cgroupParent });
      assert.equal(await running(restarted, 'keep'), 'running');
      const a = await dockerIn(restarted, ['attach', 'keep'], 'after restart\n');
      assert.equal(a.stdout, 'got after restart\n', a.stderr);
      assert.equal(a.status, 6);
    });
  });
}
