// syncfs(2) without forking atomicd each time. Node has no syncfs binding, so it takes coreutils
// `sync -f`; but spawning it forks the whole agent, and while a pull moves 100+ MB through memory
// that fork costs more than the sync itself (page tables copied, then a copy-on-write fault on
// every page the agent touches next: measured at ~200 ms per spawn during a 215 MB pull, against
// ~10-150 ms for the syncfs). So a small shell is forked once, early and while the agent is
// small, and it forks `sync -f` for each request instead. It exits on its own when its standard
// input closes: after IDLE_MS without requests, or when the agent exits.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Internal } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

const IDLE_MS = 10_000;
/** One request per line: the path; one answer per line: `ok` or `fail`. */
const LOOP = 'while IFS= read -r p; do if sync -f -- "$p" 2>/dev/null; then echo ok; else echo fail; fi; done';

interface Shell {
  readonly child: ChildProcessWithoutNullStreams;
  /** Requests in the order sent; resolved with the answer, or undefined if the shell went away. */
  readonly waiting: ((ok: boolean | undefined) => void)[];
}

export class SyncHelper {
  private shell: Shell | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  /** Start the shell now (before memory grows), if it is not running. */
  warm(): void {
    if (this.shell !== undefined) return;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn('sh', ['-c', LOOP], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch {
      return; // syncfs() falls back to spawning sync itself
    }
    const shell: Shell = { child, waiting: [] };
    this.shell = shell;
    const gone = (): void => {
      if (this.shell === shell) this.shell = undefined;
      for (const w of shell.waiting.splice(0)) w(undefined);
    };
    child.on('error', gone);
    child.on('exit', gone);
    child.stdin.on('error', () => undefined); // reported as 'exit'
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        shell.waiting.shift()?.(line === 'ok');
      }
      if (shell.waiting.length === 0) pipeRef(child.stdout, false);
    });
    child.stderr.resume();
    // Neither the shell nor its pipes keep the agent's event loop alive, except standard output
    // while an answer is awaited.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) pipeRef(s, false);
    this.armIdle();
  }

  /** syncfs of the file system that holds `path`. */
  async syncfs(path: string): Promise<void> {
    if (!path.includes('\n')) {
      this.warm();
      const shell = this.shell;
      if (shell !== undefined) {
        const ok = await new Promise<boolean | undefined>((resolve) => {
          shell.waiting.push(resolve);
          pipeRef(shell.child.stdout, true);
          shell.child.stdin.write(`${path}\n`);
          this.armIdle();
        });
        if (ok === true) return;
        if (ok === false) throw new Internal(`sync -f ${path} failed`);
        // undefined: the shell went away; do it the plain way.
      }
    }
    await runTool('sync', ['-f', path], { debianPackage: 'coreutils' });
  }

  private armIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const shell = this.shell;
      if (shell === undefined) return;
      if (shell.waiting.length > 0) return this.armIdle();
      this.shell = undefined;
      shell.child.stdin.end();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}

/** ref()/unref() of a child's pipe (a net.Socket at run time, typed as a plain stream). */
function pipeRef(pipe: unknown, on: boolean): void {
  const p = pipe as { ref?: () => void; unref?: () => void };
  if (on) p.ref?.();
  else p.unref?.();
}
