// Image references, following the grammar of distribution/reference (reference.go):
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] path-component ['/' path-component]*
//   domain           := host [':' port-number]
//   host             := domain-name | IPv4address | \[ IPv6address \]
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   path-component   := alpha-numeric [separator alpha-numeric]*
//   alpha-numeric    := /[a-z0-9]+/
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex (32 or more hex digits)
//
// and Docker's normalisation (normalize.go ParseNormalizedNamed): a first component without '.'
// or ':' that is not `localhost` is not a domain, so `busybox` is `docker.io/library/busybox`,
// `index.docker.io` means `docker.io`, and a reference without tag or digest gets `:latest`.
import { InvalidArgument } from '../../lib/errors.js';
import { digestProblem } from './digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** reference.go NameTotalLengthMax. */
const NAME_TOTAL_LENGTH_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)`;
const REFERENCE = new RegExp(`^${NAME}(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_TAG = new RegExp(`^${TAG}$`);
const HEX64 = /^[a-f0-9]{64}$/;

export interface ImageReference {
  /** Registry host and port as written in the reference: `docker.io`, `localhost:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

function invalid(text: string, why: string): InvalidArgument {
  return new InvalidArgument(`invalid reference format: ${why}`, { subject: text });
}

/** Parse a fully qualified reference without Docker's normalisation (reference.Parse). */
export function parseReference(text: string): ImageReference {
  if (text === '') throw invalid(text, 'repository name must have at least one component');
  const m = REFERENCE.exec(text);
  if (m === null) {
    if (REFERENCE.test(text.toLowerCase())) throw invalid(text, `repository name (${text}) must be lowercase`);
    throw invalid(text, JSON.stringify(text));
  }
  const domain = m[1] ?? '';
  const path = m[2]!;
  const name = domain === '' ? path : `${domain}/${path}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(text, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const digest = m[4];
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) throw invalid(text, problem);
  }
  return { domain, path, ...(m[3] === undefined ? {} : { tag: m[3] }), ...(digest === undefined ? {} : { digest }) };
}

/**
 * Parse what a user typed (`busybox`, `busybox:1.36`, `localhost:5000/library/busybox@sha256:…`)
 * into a fully qualified reference, as Docker's ParseNormalizedNamed does. No default tag is
 * added here: see withDefaultTag.
 */
export function parseNormalizedReference(text: string): ImageReference {
  if (HEX64.test(text)) throw new InvalidArgument(`invalid repository name (${text}), cannot specify 64-byte hexadecimal strings`, { subject: text });
  const slash = text.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = slash < 0 ? '' : text.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = text;
  } else {
    domain = first;
    remainder = text.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  // normalize.go: the path (before any tag or digest) must be lower case; say so plainly.
  const pathPart = remainder.split(/[:@]/, 1)[0] ?? '';
  if (pathPart.toLowerCase() !== pathPart) throw invalid(text, `repository name (${pathPart}) must be lowercase`);
  const ref = parseReference(`${domain}/${remainder}`);
  return ref;
}

/** reference.TagNameOnly: a reference with neither tag nor digest means `:latest`. */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** `docker.io/library/busybox` */
export function repositoryName(ref: ImageReference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

/** The full string: `docker.io/library/busybox:1.36@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** Docker's short form of a name (FamiliarName): `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.split('/').length === 2 ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
}

/** Docker's short form of a whole reference (FamiliarString): `busybox:1.36`. */
export function familiarString(ref: ImageReference): string {
  return `${familiarName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG.test(tag);
}
