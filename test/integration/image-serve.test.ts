// `atomic image serve`: the real ostree CLI pulls a commit from it; nothing outside the repository
// is ever served (traversal, encoded traversal, a symlink out of the repo), and bad input is exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { runCli, runOk, tempDir } from '../helpers.js';
import { parseListen } from '../../src/cli/commands/image-serve.js';
import { CLI } from '../helpers.js';

function rawGet(port: number, path: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    // node:http would normalise nothing, but a literal path is sent as given.
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('parseListen', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.throws(() => parseListen('8080'), /HOST:PORT/);
  assert.throws(() => parseListen('a:99999'), /HOST:PORT/);
});

test('ostree pulls a commit from atomic image serve; traversal and symlinks out are 404', async (t) => {
  const dir = tempDir(t);
  const repo = join(dir, 'repo');
  runOk('ostree', ['init', '--repo', repo, '--mode=archive']);
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(tree, 'usr', 'bin', 'hello'), 'hello\n');
  const commit = runOk('ostree', ['commit', '--repo', repo, '--branch', 'os/x86_64/stable', '--add-metadata-string', 'version=1.0', tree]).stdout.trim();
  runOk('ostree', ['summary', '--repo', repo, '-u']);
  writeFileSync(join(dir, 'secret'), 'secret\n');
  symlinkSync(join(dir, 'secret'), join(repo, 'leak'));

  const child = spawn(process.execPath, [CLI, 'image', 'serve', repo, '--listen', '127.0.0.1:0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGTERM'));
  // Port 0 is chosen by the kernel: read it from the announcement.
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  const port = Number(new URL(url).port);

  const client = join(dir, 'client');
  runOk('ostree', ['init', '--repo', client, '--mode=bare-user']);
  runOk('ostree', ['remote', 'add', '--repo', client, '--no-gpg-verify', 'origin', url]);
  const pulled = await new Promise<number>((resolve) => spawn('ostree', ['pull', '--repo', client, 'origin', 'os/x86_64/stable'], { stdio: 'ignore' }).on('exit', (c) => resolve(c ?? -1)));
  assert.equal(pulled, 0);
  assert.equal(runOk('ostree', ['rev-parse', '--repo', client, 'origin:os/x86_64/stable']).stdout.trim(), commit);
  assert.equal(runOk('ostree', ['cat', '--repo', client, commit, '/usr/bin/hello']).stdout, 'hello\n');

  assert.equal(await rawGet(port, '/config'), 200);
  assert.equal(await rawGet(port, '/config', 'HEAD'), 200);
  assert.equal(await rawGet(port, '/config', 'PUT'), 405);
  assert.equal(await rawGet(port, '/../secret'), 404);
  assert.equal(await rawGet(port, '/%2e%2e/secret'), 404);
  assert.equal(await rawGet(port, '/refs/../../secret'), 404);
  assert.equal(await rawGet(port, '/leak'), 404, 'a symlink out of the repository is not followed');
  assert.equal(await rawGet(port, '/objects'), 404, 'directories are not listed');
  assert.equal(await rawGet(port, '/%ff'), 404);
});

test('serving something that is not a repository is refused, exit 2', (t) => {
  const dir = tempDir(t);
  const r = runCli(['image', 'serve', dir, '--listen', '127.0.0.1:0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /is not an ostree repository/);
  const r2 = runCli(['image', 'serve', dir, '--listen', 'nonsense']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /--listen nonsense/);
});
