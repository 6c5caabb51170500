import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planModule } from '../../../../src/core/provision/plan-module.js';
import { shellify } from '../../../../src/core/provision/shellify.js';
import { runOk } from '../../../helpers.js';
import { input, only, utf8 } from './fixture-input.js';

test('runcmd becomes <instance>/scripts/runcmd, 0700, shellified like cloud-init', () => {
  const { steps, problems } = planModule('runcmd', input({ runcmd: ['echo one > /tmp/one', ['touch', "/tmp/it's here"], null, ['ls', '-l', 5, true]] }));
  assert.deepEqual(problems, []);
  const [w] = only(steps, 'write-file');
  assert.equal(w?.path, '/var/lib/atomicd/cloud/instances/iid-test-1/scripts/runcmd');
  assert.equal(w?.mode, 0o700);
  assert.equal(utf8(w?.content ?? new Uint8Array()), "#!/bin/sh\necho one > /tmp/one\n'touch' '/tmp/it'\\''s here'\n'ls' '-l' '5' 'True'\n");
  assert.deepEqual(planModule('runcmd', input({})).steps, []);
  assert.match(planModule('runcmd', input({ runcmd: [{ a: 1 }] })).problems[0] ?? '', /\/runcmd: item 0 is a mapping/);
});

test("shellify agrees with cloud-init's util.shellify", () => {
  const cmds = ['plain line', ['argv', "with 'quotes'", 'and spaces'], null, ['x', 1, 2.5, false], 'multi\nline'];
  const py = runOk('/usr/bin/python3', ['-c', 'import json,sys\nfrom cloudinit import util\nsys.stdout.write(util.shellify(json.load(sys.stdin)))'], { input: JSON.stringify(cmds) }).stdout;
  const ours = shellify(cmds);
  assert.ok(ours.ok);
  assert.equal(ours.script, py);
});

test('bootcmd runs the shellified list with sh -c inside the root, with INSTANCE_ID', () => {
  const { steps } = planModule('bootcmd', input({ bootcmd: ['echo $INSTANCE_ID > /run/iid', ['mkdir', '-p', '/x y']] }));
  assert.deepEqual(steps, [
    { action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/sh', '-c', "#!/bin/sh\necho $INSTANCE_ID > /run/iid\n'mkdir' '-p' '/x y'\n", 'bootcmd'] }, env: { INSTANCE_ID: 'iid-test-1' } },
  ]);
  assert.deepEqual(planModule('bootcmd', input({})).steps, []);
  assert.equal(planModule('bootcmd', input({ bootcmd: 'not a list' })).problems.length, 1);
});

test('the scripts modules run their directories with run-parts', () => {
  const dir = (name: 'scripts_user' | 'scripts_per_instance' | 'scripts_per_boot' | 'scripts_per_once'): unknown => {
    const s = only(planModule(name, input({})).steps, 'run')[0];
    return s?.command.kind === 'run-parts' ? [s.purpose, s.command.dir] : undefined;
  };
  assert.deepEqual(dir('scripts_user'), ['scripts_user', '/var/lib/atomicd/cloud/instances/iid-test-1/scripts']);
  assert.deepEqual(dir('scripts_per_instance'), ['scripts_per_instance', '/var/lib/atomicd/cloud/scripts/per-instance']);
  assert.deepEqual(dir('scripts_per_boot'), ['scripts_per_boot', '/var/lib/atomicd/cloud/scripts/per-boot']);
  assert.deepEqual(dir('scripts_per_once'), ['scripts_per_once', '/var/lib/atomicd/cloud/scripts/per-once']);
});
