// `atomicd run`: the Engine API on a Unix socket (0660, root-owned) and on TCP with mutual TLS,
// checked with the real docker CLI and raw HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { AGENT, runAgent, runOk, tempDir } from '../helpers.js';

interface Agent {
  readonly child: ChildProcess;
  readonly socket: string;
  readonly log: () => string;
}

async function startAgent(t: Parameters<typeof tempDir>[0], extra: readonly string[] = []): Promise<Agent> {
  const dir = tempDir(t);
  const socket = join(dir, 'run', 'atomic.sock');
  let log = '';
  const child = spawn(process.execPath, [AGENT, 'run', '--state-dir', join(dir, 'state'), '--socket', socket, '--bridge', 'none', '--exec-root', join(dir, 'exec'), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  t?.after(() => child.kill('SIGKILL'));
  for (let i = 0; i < 200 && !log.includes('atomicd running'); i++) {
    if (child.exitCode !== null) throw new Error(`atomicd run exited ${child.exitCode}: ${log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.match(log, /atomicd running/);
  return { child, socket, log: () => log };
}

function http(socket: string, method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('the docker CLI talks to atomicd over its Unix socket; the socket is 0660 and root-owned', async (t) => {
  const agent = await startAgent(t);
  const st = statSync(agent.socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.uid, 0);
  const env = { DOCKER_HOST: `unix://${agent.socket}` };
  const version = runOk('docker', ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}'], { env }).stdout.trim();
  assert.equal(version, '0.1.0 1.43 linux');
  assert.match(runOk('docker', ['info', '--format', '{{.ServerVersion}} {{.OSType}} {{.CgroupDriver}}'], { env }).stdout, /^0\.1\.0 linux cgroupfs/);
});

test('Engine API versioning: ping headers, versioned and unversioned paths, too old and too new', async (t) => {
  const agent = await startAgent(t);
  const ping = await http(agent.socket, 'HEAD', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.headers['api-version'], '1.43');
  assert.equal(ping.headers['ostype'], 'linux');
  assert.equal(ping.headers['docker-experimental'], 'false');
  assert.match(String(ping.headers['server']), /^atomicd\//);
  assert.equal((await http(agent.socket, 'GET', '/_ping')).body, 'OK');
  for (const path of ['/version', '/v1.24/version', '/v1.43/version']) {
    const r = await http(agent.socket, 'GET', path);
    assert.equal(r.status, 200, path);
    assert.equal((JSON.parse(r.body) as { ApiVersion: string }).ApiVersion, '1.43');
  }
  const old = await http(agent.socket, 'GET', '/v1.12/version');
  assert.equal(old.status, 400);
  assert.match((JSON.parse(old.body) as { message: string }).message, /client version 1\.12 is too old/);
  const future = await http(agent.socket, 'GET', '/v9.99/version');
  assert.equal(future.status, 400);
  assert.match((JSON.parse(future.body) as { message: string }).message, /too new/);
  const missing = await http(agent.socket, 'GET', '/no/such/endpoint');
  assert.equal(missing.status, 404);
  assert.ok(typeof (JSON.parse(missing.body) as { message: string }).message === 'string');
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCerts(dir: string): Record<'ca' | 'cert' | 'key' | 'clientCert' | 'clientKey' | 'strangerCert' | 'strangerKey', string> {
  const p = (n: string): string => join(dir, n);
  const ssl = (args: readonly string[]): void => void runOk('openssl', args);
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=atomic test CA', '-keyout', p('ca-key.pem'), '-out', p('ca.pem')]);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = (name: string, cn: string, ext: string, ca = 'ca'): void => {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', p(`${name}-key.pem`), '-out', p(`${name}.csr`)]);
    ssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${ca}.pem`), '-CAkey', p(`${ca}-key.pem`), '-CAcreateserial', '-days', '2', '-extfile', p(ext), '-out', p(`${name}.pem`)]);
  };
  issue('server', '127.0.0.1', 'server.ext');
  issue('client', 'client', 'client.ext');
  // A client certificate from a CA the agent does not trust.
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=other CA', '-keyout', p('other-key.pem'), '-out', p('other.pem')]);
  issue('stranger', 'stranger', 'client.ext', 'other');
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server-key.pem'), clientCert: p('client.pem'), clientKey: p('client-key.pem'), strangerCert: p('stranger.pem'), strangerKey: p('stranger-key.pem') };
}

/** Whether a TLS handshake with these client credentials (or none) is accepted. */
function handshake(port: number, ca: string, client?: { cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(ca), ...(client === undefined ? {} : { cert: readFileSync(client.cert), key: readFileSync(client.key) }) });
    s.on('secureConnect', () => {
      // TLS 1.3 finishes the client side before the server checks the certificate: ask something.
      s.write('GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let data = '';
    s.on('data', (b: Buffer) => (data += b.toString()));
    s.on('close', () => resolve(data.startsWith('HTTP/1.1 200')));
    s.on('error', () => resolve(false));
  });
}

test('TCP is mutual TLS: the docker CLI with a client certificate works; without one, or with a stranger\'s, the handshake is refused', async (t) => {
  const dir = tempDir(t);
  const c = makeCerts(dir);
  const port = await freePort();
  await startAgent(t, ['--tcp', `127.0.0.1:${port}`, '--tls-cert', c.cert, '--tls-key', c.key, '--tls-ca', c.ca]);
  const out = runOk('docker', ['--tlsverify', '--tlscacert', c.ca, '--tlscert', c.clientCert, '--tlskey', c.clientKey, '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Version}}']).stdout.trim();
  assert.equal(out, '0.1.0');
  assert.equal(await handshake(port, c.ca, { cert: c.clientCert, key: c.clientKey }), true);
  assert.equal(await handshake(port, c.ca), false, 'no client certificate');
  assert.equal(await handshake(port, c.ca, { cert: c.strangerCert, key: c.strangerKey }), false, 'a certificate from another CA');
});

test('plain TCP only with --insecure-tcp, which warns; --tcp without TLS files is refused', async (t) => {
  const port = await freePort();
  const agent = await startAgent(t, ['--insecure-tcp', `127.0.0.1:${port}`]);
  assert.match(agent.log(), /"level":"warn".*without TLS/);
  const r = runOk('docker', ['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Version}}']);
  assert.equal(r.stdout.trim(), '0.1.0');
  const refused = runAgent(['run', '--tcp', '127.0.0.1:2376', '--socket', join(tempDir(t), 'x.sock')]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--tcp serves mutual TLS only/);
});
