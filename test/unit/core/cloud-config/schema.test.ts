// The cloud-config schema: every module atomicd applies, valid and typical invalid values, with
// exact paths and positions (line 1 is the #cloud-config header).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { validateUserData } from '../../../../src/core/cloud-config/validate.js';
import { cloudConfig, errorsOf, expectClean, expectProblem, USER_DATA_FIXTURES } from './check-helpers.js';

test('the all-modules and containers fixtures are clean', () => {
  for (const f of ['cloud-config-all-modules.yaml', 'cloud-config-containers.yaml', 'crlf.yaml']) {
    expectClean(validateUserData(readFileSync(join(USER_DATA_FIXTURES, f)), f).problems);
  }
});

test('bootcmd and runcmd: lists of strings or argv lists', () => {
  expectClean(cloudConfig('bootcmd:\n  - echo a\n  - [echo, b]\nruncmd:\n  - ls\n  - [ls, -l]\n  -\n'));
  const p = cloudConfig('bootcmd: []\nruncmd:\n  - [ls, 1]\n  - {a: b}\n');
  expectProblem(p, { severity: 'error', path: '/bootcmd', line: 2, column: 10, message: /empty/ });
  expectProblem(p, { severity: 'error', path: '/runcmd/0/1', line: 4, column: 10, message: /expected a string, got an integer \(1\)/ });
  expectProblem(p, { severity: 'error', path: '/runcmd/1', line: 5, column: 5, message: /expected a string or a list of strings, got a mapping/ });
  expectProblem(cloudConfig('runcmd: echo hi\n'), { severity: 'error', path: '/runcmd', line: 2, column: 9, message: /expected a list, got a string/ });
});

test('write_files: required path, encodings, permissions as cloud-init reads them', () => {
  const p = cloudConfig(
    [
      'write_files:',
      '  - path: /a', //                      3
      "    permissions: '0644'",
      '  - path: /b', //                      5
      '    permissions: 0644', //             6  octal int: cloud-init applies it, its schema objects
      '  - path: /c',
      '    permissions: 644', //              8  decimal 644 = 0o1204
      '  - path: /d',
      "    permissions: '0999'", //           10
      '  - content: no path', //              11
      '    permisions: 0600', //              12
      '  - path: relative/e',
      '    encoding: base65', //              14
      '    source: {uri: http://x/y}', //     15
      '    append: yes',
      '',
    ].join('\n'),
  );
  expectProblem(p, { severity: 'warning', path: '/write_files/1/permissions', line: 6, column: 18, message: /integer 420 .* write '0644'/ });
  expectProblem(p, { severity: 'error', path: '/write_files/2/permissions', line: 8, column: 18, message: /mode 0o1204/ });
  expectProblem(p, { severity: 'error', path: '/write_files/3/permissions', line: 10, column: 18, message: /not an octal mode/ });
  expectProblem(p, { severity: 'error', path: '/write_files/4', line: 11, column: 5, message: /missing required key 'path'/ });
  expectProblem(p, { severity: 'error', path: '/write_files/4/permisions', line: 12, column: 5, message: /did you mean 'permissions'/ });
  expectProblem(p, { severity: 'error', path: '/write_files/5/path', line: 13, column: 11, message: /absolute/ });
  expectProblem(p, { severity: 'error', path: '/write_files/5/encoding', line: 14, column: 15, message: /did you mean base64/ });
  expectProblem(p, { severity: 'warning', path: '/write_files/5/source', line: 15, column: 5, message: /not applied by atomicd/ });
  assert.equal(p.length, 8, JSON.stringify(p, null, 1));
});

test('write_files: content must decode as its encoding says; gzip output is capped', () => {
  const gz = gzipSync('hello\n').toString('base64');
  expectClean(cloudConfig(`write_files:\n  - path: /a\n    encoding: gz+b64\n    content: ${gz}\n  - path: /b\n    encoding: b64\n    content: aGVsbG8=\n`));
  const p = cloudConfig('write_files:\n  - path: /a\n    encoding: b64\n    content: aGVsbG8\n  - path: /b\n    encoding: gzip\n    content: plain text\n  - path: /c\n    encoding: gz+b64\n    content: aGVsbG8=\n');
  expectProblem(p, { severity: 'error', path: '/write_files/0/content', line: 5, column: 14, message: /incorrect padding/ });
  expectProblem(p, { severity: 'error', path: '/write_files/1/content', line: 8, column: 14, message: /needs gzip bytes/ });
  expectProblem(p, { severity: 'error', path: '/write_files/2/content', line: 11, column: 14, message: /not gzip data/ });
  const bomb = gzipSync(Buffer.alloc(80 * 1024 * 1024)).toString('base64');
  const b = cloudConfig(`write_files:\n  - path: /bomb\n    encoding: gz+b64\n    content: ${bomb}\n`);
  expectProblem(b, { severity: 'error', path: '/write_files/0/content', line: 5, column: 14, message: /more than 67108864 bytes; refused/ });
});

test('users: list, string and mapping forms; sudo, passwords and keys', () => {
  expectClean(cloudConfig('users: alice, bob\n'));
  expectClean(cloudConfig('users:\n  alice: {gecos: Alice}\n  bob: true\n'));
  expectClean(cloudConfig("users:\n  - default\n  - [carol, dave]\n  - name: erin\n    sudo: ['ALL=(ALL) ALL', 'erin ALL=NOPASSWD: /bin/true']\n    groups: wheel, adm\n"));
  const p = cloudConfig(
    [
      'users:',
      '  - name: alice', //                   3
      '    sudo: true', //                    4
      '    plain_text_passwd: secret', //     5
      '    ssh-authorized-keys: [x]', //      6
      '    expiredate: 2030-01-01', //        7
      "    uid: '1000'", //                   8
      '  - gecos: no name', //                9
      '    sudo: false', //                   10
      '    passwd: plaintext', //             11
      '    ssh_authorized_keys:', //          12
      '      - "-----BEGIN OPENSSH PRIVATE KEY----- abc"',
      '      - not a key', //                 14
      '',
    ].join('\n'),
  );
  expectProblem(p, { severity: 'error', path: '/users/0/sudo', line: 4, column: 11, message: /Can not create sudoers rule/ });
  expectProblem(p, { severity: 'warning', path: '/users/0/plain_text_passwd', line: 5, column: 24, message: /clear text/ });
  expectProblem(p, { severity: 'error', path: '/users/0/ssh-authorized-keys', line: 6, column: 5, message: /did you mean 'ssh_authorized_keys'/ });
  expectProblem(p, { severity: 'warning', path: '/users/0/expiredate', line: 7, column: 17, message: /as a date; quote it/ });
  expectProblem(p, { severity: 'warning', path: '/users/0/uid', line: 8, column: 10, message: /deprecated/ });
  expectProblem(p, { severity: 'error', path: '/users/1', line: 9, column: 5, message: /missing required key 'name'/ });
  expectProblem(p, { severity: 'warning', path: '/users/1/sudo', line: 10, column: 11, message: /deprecated/ });
  expectProblem(p, { severity: 'warning', path: '/users/1/passwd', line: 11, column: 13, message: /crypt\(3\) hash/ });
  expectProblem(p, { severity: 'error', path: '/users/1/ssh_authorized_keys/0', line: 13, column: 9, message: /private key/ });
  expectProblem(p, { severity: 'warning', path: '/users/1/ssh_authorized_keys/1', line: 14, column: 9, message: /OpenSSH public key/ });
});

test('groups, ssh, chpasswd', () => {
  expectClean(cloudConfig('groups:\n  - admins: [alice, bob]\n  - ops\nssh_pwauth: yes\ndisable_root: off\nchpasswd:\n  expire: false\n  users:\n    - {name: a, type: RANDOM}\n    - {name: b, password: x, type: text}\n'));
  const p = cloudConfig("groups: {admins: }\nssh_pwauth: 'no'\nchpasswd:\n  users:\n    - {name: a}\n  list: ['a:b']\n  expires: true\n");
  expectProblem(p, { severity: 'error', path: '/groups/admins', line: 2, column: 18, message: /got nothing \(null\)/ });
  expectProblem(p, { severity: 'warning', path: '/ssh_pwauth', line: 3, column: 13, message: /deprecated/ });
  expectProblem(p, { severity: 'error', path: '/chpasswd/users/0', line: 6, column: 7, message: /'password' \(or type: RANDOM\)/ });
  expectProblem(p, { severity: 'warning', path: '/chpasswd/list', line: 7, column: 9, message: /deprecated/ });
  expectProblem(p, { severity: 'error', path: '/chpasswd/expires', line: 8, column: 3, message: /did you mean 'expire'/ });
});

test('hostname, fqdn, manage_etc_hosts, timezone, final_message', () => {
  expectClean(cloudConfig('hostname: node-1\nfqdn: node-1.example.org\nmanage_etc_hosts: true\ntimezone: America/New_York\nfinal_message: done\n'));
  const p = cloudConfig("hostname: 42\nfqdn: 'bad host'\nmanage_etc_hosts: template\ntimezone: Mars/Olympus\nfinal_message: [a]\npreserve_hostname: 'yes'\n");
  expectProblem(p, { severity: 'error', path: '/hostname', line: 2, column: 11, message: /expected a string, got an integer \(42\).*quote it/ });
  expectProblem(p, { severity: 'warning', path: '/fqdn', line: 3, column: 7, message: /RFC 1123/ });
  expectProblem(p, { severity: 'warning', path: '/manage_etc_hosts', line: 4, column: 19, message: /deprecated/ });
  expectProblem(p, { severity: 'warning', path: '/timezone', line: 5, column: 11, message: /IANA/ });
  expectProblem(p, { severity: 'error', path: '/final_message', line: 6, column: 16, message: /expected a string, got a list/ });
  expectProblem(p, { severity: 'error', path: '/preserve_hostname', line: 7, column: 20, message: /expected a boolean, got a string/ });
});

test('power_state: mode required, delay now|N|+N, no unknown keys', () => {
  expectClean(cloudConfig('power_state: {mode: poweroff, delay: now, condition: [test, -f, /x]}\n'));
  const p = cloudConfig('power_state:\n  delay: soon\n  timeout: 1.5\n  mesage: bye\n');
  expectProblem(p, { severity: 'error', path: '/power_state', line: 3, column: 3, message: /missing required key 'mode'/ });
  expectProblem(p, { severity: 'error', path: '/power_state/delay', line: 3, column: 10, message: /expected 'now' or a number of minutes, got a string \(soon\)/ });
  expectProblem(p, { severity: 'error', path: '/power_state/timeout', line: 4, column: 12, message: /expected an integer, got a float/ });
  expectProblem(p, { severity: 'error', path: '/power_state/mesage', line: 5, column: 3, message: /did you mean 'message'/ });
});

test('merge_how / merge_type are parsed like cloud-init\'s mergers', () => {
  expectClean(cloudConfig("merge_how: 'list(append)+dict(recurse_array,no_replace)+str()'\n"));
  expectClean(cloudConfig('merge_type:\n  - name: list\n    settings: [append]\n  - [dict, no_replace]\n'));
  expectProblem(cloudConfig("merge_how: 'list(append'\n"), { severity: 'error', path: '/merge_how', line: 2, column: 12, message: /not in the form/ });
  expectProblem(cloudConfig("merge_how: 'set()'\n"), { severity: 'error', path: '/merge_how', line: 2, column: 12, message: /unknown merger 'set'/ });
  expectProblem(cloudConfig("merge_how: 'list(apend)'\n"), { severity: 'warning', path: '/merge_how', line: 2, column: 12, message: /list\(apend\) is unknown/ });
});

test('top level: unknown keys with suggestions, keys atomicd does not apply, wrong document type', () => {
  const p = cloudConfig('runcmnd: [ls]\npackages: [vim]\nnetwork: {version: 2}\nyes: 1\nwrite-files: []\n');
  expectProblem(p, { severity: 'warning', path: '/runcmnd', line: 2, column: 1, message: /unknown key 'runcmnd' \(did you mean 'runcmd'\?\)/ });
  expectProblem(p, { severity: 'warning', path: '/packages', line: 3, column: 1, message: /not applied by atomicd .*package manager/ });
  expectProblem(p, { severity: 'warning', path: '/network', line: 4, column: 1, message: /network-config file/ });
  expectProblem(p, { severity: 'warning', path: '/yes', line: 5, column: 1, message: /boolean true/ });
  expectProblem(p, { severity: 'warning', path: '/write-files', line: 6, column: 1, message: /did you mean 'write_files'/ });
  assert.equal(errorsOf(p).length, 0);
  expectProblem(cloudConfig('- runcmd\n'), { severity: 'error', path: '', line: 2, column: 1, message: /a cloud-config is a mapping/ });
  expectProblem(cloudConfig(''), { severity: 'warning', path: '', line: 1, column: 1, message: /empty/ });
});

test('containers: Docker syntax for images, names, ports, volumes, restart, memory', () => {
  const p = cloudConfig(
    [
      'containers:',
      '  - name: web', //                                3
      '    image: Nginx:Latest', //                      4
      '    ports: ["8080:80", 22:22, "70000:80", "80/quic"]', // 5
      '    volumes: ["data:/data", "rel/dir:/x", "/h:/c:rx"]', // 6
      '    restart: no', //                              7
      '    memory: 1m', //                               8
      '    env: {DEBUG: yes}', //                        9
      '  - name: web', //                                10
      '    image: redis:7', //                           11
      '    ports: ["8080:6379"]', //                     12
      '    cpu_share: 10', //                            13
      '  - name: x', //                                  14
      '    restart: sometimes', //                       15
      '',
    ].join('\n'),
  );
  expectProblem(p, { severity: 'error', path: '/containers/0/image', line: 4, column: 12, message: /must be lowercase/ });
  expectProblem(p, { severity: 'error', path: '/containers/0/ports/1', line: 5, column: 24, message: /base-60 integer 1342; quote it/ });
  expectProblem(p, { severity: 'error', path: '/containers/0/ports/2', line: 5, column: 31, message: /invalid hostPort: 70000/ });
  expectProblem(p, { severity: 'error', path: '/containers/0/ports/3', line: 5, column: 43, message: /invalid proto: quic/ });
  expectProblem(p, { severity: 'error', path: '/containers/0/volumes/1', line: 6, column: 29, message: /neither an absolute host path nor a volume name/ });
  expectProblem(p, { severity: 'error', path: '/containers/0/volumes/2', line: 6, column: 43, message: /unknown volume option 'rx'/ });
  expectProblem(p, { severity: 'warning', path: '/containers/0/restart', line: 7, column: 14, message: /boolean false.*restart policy "no"/ });
  expectProblem(p, { severity: 'error', path: '/containers/0/memory', line: 8, column: 13, message: /6 MiB/ });
  expectProblem(p, { severity: 'warning', path: '/containers/0/env/DEBUG', line: 9, column: 18, message: /boolean true/ });
  expectProblem(p, { severity: 'error', path: '/containers/1/name', line: 10, column: 11, message: /already used by \/containers\/0/ });
  expectProblem(p, { severity: 'error', path: '/containers/1/ports/0', line: 12, column: 13, message: /8080\/tcp is already published by \/containers\/0\/ports\/0/ });
  expectProblem(p, { severity: 'error', path: '/containers/1/cpu_share', line: 13, column: 5, message: /did you mean 'cpu_shares'/ });
  expectProblem(p, { severity: 'error', path: '/containers/2', line: 14, column: 5, message: /missing required key 'image'/ });
  expectProblem(p, { severity: 'error', path: '/containers/2/name', line: 14, column: 11, message: /container name/ });
  expectProblem(p, { severity: 'error', path: '/containers/2/restart', line: 15, column: 14, message: /unless-stopped/ });
});

test('atomic.update: fleet_lock needs its server, periodic should have a window; times must be quoted', () => {
  expectClean(cloudConfig('atomic:\n  update: {strategy: fleet_lock, fleet_lock: {base_url: "http://10.0.0.1:8080", group: workers}}\n'));
  expectProblem(cloudConfig('atomic:\n  update: {strategy: fleet_lock}\n'), { severity: 'error', path: '/atomic/update/strategy', line: 3, column: 22, message: /needs a 'fleet_lock' section/ });
  const p = cloudConfig('atomic:\n  update:\n    strategy: periodic\n    fleet_lock: {base_url: ftp://x}\n  updates: {}\n');
  expectProblem(p, { severity: 'warning', path: '/atomic/update/strategy', line: 4, column: 15, message: /without a 'periodic' window/ });
  expectProblem(p, { severity: 'error', path: '/atomic/update/fleet_lock/base_url', line: 5, column: 28, message: /not an http\(s\) URL/ });
  expectProblem(p, { severity: 'error', path: '/atomic/updates', line: 6, column: 3, message: /did you mean 'update'/ });
  // PyYAML reads 22:30 as base 60 (03:00 stays a string: its base-60 rule needs a leading 1-9).
  expectClean(cloudConfig('atomic:\n  update:\n    strategy: periodic\n    periodic: {start_time: 03:00, length_minutes: 30}\n'));
  const t = cloudConfig('atomic:\n  update:\n    strategy: periodic\n    periodic: {start_time: 22:30, length_minutes: 30}\n');
  expectProblem(t, { severity: 'error', path: '/atomic/update/periodic/start_time', line: 5, column: 28, message: /base-60 integer 1350; quote it/ });
});
