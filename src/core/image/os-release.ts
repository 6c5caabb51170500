// /usr/lib/os-release of an image (os-release(5)): the recipe's name and version. Values are
// written in the shell-compatible quoting the spec asks for; OSTREE_VERSION is what rpm-ostree
// adds, so tools that read it (and people) can match a booted system to its commit.
import { InvalidArgument } from '../../lib/errors.js';

export interface OsReleaseFields {
  /** Lower-case [a-z0-9._-], e.g. "atomic". */
  readonly id: string;
  readonly name: string;
  readonly versionId: string;
  readonly prettyName?: string;
  /** The image (commit) version. */
  readonly version: string;
  /** Distributions this one derives from (ID_LIKE), default "debian". */
  readonly idLike?: string;
}

function quote(value: string, field: string): string {
  if (/[\n\0]/.test(value)) throw new InvalidArgument(`osRelease.${field}: must be one line`);
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

export function renderOsRelease(f: OsReleaseFields): string {
  if (!/^[a-z0-9._-]+$/.test(f.id)) throw new InvalidArgument(`osRelease.id: ${JSON.stringify(f.id)} must be lower-case letters, digits, ".", "_" or "-" (os-release(5) ID)`);
  if (!/^[a-z0-9._-]+$/i.test(f.versionId)) throw new InvalidArgument(`osRelease.versionId: ${JSON.stringify(f.versionId)} must be letters, digits, ".", "_" or "-" (os-release(5) VERSION_ID)`);
  if (f.name.trim() === '') throw new InvalidArgument('osRelease.name: must not be empty');
  const lines = [
    `NAME=${quote(f.name, 'name')}`,
    `ID=${f.id}`,
    `ID_LIKE=${f.idLike ?? 'debian'}`,
    `VERSION_ID=${f.versionId}`,
    `VERSION=${quote(f.version, 'version')}`,
    `PRETTY_NAME=${quote(f.prettyName ?? `${f.name} ${f.version}`, 'prettyName')}`,
    `OSTREE_VERSION=${quote(f.version, 'version')}`,
  ];
  return lines.join('\n') + '\n';
}
