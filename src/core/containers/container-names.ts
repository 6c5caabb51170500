// Container names: Docker's rule (daemon/names: RestrictedNameChars `[a-zA-Z0-9][a-zA-Z0-9_.-]`,
// at least two characters, an optional leading "/"), stored with the leading "/" as Docker
// reports them (`"Name": "/web"`), and generated `adjective_surname` names for containers created
// without one (our own word lists: famous scientists and engineers, and plain adjectives).
import { InvalidArgument } from '../../lib/errors.js';

export const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The stored form ("/web") of a requested name; InvalidArgument with Docker's text otherwise. */
export function canonicalName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { subject: name });
  }
  return name.startsWith('/') ? name : `/${name}`;
}

export const ADJECTIVES: readonly string[] = [
  'agile', 'amber', 'ample', 'bold', 'brave', 'breezy', 'bright', 'brisk', 'calm', 'candid', 'careful', 'cheerful', 'clever', 'cosmic',
  'crisp', 'curious', 'daring', 'dapper', 'deft', 'eager', 'earnest', 'elated', 'exact', 'fancy', 'fearless', 'fervent', 'fleet',
  'fluent', 'frank', 'gallant', 'gentle', 'gleaming', 'glad', 'golden', 'graceful', 'hardy', 'hearty', 'honest', 'humble', 'jolly',
  'keen', 'kind', 'lively', 'lucid', 'lucky', 'mellow', 'merry', 'mighty', 'modest', 'nimble', 'noble', 'patient', 'plucky', 'polite',
  'proud', 'quiet', 'quick', 'radiant', 'rapid', 'ready', 'serene', 'sharp', 'shiny', 'silent', 'sincere', 'snappy', 'spry', 'steady',
  'stoic', 'sturdy', 'sunny', 'swift', 'tidy', 'tranquil', 'trusty', 'upbeat', 'valiant', 'vivid', 'warm', 'wise', 'witty', 'zesty',
];

export const SURNAMES: readonly string[] = [
  'agnesi', 'ampere', 'archimedes', 'babbage', 'bardeen', 'bell', 'bohr', 'boole', 'brahe', 'cantor', 'carson', 'cauchy', 'cerf',
  'curie', 'darwin', 'dijkstra', 'dirac', 'edison', 'einstein', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman',
  'fourier', 'franklin', 'galileo', 'gauss', 'germain', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hertz', 'hilbert',
  'hopper', 'hubble', 'huygens', 'johnson', 'joule', 'kepler', 'knuth', 'lamarr', 'laplace', 'leibniz', 'lovelace', 'maxwell',
  'meitner', 'mendel', 'mirzakhani', 'newton', 'noether', 'ohm', 'pascal', 'pasteur', 'pauli', 'planck', 'poincare', 'ramanujan',
  'riemann', 'ritchie', 'rutherford', 'sagan', 'shannon', 'somerville', 'tesla', 'thompson', 'torvalds', 'turing', 'volta',
  'wozniak', 'wu', 'yalow',
];

/**
 * A generated name. `random(n)` returns an integer in [0, n); `retry` > 0 appends a digit like
 * dockerd does when the first picks collide.
 */
export function generateName(random: (n: number) => number, retry = 0): string {
  const adjective = ADJECTIVES[random(ADJECTIVES.length)] ?? ADJECTIVES[0];
  const surname = SURNAMES[random(SURNAMES.length)] ?? SURNAMES[0];
  const base = `${adjective}_${surname}`;
  return retry > 0 ? `${base}${random(10)}` : base;
}
