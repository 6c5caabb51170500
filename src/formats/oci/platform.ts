// Platforms (OCI image-spec image-index.md `platform`, config.md `os`/`architecture`/`variant`)
// and how one is chosen from an index. Names and matching follow containerd's platforms package,
// which Docker and nerdctl use: values are normalised first (x86_64 -> amd64, aarch64 -> arm64,
// armhf -> arm/v7 ...), and a platform also accepts the older variants it can run (arm64 runs
// arm/v8..v5, amd64/v3 runs v2 and v1, amd64 runs 386), preferring the closest one.
import { InvalidArgument } from '../../lib/errors.js';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly osVersion?: string;
  readonly osFeatures?: readonly string[];
}

/** `linux/amd64`, `linux/arm/v7`: what Docker prints and accepts for --platform. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant === undefined || p.variant === '' ? [] : [p.variant])].join('/');
}

/** Node's process.arch names for the GOARCH values of the platform spec. */
const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle',
};

/**
 * The platform this host runs: linux plus Node's architecture in Go's names. Taken as arguments
 * (process.platform, process.arch) so formats/ stays free of the process.
 */
export function hostPlatform(nodePlatform: string, nodeArch: string): Platform {
  return normalizePlatform({ os: nodePlatform === 'win32' ? 'windows' : nodePlatform, architecture: NODE_ARCH[nodeArch] ?? nodeArch });
}

/** containerd platforms.Normalize: canonical OS, architecture and variant names. */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let arch = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
    default:
      break;
  }
  return {
    os,
    architecture: arch,
    ...(variant === '' ? {} : { variant }),
    ...(p.osVersion === undefined || p.osVersion === '' ? {} : { osVersion: p.osVersion }),
    ...(p.osFeatures === undefined ? {} : { osFeatures: p.osFeatures }),
  };
}

/**
 * Parse `os[/arch[/variant]]` or `arch[/variant]` (containerd platforms.Parse): a lone OS takes
 * the architecture of `host`, a lone architecture (with or without a variant) the OS of `host`.
 * Values are normalised.
 */
export function parsePlatform(spec: string, host: Platform = { os: 'linux', architecture: 'amd64' }): Platform {
  const parts = spec.split('/');
  if (spec === '' || parts.length > 3 || parts.some((p) => p === '' || !/^[A-Za-z0-9_.()-]+$/.test(p))) {
    throw new InvalidArgument(`${JSON.stringify(spec)} is not a platform: expected os/arch[/variant], e.g. linux/amd64`);
  }
  const [first, second, third] = parts as [string, string | undefined, string | undefined];
  const isOs = KNOWN_OS.has(first.toLowerCase());
  const isArch = KNOWN_ARCH.has(normalizePlatform({ os: 'linux', architecture: first }).architecture);
  if (third === undefined && !isOs && isArch) {
    return normalizePlatform({ os: host.os, architecture: first, ...(second === undefined ? {} : { variant: second }) });
  }
  if (second === undefined) {
    if (!isOs) throw new InvalidArgument(`unknown operating system or architecture ${JSON.stringify(first)}`);
    return normalizePlatform({ os: first, architecture: host.architecture, ...(host.variant === undefined ? {} : { variant: host.variant }) });
  }
  return normalizePlatform({ os: first, architecture: second, ...(third === undefined ? {} : { variant: third }) });
}

// Go's syslist (containerd platforms/database.go).
const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos', 'macos']);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32',
  'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);

/** Exact match after normalisation (containerd matcher.Match; OS versions only matter on Windows). */
export function platformEquals(want: Platform, have: Platform): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * The platforms `want` can run, best first (containerd platformVector, used by platforms.Only):
 * amd64/vN then vN-1 .. v1, then 386; arm/vN then down to v5; arm64/v9.x down through v9.0 and
 * v8.(x+5) .. v8, then arm/v8 .. v5.
 */
export function compatiblePlatforms(want: Platform): Platform[] {
  return vector(normalizePlatform(want));
}

function vector(p: Platform): Platform[] {
  const out: Platform[] = [p];
  const withVariant = (architecture: string, variant: string | undefined): Platform => ({
    os: p.os,
    architecture,
    ...(variant === undefined || variant === '' ? {} : { variant }),
    ...(p.osVersion === undefined ? {} : { osVersion: p.osVersion }),
  });
  const numeric = (v: string | undefined): number => {
    const m = /^v?(\d+)$/.exec(v ?? '');
    return m === null ? NaN : Number(m[1]);
  };
  switch (p.architecture) {
    case 'amd64': {
      const n = numeric(p.variant);
      if (n > 1) for (let v = n - 1; v >= 1; v--) out.push(withVariant('amd64', `v${v}`));
      out.push(withVariant('386', undefined));
      break;
    }
    case 'arm': {
      const n = numeric(p.variant);
      if (n > 5) for (let v = n - 1; v >= 5; v--) out.push(withVariant('arm', `v${v}`));
      break;
    }
    case 'arm64': {
      let variant = p.variant ?? 'v8';
      const m = /^v(\d+)(?:\.(\d+))?$/.exec(variant);
      if (m !== null && Number(m[1]) >= 8) {
        let major = Number(m[1]);
        let minor = m[2] === undefined ? 0 : Number(m[2]);
        const name = (maj: number, min: number): string => (min === 0 ? `v${maj}` : `v${maj}.${min}`);
        if (major === 9) {
          for (let v = minor - 1; v >= 0; v--) out.push(withVariant('arm64', name(9, v)));
          // v9.0 branched from v8.5: v9.x runs what v8.(x+5) runs.
          minor += 5;
          major = 8;
          out.push(withVariant('arm64', `v8.${minor}`));
        }
        for (let v = minor - 1; v >= 0; v--) out.push(withVariant('arm64', name(major, v)));
      }
      if (variant.startsWith('v8.') || variant.startsWith('v9.')) variant = 'v8';
      out.push(...vector(normalizePlatform(withVariant('arm', variant))));
      break;
    }
    default:
      break;
  }
  return out;
}

/**
 * How well `have` suits `want`: 0 is an exact match, higher is a less preferred compatible
 * platform, undefined means it cannot run (containerd's Only + Less).
 */
export function platformRank(want: Platform, have: Platform): number | undefined {
  const candidates = compatiblePlatforms(want);
  const i = candidates.findIndex((c) => platformEquals(c, have));
  return i < 0 ? undefined : i;
}

/**
 * The index of the entry to use for `want` among `platforms` (one per index entry, undefined for
 * entries without a platform): the best-ranked one, the first in index order among equals, as
 * containerd sorts with a stable sort. Entries without a platform are never chosen here.
 */
export function selectPlatform(want: Platform, platforms: readonly (Platform | undefined)[]): number | undefined {
  let best: { index: number; rank: number } | undefined;
  platforms.forEach((p, index) => {
    if (p === undefined) return;
    const rank = platformRank(want, p);
    if (rank !== undefined && (best === undefined || rank < best.rank)) best = { index, rank };
  });
  return best?.index;
}
