// The `containers:` list of cloud-config (our key, validated by core/cloud-config/schema.ts) as
// Engine API create requests: what `docker run` would send for the same flags. Each request
// carries two labels so that the reconciler can recognise its own containers later: which
// configuration manages it, and a hash of the request, so that a changed declaration is seen as
// changed (compose does the same with com.docker.compose.config-hash).
import { createHash } from 'node:crypto';
import { InvalidArgument } from '../../lib/errors.js';
import { memoryBytes } from './memory-bytes.js';
import type { PlainValue } from '../cloud-config/yaml-document.js';
import type { ContainerConfig, HostConfig, RestartPolicy } from './container-spec.js';
import { parsePortSpecs, type ParsedPortSpecs } from './network-port-spec.js';

/** Set on every container the reconciler creates: who manages it. */
export const MANAGED_BY_LABEL = 'io.atomic.managed-by';
export const MANAGED_BY_CLOUD_CONFIG = 'cloud-config';
/** sha256 of the canonical create request, without this label. */
export const CONFIG_HASH_LABEL = 'io.atomic.config-hash';

export interface DeclaredContainer {
  readonly name: string;
  readonly image: string;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  readonly hash: string;
}

type Entry = { readonly [key: string]: PlainValue };

const isEntry = (v: PlainValue | undefined): v is Entry => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const str = (v: PlainValue | undefined): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/**
 * A command as compose reads it: a list is taken as is, a string is split into words the way a
 * POSIX shell would without expansions (single and double quotes, backslash escapes).
 */
export function splitCommand(text: string, field: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new InvalidArgument(`${field}: unterminated ${quote} quote in ${JSON.stringify(text)}`, { subject: field });
  if (inWord) words.push(word);
  return words;
}

function command(v: PlainValue | undefined, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => str(x) ?? '');
  const s = str(v);
  return s === undefined ? undefined : splitCommand(s, field);
}

function env(v: PlainValue | undefined): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => str(x) ?? '').filter((x) => x.includes('='));
  if (isEntry(v)) return Object.entries(v).map(([k, x]) => `${k}=${str(x) ?? ''}`);
  return undefined;
}

function labels(v: PlainValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const x of v) {
      const s = str(x) ?? '';
      const eq = s.indexOf('=');
      if (eq > 0) out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (isEntry(v)) {
    for (const [k, x] of Object.entries(v)) out[k] = str(x) ?? '';
  }
  return out;
}

export function restartPolicy(v: PlainValue | undefined): RestartPolicy | undefined {
  if (v === undefined || v === null || v === false) return v === false ? { Name: 'no' } : undefined;
  const s = str(v) ?? '';
  const m = /^on-failure(?::(\d+))?$/.exec(s);
  if (m !== null) return { Name: 'on-failure', ...(m[1] === undefined ? {} : { MaximumRetryCount: Number(m[1]) }) };
  if (s === 'no' || s === 'always' || s === 'unless-stopped') return { Name: s };
  throw new InvalidArgument(`restart: ${JSON.stringify(s)} is not no, always, unless-stopped or on-failure[:N]`, { subject: 'restart' });
}

/** `-p` specs as ExposedPorts + PortBindings, as `docker run -p` makes them (a bare `80` publishes on a free host port). */
function ports(v: PlainValue | undefined, at: string): ParsedPortSpecs {
  if (!Array.isArray(v)) return { exposedPorts: {}, portBindings: {} };
  const specs = v.map((p) => str(p) ?? '');
  specs.forEach((spec, j) => {
    try {
      parsePortSpecs([spec]);
    } catch (e) {
      throw new InvalidArgument(`${at}/ports/${j}: ${e instanceof Error ? e.message : String(e)}`, { subject: `${at}/ports/${j}`, cause: e });
    }
  });
  return parsePortSpecs(specs);
}

/** JSON with sorted keys: equal requests hash equally whatever order the YAML had. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A name for an entry without one: the image's last path component and the entry's position. */
function defaultName(image: string, index: number): string {
  const base = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '').split('/').pop() ?? 'container';
  const clean = base.replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
  return `${clean === '' ? 'container' : clean}-${index + 1}`;
}

/** The validated `containers:` list as create requests, in order. */
export function declaredContainers(list: readonly PlainValue[]): DeclaredContainer[] {
  return list.map((raw, i) => {
    const at = `/containers/${i}`;
    if (!isEntry(raw)) throw new InvalidArgument(`${at}: expected a mapping`, { subject: at });
    const image = str(raw.image);
    if (image === undefined || image === '') throw new InvalidArgument(`${at}/image: required`, { subject: `${at}/image` });
    const name = str(raw.name) ?? defaultName(image, i);
    const p = ports(raw.ports, at);
    const memory = raw.memory === undefined || raw.memory === null ? undefined : typeof raw.memory === 'number' ? raw.memory : memoryBytes(str(raw.memory) ?? '');
    if (raw.memory !== undefined && raw.memory !== null && memory === undefined) throw new InvalidArgument(`${at}/memory: ${JSON.stringify(raw.memory)} is not a size`, { subject: `${at}/memory` });
    const cmd = command(raw.command, `${at}/command`);
    const entrypoint = command(raw.entrypoint, `${at}/entrypoint`);
    const environment = env(raw.env);
    const user = str(raw.user);
    const workdir = str(raw.workdir);
    const restart = restartPolicy(raw.restart);
    const config: ContainerConfig = {
      Image: image,
      ...(cmd === undefined ? {} : { Cmd: cmd }),
      ...(entrypoint === undefined ? {} : { Entrypoint: entrypoint }),
      ...(environment === undefined ? {} : { Env: environment }),
      ...(user === undefined ? {} : { User: user }),
      ...(workdir === undefined ? {} : { WorkingDir: workdir }),
      ...(Object.keys(p.exposedPorts).length === 0 ? {} : { ExposedPorts: p.exposedPorts }),
      Labels: { ...labels(raw.labels), [MANAGED_BY_LABEL]: MANAGED_BY_CLOUD_CONFIG },
    };
    const hostConfig: HostConfig = {
      ...(Array.isArray(raw.volumes) ? { Binds: raw.volumes.map((v) => str(v) ?? '') } : {}),
      ...(Object.keys(p.portBindings).length === 0 ? {} : { PortBindings: p.portBindings }),
      ...(restart === undefined ? {} : { RestartPolicy: restart }),
      ...(memory === undefined ? {} : { Memory: memory }),
      ...(typeof raw.cpu_shares === 'number' ? { CpuShares: raw.cpu_shares } : {}),
      ...(raw.privileged === true ? { Privileged: true } : {}),
    };
    const hash = createHash('sha256').update(canonicalJson({ name, config, hostConfig })).digest('hex');
    return { name, image, config: { ...config, Labels: { ...config.Labels, [CONFIG_HASH_LABEL]: hash } }, hostConfig, hash };
  });
}
