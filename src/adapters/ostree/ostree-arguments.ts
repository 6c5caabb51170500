// Argument checks of the ostree adapter: a malformed argument is InvalidArgument before any
// libostree call (libostree would g_return_if_fail or report it less clearly).
import { InvalidArgument } from '../../lib/errors.js';

const CSUM = /^[0-9a-f]{64}$/;

/** A full SHA-256 object checksum (OSTREE_SHA256_STRING_LEN lowercase hex digits). */
export function requireCsum(value: string, what: string): string {
  if (typeof value !== 'string' || !CSUM.test(value)) {
    throw new InvalidArgument(`${what}: expected a 64-digit lowercase hex checksum, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function requireName(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw new InvalidArgument(`${what}: expected a non-empty string`);
  }
  return value;
}

export function requireStrings(values: readonly string[], what: string): string[] {
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || v.includes('\0'))) {
    throw new InvalidArgument(`${what}: expected an array of strings`);
  }
  return [...values];
}

export function requireInteger(value: number, what: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgument(`${what}: expected an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}
