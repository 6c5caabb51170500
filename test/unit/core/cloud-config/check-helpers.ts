// Shared assertions for the cloud-config tests: find a problem by path and compare its location.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO } from '../../../helpers.js';
import type { Problem } from '../../../../src/core/cloud-config/validate.js';
import { validateUserData } from '../../../../src/core/cloud-config/validate.js';

export const USER_DATA_FIXTURES = join(REPO, 'test', 'fixtures', 'user-data');

/** Problems of `#cloud-config` + body, as user-data named `u`. Line 1 is the header. */
export function cloudConfig(body: string): Problem[] {
  return [...validateUserData(Buffer.from(`#cloud-config\n${body}`), 'u').problems];
}

export interface Expected {
  readonly severity: 'error' | 'warning';
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message?: RegExp;
}

/** Exactly one problem at `path`, with this severity and position (and message, if given). */
export function expectProblem(problems: readonly Problem[], e: Expected): Problem {
  const at = problems.filter((p) => p.path === e.path);
  assert.equal(at.length, 1, `one problem at ${e.path}; all problems:\n${JSON.stringify(problems, null, 1)}`);
  const p = at[0] as Problem;
  assert.deepEqual({ severity: p.severity, line: p.line, column: p.column }, { severity: e.severity, line: e.line, column: e.column }, p.message);
  if (e.message !== undefined) assert.match(p.message, e.message);
  return p;
}

export function errorsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}

export function expectClean(problems: readonly Problem[]): void {
  assert.deepEqual(problems, [], JSON.stringify(problems, null, 1));
}
