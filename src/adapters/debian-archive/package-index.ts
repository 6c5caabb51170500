// The Debian archive's package index (dists/SUITE/main/binary-ARCH/Packages.gz): which packages
// exist and how much they install. `atomic image build` checks a recipe's package list against it
// before the bootstrap, so a misspelt package fails in seconds with its line and column instead of
// minutes later inside mmdebstrap.
//
// The index is cached in the build cache by URL; a cached copy younger than a day is used as is,
// an older one is revalidated with If-Modified-Since, and when the mirror cannot be reached a
// cached copy of any age is used (the bootstrap would fail anyway, with its own message).
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Unavailable } from '../../lib/errors.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import type { ArchiveFacts, ImageArch } from '../../core/image/recipe.js';

const DEBIAN_ARCH: Record<ImageArch, string> = { x86_64: 'amd64', aarch64: 'arm64' };
const FRESH_MS = 24 * 3600 * 1000;
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export function debianArch(arch: ImageArch): string {
  return DEBIAN_ARCH[arch];
}

/** The first alternative of each dependency, without version or architecture qualifiers. */
function dependencyNames(field: string | undefined): string[] {
  if (field === undefined) return [];
  return field
    .split(',')
    .map((alt) => (alt.split('|')[0] ?? '').trim().split(/[\s(:]/)[0] ?? '')
    .filter((n) => n !== '');
}

/** Package names (with Provides), Installed-Size, dependencies and the essential set of a Packages file. */
export function parsePackages(text: string): ArchiveFacts {
  const packages = new Set<string>();
  const installedSizeBytes = new Map<string, number>();
  const depends = new Map<string, string[]>();
  const providers = new Map<string, string[]>();
  const essential: string[] = [];
  for (const stanza of text.split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (name === undefined) continue;
    packages.add(name);
    const size = /^Installed-Size: (\d+)$/m.exec(stanza)?.[1];
    // Policy 5.6.20: Installed-Size is in KiB.
    if (size !== undefined) installedSizeBytes.set(name, Math.max(installedSizeBytes.get(name) ?? 0, Number(size) * 1024));
    depends.set(name, [...dependencyNames(/^Pre-Depends: (.+)$/m.exec(stanza)?.[1]), ...dependencyNames(/^Depends: (.+)$/m.exec(stanza)?.[1])]);
    if (/^Essential: yes$/m.test(stanza)) essential.push(name);
    for (const p of dependencyNames(/^Provides: (.+)$/m.exec(stanza)?.[1])) {
      packages.add(p);
      providers.set(p, [...(providers.get(p) ?? []), name]);
    }
  }
  return { packages, installedSizeBytes, depends, providers, essential };
}

export async function fetchArchiveFacts(opts: { mirror: string; suite: string; arch: ImageArch; cacheDir: string; signal?: AbortSignal }): Promise<ArchiveFacts> {
  const url = `${opts.mirror.replace(/\/+$/, '')}/dists/${opts.suite}/main/binary-${debianArch(opts.arch)}/Packages.gz`;
  const dir = join(opts.cacheDir, 'package-index');
  await mkdir(dir, { recursive: true });
  const cached = join(dir, `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.gz`);
  const st = await stat(cached).catch(() => undefined);
  let gz: Buffer | undefined;
  if (st !== undefined && Date.now() - st.mtimeMs < FRESH_MS) gz = await readFile(cached);
  else {
    try {
      const res = await fetch(url, {
        ...(opts.signal !== undefined ? { signal: AbortSignal.any([opts.signal, AbortSignal.timeout(120_000)]) } : { signal: AbortSignal.timeout(120_000) }),
        headers: st !== undefined ? { 'If-Modified-Since': st.mtime.toUTCString() } : {},
      });
      if (res.status === 304 && st !== undefined) {
        gz = await readFile(cached);
        await writeFileAtomically(cached, gz); // fresh again for a day
      } else if (res.ok) {
        const body = Buffer.from(await res.arrayBuffer());
        if (body.length > MAX_INDEX_BYTES) throw new Unavailable(`${url}: the package index is larger than ${MAX_INDEX_BYTES} bytes`, { subject: url });
        gz = body;
        await writeFileAtomically(cached, gz);
      } else throw new Unavailable(`${url}: HTTP ${res.status}`, { subject: url });
    } catch (e) {
      if (opts.signal?.aborted === true) throw e;
      if (st === undefined) throw new Unavailable(`cannot read the Debian package index ${url}: ${(e as Error).message}`, { subject: url, cause: e });
      gz = await readFile(cached);
    }
  }
  return parsePackages(gunzipSync(gz, { maxOutputLength: 512 * 1024 * 1024 }).toString('utf8'));
}
