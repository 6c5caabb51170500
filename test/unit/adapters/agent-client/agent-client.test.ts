// The client against a real HTTP server on a Unix socket in this process (the client is async).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { tempDir } from '../../../helpers.js';
import { AgentClient, daemonError, errorCodeForStatus } from '../../../../src/adapters/agent-client/agent-client.js';
import { Conflict, InvalidArgument, Internal, NotFound, PermissionDenied, Unavailable } from '../../../../src/lib/errors.js';

async function serve(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ client: AgentClient; paths: string[] }> {
  const path = join(tempDir(t), 'api.sock');
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { client: new AgentClient({ kind: 'unix', path }), paths };
}

test('negotiates down to the server\'s Api-Version and sends query and JSON body', async (t) => {
  let body = '';
  const { client, paths } = await serve(t, (req, res) => {
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('Api-Version', '1.41');
      if (req.method === 'HEAD') return res.end();
      res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"Name":"v"}');
    });
  });
  const v = await client.json<{ Name: string }>('POST', '/volumes/create', { body: { Name: 'v' }, query: { a: 'b c', absent: undefined } });
  assert.deepEqual(v, { Name: 'v' });
  assert.deepEqual(paths, ['HEAD /_ping', 'POST /v1.41/volumes/create?a=b+c']);
  assert.deepEqual(JSON.parse(body), { Name: 'v' });
});

test('a newer server is spoken to in our version', async (t) => {
  const { client, paths } = await serve(t, (_req, res) => {
    res.setHeader('Api-Version', '1.99');
    res.end('[]');
  });
  await client.json('GET', '/images/json');
  assert.equal(paths[1], 'GET /v1.43/images/json');
});

test('error answers become our classes with the daemon\'s message', async (t) => {
  const { client } = await serve(t, (req, res) => {
    if (req.method === 'HEAD') return res.end();
    const status = Number(new URL(req.url ?? '', 'http://x').searchParams.get('s'));
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `m${status}` }));
  });
  for (const [s, cls] of [[400, InvalidArgument], [404, NotFound], [409, Conflict], [403, PermissionDenied], [500, Internal]] as const) {
    await assert.rejects(client.request('GET', '/x', { query: { s } }), (e: unknown) => e instanceof cls && e.message === `m${s}`, String(s));
  }
  assert.equal(errorCodeForStatus(418), 'InvalidArgument');
  assert.equal(errorCodeForStatus(502), 'Internal');
  assert.equal(daemonError(500, 'plain text').message, 'plain text');
  assert.equal(daemonError(404, '').message, 'the agent answered HTTP 404');
});

test('JSON streams: messages in order across chunk boundaries; an in-band error keeps its class', async (t) => {
  const { client } = await serve(t, (req, res) => {
    if (req.method === 'HEAD') return res.end();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"status":"Pulling from x","id":"latest"}\n{"status":"Down');
    setTimeout(() => {
      res.write('loading","progressDetail":{"current":1,"total":2},"id":"abc"}\n');
      if (req.url?.includes('fail') === true) res.end('{"errorDetail":{"code":404,"message":"manifest unknown"},"error":"manifest unknown"}\n{"status":"after"}\n');
      else res.end('{"status":"Status: done"}');
    }, 10);
  });
  const got: string[] = [];
  await client.stream('POST', '/images/create', (m) => got.push(`${m.id ?? ''}:${m.status ?? ''}:${m.progressDetail?.current ?? ''}`));
  assert.deepEqual(got, ['latest:Pulling from x:', 'abc:Downloading:1', ':Status: done:']);
  const seen: string[] = [];
  await assert.rejects(client.stream('POST', '/images/create?fail', (m) => seen.push(m.status ?? '')), (e: unknown) => e instanceof NotFound && e.message === 'manifest unknown');
  assert.deepEqual(seen, ['Pulling from x', 'Downloading'], 'nothing after the error is delivered');
});

test('no agent: Unavailable naming the socket', async (t) => {
  const path = join(tempDir(t), 'none.sock');
  await assert.rejects(new AgentClient({ kind: 'unix', path }).json('GET', '/version'), (e: unknown) => e instanceof Unavailable && e.message.includes(`unix://${path}`) && /Is atomicd running/.test(e.message));
});
