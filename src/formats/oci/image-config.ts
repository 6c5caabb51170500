// The image configuration (OCI image-spec config.md; Docker's "container image v1" JSON is the same
// document): the platform the image was built for, the defaults of its process, and `rootfs`,
// whose diff_ids name each layer by the digest of its uncompressed tar stream.
import { digestProblem } from './digest.js';
import { JsonChecker, childPointer, parseJsonBytes } from './json-checker.js';
import type { Platform } from './platform.js';

export interface ImageProcessConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  /** Docker's extension: `HEALTHCHECK` of the Dockerfile. Kept as received. */
  readonly Healthcheck?: unknown;
  readonly Shell?: readonly string[];
}

export interface ImageHistory {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface ImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly created?: string;
  readonly author?: string;
  readonly config?: ImageProcessConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history?: readonly ImageHistory[];
}

/** Parse and check a config blob; `what` names it in messages (`config sha256:…`). */
export function parseImageConfig(bytes: Uint8Array, what = 'image config'): ImageConfig {
  const doc = parseJsonBytes(bytes, what);
  const c = new JsonChecker();
  const obj = c.object(doc, '');
  if (obj === undefined) return c.throwIfProblems(what) as never;
  const architecture = c.string(obj.architecture, '/architecture');
  const os = c.string(obj.os, '/os');
  const variant = c.optionalString(obj.variant, '/variant');
  const osVersion = c.optionalString(obj['os.version'], childPointer('', 'os.version'));
  const created = c.optionalString(obj.created, '/created');
  const author = c.optionalString(obj.author, '/author');
  const rootfs = c.object(obj.rootfs, '/rootfs');
  const diffIds: string[] = [];
  if (rootfs !== undefined) {
    if (rootfs.type !== 'layers') c.add('/rootfs/type', `must be "layers", not ${JSON.stringify(rootfs.type)}`);
    const ids = c.array(rootfs.diff_ids, '/rootfs/diff_ids') ?? [];
    ids.forEach((id, i) => {
      const s = c.string(id, `/rootfs/diff_ids/${i}`);
      if (s === undefined) return;
      const problem = digestProblem(s);
      if (problem !== undefined) c.add(`/rootfs/diff_ids/${i}`, problem);
      else diffIds.push(s);
    });
  }
  const process = parseProcessConfig(c, obj.config);
  const historyList = c.optionalArray(obj.history, '/history');
  const history = historyList?.map((h, i): ImageHistory => {
    const p = `/history/${i}`;
    const o = c.object(h, p) ?? {};
    const emptyLayer = o.empty_layer;
    if (emptyLayer !== undefined && typeof emptyLayer !== 'boolean') c.add(`${p}/empty_layer`, 'must be a boolean');
    const createdAt = c.optionalString(o.created, `${p}/created`);
    const createdBy = c.optionalString(o.created_by, `${p}/created_by`);
    const hAuthor = c.optionalString(o.author, `${p}/author`);
    const comment = c.optionalString(o.comment, `${p}/comment`);
    return {
      ...(createdAt === undefined ? {} : { created: createdAt }),
      ...(createdBy === undefined ? {} : { created_by: createdBy }),
      ...(hAuthor === undefined ? {} : { author: hAuthor }),
      ...(comment === undefined ? {} : { comment }),
      ...(emptyLayer === true ? { empty_layer: true } : {}),
    };
  });
  c.throwIfProblems(`${what}: not a valid image config`);
  return {
    architecture: architecture!,
    os: os!,
    ...(variant === undefined || variant === '' ? {} : { variant }),
    ...(osVersion === undefined ? {} : { 'os.version': osVersion }),
    ...(created === undefined ? {} : { created }),
    ...(author === undefined ? {} : { author }),
    ...(process === undefined ? {} : { config: process }),
    rootfs: { type: 'layers', diff_ids: diffIds },
    ...(history === undefined ? {} : { history }),
  };
}

export function configPlatform(config: ImageConfig): Platform {
  return {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
    ...(config['os.version'] === undefined ? {} : { osVersion: config['os.version'] }),
  };
}

function parseProcessConfig(c: JsonChecker, value: unknown): ImageProcessConfig | undefined {
  const o = c.optionalObject(value, '/config');
  if (o === undefined) return undefined;
  const p = '/config';
  const user = c.optionalString(o.User, `${p}/User`);
  const env = c.optionalStringArray(o.Env, `${p}/Env`);
  env?.forEach((e, i) => {
    if (!e.includes('=')) c.add(`${p}/Env/${i}`, `${JSON.stringify(e)} is not NAME=value`);
  });
  const entrypoint = c.optionalStringArray(o.Entrypoint, `${p}/Entrypoint`);
  const cmd = c.optionalStringArray(o.Cmd, `${p}/Cmd`);
  const shell = c.optionalStringArray(o.Shell, `${p}/Shell`);
  const workingDir = c.optionalString(o.WorkingDir, `${p}/WorkingDir`);
  const labels = c.optionalStringMap(o.Labels, `${p}/Labels`);
  const stopSignal = c.optionalString(o.StopSignal, `${p}/StopSignal`);
  const exposed = emptyObjectSet(c, o.ExposedPorts, `${p}/ExposedPorts`);
  const volumes = emptyObjectSet(c, o.Volumes, `${p}/Volumes`);
  return {
    ...(user === undefined ? {} : { User: user }),
    ...(exposed === undefined ? {} : { ExposedPorts: exposed }),
    ...(env === undefined ? {} : { Env: env }),
    ...(entrypoint === undefined ? {} : { Entrypoint: entrypoint }),
    ...(cmd === undefined ? {} : { Cmd: cmd }),
    ...(volumes === undefined ? {} : { Volumes: volumes }),
    ...(workingDir === undefined ? {} : { WorkingDir: workingDir }),
    ...(labels === undefined ? {} : { Labels: labels }),
    ...(stopSignal === undefined ? {} : { StopSignal: stopSignal }),
    ...(o.Healthcheck === undefined || o.Healthcheck === null ? {} : { Healthcheck: o.Healthcheck }),
    ...(shell === undefined ? {} : { Shell: shell }),
  };
}

/** ExposedPorts and Volumes are JSON objects used as sets: keys with `{}` values. */
function emptyObjectSet(c: JsonChecker, value: unknown, pointer: string): Record<string, object> | undefined {
  const o = c.optionalObject(value, pointer);
  if (o === undefined) return undefined;
  const out: Record<string, object> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) c.add(childPointer(pointer, k), 'must be an object ({})');
    else out[k] = {};
  }
  return out;
}
