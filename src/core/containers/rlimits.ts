// Process rlimits of a container: Docker's --ulimit names, a default RLIMIT_NOFILE, and clamping to
// what the agent itself may grant. setrlimit(2): raising a hard limit needs CAP_SYS_RESOURCE; an
// agent without it (a host that withholds it, or a nested agent) cannot give a container more than
// its own hard limits, and the runtime would fail the whole start ("error setting rlimit type 7:
// operation not permitted"). So every requested value is capped at the agent's hard limit.
import { InvalidArgument } from '../../lib/errors.js';
import type { Ulimit } from './container-spec.js';
import type { OciRlimit, RlimitType } from './oci-spec.js';

/** RLIM_INFINITY (include/uapi/asm-generic/resource.h), ~0UL. */
export const RLIM_INFINITY = 2n ** 64n - 1n;

/**
 * The default RLIMIT_NOFILE of a container: systemd's default since v240 (soft 1024, hard
 * 524288), which Docker 25+ containers get from containerd. Programs that need more raise their
 * soft limit up to the hard one.
 */
export const DEFAULT_RLIMITS: readonly OciRlimit[] = [{ type: 'RLIMIT_NOFILE', soft: 1024n, hard: 524288n }];

const NAMES: Readonly<Record<string, RlimitType>> = {
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
};

/** The agent's own hard limits (from /proc/self/limits); a missing type is not capped. */
export type HardLimits = Partial<Readonly<Record<RlimitType, bigint>>>;

const toLimit = (v: number): bigint => (v < 0 ? RLIM_INFINITY : BigInt(Math.floor(v)));

/** Docker's --ulimit entries (HostConfig.Ulimits) as OCI rlimits; -1 means unlimited. */
export function ulimitsToRlimits(ulimits: readonly Ulimit[]): OciRlimit[] {
  return ulimits.map((u) => {
    const type = NAMES[u.Name.toLowerCase()];
    if (type === undefined) throw new InvalidArgument(`invalid ulimit type: ${u.Name}`, { subject: u.Name });
    const soft = toLimit(u.Soft);
    const hard = toLimit(u.Hard);
    if (soft > hard) throw new InvalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`, { subject: u.Name });
    return { type, soft, hard };
  });
}

/** Defaults overridden per type by `requested`, each capped at the agent's hard limit. */
export function containerRlimits(requested: readonly OciRlimit[], hardLimits: HardLimits = {}): OciRlimit[] {
  const byType = new Map<RlimitType, OciRlimit>();
  for (const r of [...DEFAULT_RLIMITS, ...requested]) byType.set(r.type, r);
  return [...byType.values()].map((r) => clampRlimit(r, hardLimits[r.type]));
}

export function clampRlimit(r: OciRlimit, hostHard: bigint | undefined): OciRlimit {
  if (hostHard === undefined) return { ...r };
  const hard = r.hard > hostHard ? hostHard : r.hard;
  const soft = r.soft > hard ? hard : r.soft;
  return { type: r.type, soft, hard };
}

/**
 * /proc/PID/limits ("Max open files  1024  524288  files") -> hard limits by type. The file's
 * row names are fixed by fs/proc/base.c (lnames[]).
 */
export function parseProcLimits(text: string): HardLimits {
  const rows: Readonly<Record<string, RlimitType>> = {
    'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA', 'Max stack size': 'RLIMIT_STACK',
    'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS', 'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE',
    'Max locked memory': 'RLIMIT_MEMLOCK', 'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS',
    'Max pending signals': 'RLIMIT_SIGPENDING', 'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE',
    'Max realtime priority': 'RLIMIT_RTPRIO', 'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const out: Partial<Record<RlimitType, bigint>> = {};
  for (const line of text.split('\n')) {
    // fs/proc/base.c proc_pid_limits: "%-25s %-20s %-20s %-10s": the name has spaces, values not.
    const name = line.slice(0, 25).trim();
    const type = rows[name];
    if (type === undefined) continue;
    const hard = line.slice(25).trim().split(/\s+/)[1];
    if (hard === 'unlimited') out[type] = RLIM_INFINITY;
    else if (hard !== undefined && /^\d+$/.test(hard)) out[type] = BigInt(hard);
  }
  return out;
}
