// Image recipes (images/*.yaml): what goes into a bootable OS image and its disk. A recipe is
// validated like cloud-config, into a located report (file:line:column: /json/pointer: message)
// that lists every problem, so `atomic image build` refuses a bad recipe before any long work
// (the Debian bootstrap takes minutes; a typo must not cost them).
//
// The YAML is read with the same located parser as cloud-config (YAML 1.1, as PyYAML reads it):
// recipes sit next to seeds in the same repositories and the same traps (`version: 1.10` is the
// float 1.1) are reported the same way.
import { memoryBytes } from '../containers/memory-bytes.js';
import { didYouMean } from '../cloud-config/did-you-mean.js';
import { decodeText } from '../cloud-config/mime.js';
import { hasErrors, LineIndex, ProblemReport, type Problem } from '../cloud-config/problem.js';
import { bool, Cursor, int, list, obj, oneOf, str, validateNode, type Schema } from '../cloud-config/schema-validator.js';
import { entryOf, parseYaml, toPlain, type YamlNode } from '../cloud-config/yaml-document.js';

export type ImageArch = 'x86_64' | 'aarch64';

export interface RecipeUser {
  readonly name: string;
  readonly groups: readonly string[];
  readonly sshAuthorizedKeys: readonly string[];
  readonly passwordHash?: string;
  readonly shell?: string;
}

export interface RecipeFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface ImageRecipe {
  /** The OS name: ostree stateroot, os-release ID, the first part of the default ref. */
  readonly name: string;
  /** os-release VERSION_ID and the ostree commit's `version` metadata. */
  readonly version: string;
  readonly arch: ImageArch;
  readonly base: { readonly suite: 'bookworm'; readonly mirror: string; readonly packages: readonly string[] };
  readonly kernel: { readonly package: string; readonly args: readonly string[] };
  /** Modules of the initramfs; undefined: the tree builder's default set (virtio, NVMe, SCSI, ext4, sr_mod). */
  readonly initramfs: { readonly modules?: readonly string[] };
  readonly osRelease: { readonly name: string; readonly prettyName: string };
  readonly users: readonly RecipeUser[];
  readonly files: readonly RecipeFile[];
  readonly ostree: {
    readonly ref: string;
    readonly remote?: { readonly name: string; readonly url: string; readonly gpgVerify: boolean };
  };
  readonly disk: { readonly sizeBytes: number; readonly espSizeBytes: number };
  /** Container images pulled into the image's container store at build time. */
  readonly preload: readonly string[];
}

/** What the Debian archive says, when the caller has fetched its package index. */
export interface ArchiveFacts {
  /** Real and virtual (Provides) package names of the suite and architecture. */
  readonly packages: ReadonlySet<string>;
  /** Installed-Size in bytes of real packages. */
  readonly installedSizeBytes: ReadonlyMap<string, number>;
  /** Pre-Depends and Depends of real packages (first alternatives). */
  readonly depends?: ReadonlyMap<string, readonly string[]>;
  /** Real packages providing a virtual name. */
  readonly providers?: ReadonlyMap<string, readonly string[]>;
  /** Essential: yes packages (every Debian system has them). */
  readonly essential?: readonly string[];
}

/**
 * What installing `names` installs, as apt would roughly resolve it: the essential set plus the
 * dependency closure (first alternatives, virtual names by their first provider). An estimate
 * for refusing disks that plainly cannot hold the tree, not a solver.
 */
export function installedClosureBytes(archive: ArchiveFacts, names: readonly string[]): number {
  const seen = new Set<string>();
  const pending = [...names, ...(archive.essential ?? [])];
  let total = 0;
  while (pending.length > 0) {
    let n = pending.pop()!;
    if (!archive.installedSizeBytes.has(n)) n = archive.providers?.get(n)?.[0] ?? n;
    if (seen.has(n)) continue;
    seen.add(n);
    total += archive.installedSizeBytes.get(n) ?? 0;
    for (const d of archive.depends?.get(n) ?? []) pending.push(d);
  }
  return total;
}

export interface RecipeReport {
  readonly recipe?: ImageRecipe;
  readonly problems: readonly Problem[];
}

const DEFAULT_KERNEL_ARGS: readonly string[] = ['console=tty0', 'console=ttyS0,115200'];
const DEFAULT_ESP_BYTES = 64 * 1024 * 1024;
const MIN_ESP_BYTES = 8 * 1024 * 1024; // the disk step's floor (FAT16 below 33 MiB, FAT32 above)
/** What the image carries besides the listed packages: the agent, Node.js, their dependencies. */
export const AGENT_PAYLOAD_BYTES = 120 * 1024 * 1024;
/** Share of Installed-Size left once docs, man pages and locales are filtered out (measured: ~0.8). */
const UNPACKED_SHARE = 0.75;

const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
const OS_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const USER_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
// A size is text with a binary unit (4G, 512M) or a number of bytes.
const sizeText = oneOf([str({ pattern: /^\d+(?:\.\d+)? ?[kKmMgGtT]?[iI]?[bB]?$/, patternMessage: 'is not a size (write e.g. 4G, 512M)' }), int({ minimum: 0 })], { title: 'a size such as 4G or 512M, or bytes' });

const SCHEMA: Schema = obj(
  {
    recipe: { type: 'integer', minimum: 1, maximum: 1, title: 'the recipe format version 1' },
    name: str({ pattern: OS_NAME, patternMessage: 'must be lower-case letters, digits, ".", "_" or "-" (it names the ostree stateroot)' }),
    version: str({ minLength: 1 }),
    arch: str({ enum: ['x86_64', 'aarch64'] }),
    base: obj(
      {
        suite: str({ enum: ['bookworm'] }),
        mirror: str({ pattern: /^https?:\/\/[^\s/]+(?:\/\S*)?$/, patternMessage: 'is not an http(s) URL of a Debian mirror' }),
        packages: list(str({ pattern: DEBIAN_PACKAGE, patternMessage: 'is not a Debian package name' })),
      },
      { required: ['suite', 'packages'] },
    ),
    kernel: obj({ package: str({ pattern: DEBIAN_PACKAGE, patternMessage: 'is not a Debian package name' }), args: list(str({ minLength: 1 })) }),
    initramfs: obj({ modules: list(str({ pattern: /^[a-zA-Z0-9_-]+$/, patternMessage: 'is not a kernel module name' })) }),
    os_release: obj({ name: str({ minLength: 1 }), pretty_name: str({ minLength: 1 }) }),
    users: list(
      obj(
        {
          name: str({ pattern: USER_NAME, patternMessage: 'is not a valid user name' }),
          groups: list(str({ pattern: USER_NAME, patternMessage: 'is not a valid group name' })),
          ssh_authorized_keys: list(str({ pattern: /^(?:ssh-|ecdsa-|sk-)\S+ \S+/, patternMessage: 'is not an OpenSSH public key line' })),
          password_hash: str({ pattern: /^\$(?:1|5|6|y|2[aby]|gy)\$/, patternMessage: 'is not a crypt(3) hash (write the hash, never the password)' }),
          shell: str({ pattern: /^\//, patternMessage: 'must be an absolute path' }),
        },
        { required: ['name'] },
      ),
    ),
    files: list(
      obj(
        {
          path: str({ check: checkImagePath }),
          content: str(),
          mode: str({ pattern: /^0?[0-7]{3,4}$/, patternMessage: 'is not an octal mode (write it quoted, e.g. "0644")' }),
        },
        { required: ['path', 'content'] },
      ),
    ),
    ostree: obj({
      ref: str({ pattern: /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/, patternMessage: 'is not an ostree ref' }),
      remote: obj(
        {
          name: str({ pattern: /^[A-Za-z0-9._-]+$/, patternMessage: 'is not a remote name' }),
          url: str({ pattern: /^(?:https?|file):\/\/\S+$/, patternMessage: 'is not an http(s) or file URL' }),
          gpg_verify: bool(),
        },
        { required: ['name', 'url'] },
      ),
    }),
    disk: obj({ size: sizeText, esp_size: sizeText }),
    preload: list(str({ minLength: 1 })),
  },
  { required: ['recipe', 'name', 'version', 'arch', 'base'] },
);

function checkImagePath(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return;
  const p = node.value;
  if (!p.startsWith('/')) at.error(node, `${JSON.stringify(p)} must be an absolute path`);
  else if (p.split('/').some((c) => c === '..' || c === '.')) at.error(node, `${JSON.stringify(p)} must not contain . or .. components`);
  else if (p === '/var' || p.startsWith('/var/')) {
    // ostree ships /var empty: it belongs to the machine, not to the commit.
    at.error(node, `${JSON.stringify(p)} is under /var, which an ostree commit does not carry; put it under /usr or /etc, or write it at first boot with cloud-config write_files`);
  }
}

/** Validate and normalise a recipe. `archive` adds the checks that need the Debian package index. */
export function validateRecipe(data: Uint8Array, file: string, archive?: ArchiveFacts): RecipeReport {
  const { text, valid } = decodeText(data);
  const report = new ProblemReport(file, new LineIndex(text));
  if (!valid) {
    report.error(Math.max(0, text.indexOf('\ufffd')), '', 'not valid UTF-8');
    return { problems: report.problems };
  }
  const { root } = parseYaml(text, report);
  if (root === undefined) return { problems: report.problems };
  const at = new Cursor(report, '');
  if (root.kind !== 'map') {
    at.error(root, 'a recipe is a mapping (recipe: 1, name, version, arch, base, ...)');
    return { problems: report.problems };
  }
  validateNode(root, SCHEMA, at);
  if (hasErrors(report.problems)) return { problems: report.problems };

  const recipe = normalise(root);
  crossChecks(root, recipe, at, archive);
  if (hasErrors(report.problems)) return { problems: report.problems };
  return { recipe, problems: report.problems };
}

type Plain = Record<string, unknown>;

function normalise(root: YamlNode): ImageRecipe {
  const r = toPlain(root) as Plain;
  const base = r['base'] as Plain;
  const kernel = (r['kernel'] ?? {}) as Plain;
  const initramfs = (r['initramfs'] ?? {}) as Plain;
  const osRelease = (r['os_release'] ?? {}) as Plain;
  const ostree = (r['ostree'] ?? {}) as Plain;
  const remote = ostree['remote'] as Plain | undefined;
  const disk = (r['disk'] ?? {}) as Plain;
  const name = r['name'] as string;
  const version = r['version'] as string;
  const arch = r['arch'] as ImageArch;
  const prettyName = (osRelease['name'] as string | undefined) ?? name;
  return {
    name,
    version,
    arch,
    base: { suite: 'bookworm', mirror: (base['mirror'] as string | undefined) ?? 'http://deb.debian.org/debian', packages: base['packages'] as string[] },
    kernel: {
      package: (kernel['package'] as string | undefined) ?? (arch === 'x86_64' ? 'linux-image-cloud-amd64' : 'linux-image-cloud-arm64'),
      args: (kernel['args'] as string[] | undefined) ?? DEFAULT_KERNEL_ARGS,
    },
    initramfs: initramfs['modules'] !== undefined ? { modules: initramfs['modules'] as string[] } : {},
    osRelease: { name: prettyName, prettyName: (osRelease['pretty_name'] as string | undefined) ?? `${prettyName} ${version}` },
    users: ((r['users'] ?? []) as Plain[]).map((u) => ({
      name: u['name'] as string,
      groups: (u['groups'] as string[] | undefined) ?? [],
      sshAuthorizedKeys: (u['ssh_authorized_keys'] as string[] | undefined) ?? [],
      ...(u['password_hash'] !== undefined ? { passwordHash: u['password_hash'] as string } : {}),
      ...(u['shell'] !== undefined ? { shell: u['shell'] as string } : {}),
    })),
    files: ((r['files'] ?? []) as Plain[]).map((f) => ({ path: f['path'] as string, content: f['content'] as string, mode: parseInt((f['mode'] as string | undefined) ?? '0644', 8) })),
    ostree: {
      ref: (ostree['ref'] as string | undefined) ?? `${name}/${arch}/stable`,
      ...(remote !== undefined ? { remote: { name: remote['name'] as string, url: remote['url'] as string, gpgVerify: (remote['gpg_verify'] as boolean | undefined) ?? true } } : {}),
    },
    disk: {
      sizeBytes: memoryBytes(String((disk['size'] as string | number | undefined) ?? '4G')) ?? 0,
      espSizeBytes: disk['esp_size'] !== undefined ? (memoryBytes(String(disk['esp_size'] as string | number)) ?? 0) : DEFAULT_ESP_BYTES,
    },
    preload: (r['preload'] ?? []) as string[],
  };
}

/** The node at a JSON-pointer-like path of keys and indexes, for locating cross-field problems. */
function nodeAt(root: YamlNode, ...path: (string | number)[]): YamlNode | undefined {
  let n: YamlNode | undefined = root;
  for (const k of path) {
    if (n === undefined) return undefined;
    if (typeof k === 'number') n = n.kind === 'seq' ? n.items[k] : undefined;
    else n = entryOf(n, k)?.value;
  }
  return n;
}

function crossChecks(root: YamlNode, recipe: ImageRecipe, at: Cursor, archive: ArchiveFacts | undefined): void {
  const diskAt = at.child('disk');
  const sizeNode = nodeAt(root, 'disk', 'size') ?? nodeAt(root, 'disk') ?? root;
  const espNode = nodeAt(root, 'disk', 'esp_size') ?? sizeNode;
  if (recipe.disk.espSizeBytes < MIN_ESP_BYTES) diskAt.child('esp_size').error(espNode, `the EFI system partition needs at least 8M, got ${recipe.disk.espSizeBytes} bytes`);
  // Partitions are MiB-aligned, and Azure's VHD import takes only whole MiB.
  if (recipe.disk.sizeBytes % 1048576 !== 0) diskAt.child('size').error(sizeNode, `${recipe.disk.sizeBytes} bytes is not a whole number of MiB`);
  if (recipe.disk.espSizeBytes % 1048576 !== 0) diskAt.child('esp_size').error(espNode, `${recipe.disk.espSizeBytes} bytes is not a whole number of MiB`);
  const rootBytes = recipe.disk.sizeBytes - recipe.disk.espSizeBytes - 2 * 1024 * 1024;
  if (rootBytes < 256 * 1024 * 1024) diskAt.child('size').error(sizeNode, `leaves ${Math.max(0, Math.floor(rootBytes / 1048576))} MiB for the root filesystem; an OS image needs at least 256 MiB`);

  const seen = new Map<string, number>();
  recipe.users.forEach((u, i) => {
    if (seen.has(u.name)) at.child('users').child(i).child('name').error(nodeAt(root, 'users', i, 'name') ?? root, `user ${u.name} is listed twice (first at index ${seen.get(u.name)})`);
    else seen.set(u.name, i);
  });
  const paths = new Map<string, number>();
  recipe.files.forEach((f, i) => {
    if (paths.has(f.path)) at.child('files').child(i).child('path').error(nodeAt(root, 'files', i, 'path') ?? root, `${f.path} is listed twice (first at index ${paths.get(f.path)})`);
    else paths.set(f.path, i);
  });
  if (!recipe.base.packages.includes('systemd-sysv') && !recipe.base.packages.includes('systemd')) {
    at.child('base').child('packages').warning(nodeAt(root, 'base', 'packages') ?? root, 'no systemd in the package list: the agent runs as a systemd unit');
  }

  if (archive === undefined) return;
  const pkgAt = at.child('base').child('packages');
  const wanted: { name: string; node: YamlNode; cursor: Cursor }[] = recipe.base.packages.map((p, i) => ({ name: p, node: nodeAt(root, 'base', 'packages', i) ?? root, cursor: pkgAt.child(i) }));
  const kernelNode = nodeAt(root, 'kernel', 'package');
  wanted.push({ name: recipe.kernel.package, node: kernelNode ?? root, cursor: kernelNode !== undefined ? at.child('kernel').child('package') : at.child('kernel') });
  for (const w of wanted) {
    if (!archive.packages.has(w.name)) {
      const near = didYouMean(w.name, [...archive.packages]);
      w.cursor.error(w.node, `no package ${w.name} in Debian ${recipe.base.suite} (${recipe.arch})${near === undefined ? '' : ` (did you mean ${near}?)`}`);
    }
  }
  const listedBytes = installedClosureBytes(archive, wanted.map((w) => w.name));
  // An estimate (the dependency closure, before the ostree layout trims anything): enough to
  // refuse a disk that plainly cannot hold the tree before the bootstrap; the disk step measures
  // the real tree again.
  const needed = listedBytes * UNPACKED_SHARE + AGENT_PAYLOAD_BYTES;
  if (rootBytes > 0 && needed > rootBytes) {
    diskAt.child('size').error(sizeNode, `the root filesystem would get ${Math.floor(rootBytes / 1048576)} MiB, but the packages and their dependencies need at least ${Math.ceil((listedBytes * UNPACKED_SHARE) / 1048576)} MiB plus ${AGENT_PAYLOAD_BYTES / 1048576} MiB for the agent and Node.js`);
  }
}
