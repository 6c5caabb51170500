// NoCloud meta-data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMetaData } from '../../../../src/core/cloud-config/validate.js';
import { expectClean, expectProblem } from './check-helpers.js';

const check = (text: string): ReturnType<typeof validateMetaData> => validateMetaData(Buffer.from(text), 'md');

test('typical meta-data, YAML or JSON, is clean and returned', () => {
  const r = check('instance-id: iid-123\nlocal-hostname: node-1\npublic-keys:\n  default: ssh-ed25519 AAAA k\ncustom: kept\n');
  expectClean(r.problems);
  assert.deepEqual(r.metadata, { 'instance-id': 'iid-123', 'local-hostname': 'node-1', 'public-keys': { default: 'ssh-ed25519 AAAA k' }, custom: 'kept' });
  expectClean(check('{"instance-id": "i-1", "dsmode": "local"}').problems);
});

test('instance-id: missing is a warning, empty or a number is an error', () => {
  expectProblem(check('local-hostname: a\n').problems, { severity: 'warning', path: '', line: 1, column: 1, message: /'nocloud'/ });
  expectProblem(check("instance-id: ''\n").problems, { severity: 'error', path: '/instance-id', line: 1, column: 14, message: /must not be empty/ });
  expectProblem(check('instance-id: 0123\n').problems, { severity: 'error', path: '/instance-id', line: 1, column: 14, message: /octal integer 83/ });
  expectProblem(check('instance-id: a/b\n').problems, { severity: 'error', path: '/instance-id', line: 1, column: 14, message: /without '\/'/ });
  expectProblem(check('').problems, { severity: 'warning', path: '', line: 1, column: 1, message: /empty meta-data/ });
});

test('local-hostname, dsmode, network-interfaces, misspelt keys', () => {
  const r = check('instance-id: x\nlocal-hostname: my_host\ndsmode: network\nnetwork-interfaces: |\n  auto eth0\npublic_keys: [a]\n');
  expectProblem(r.problems, { severity: 'error', path: '/local-hostname', line: 2, column: 17, message: /not a valid host name/ });
  expectProblem(r.problems, { severity: 'error', path: '/dsmode', line: 3, column: 9, message: /not one of local, net, disabled/ });
  expectProblem(r.problems, { severity: 'warning', path: '/network-interfaces', line: 4, column: 21, message: /deprecated/ });
  expectProblem(r.problems, { severity: 'warning', path: '/public_keys', line: 6, column: 1, message: /did you mean 'public-keys'/ });
  expectProblem(check('[a]\n').problems, { severity: 'error', path: '', line: 1, column: 1, message: /meta-data is a mapping/ });
});
