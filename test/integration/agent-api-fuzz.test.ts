// Property: whatever a client sends to atomicd's Engine API, the answer is an HTTP answer, in time,
// with a 4xx and Docker's `{"message": ...}` body when the request is wrong (2xx/3xx when the random
// request happens to be valid; then what it created is removed), never a 5xx, and the agent is
// still there afterwards with no state it should not have.
//
// Two deliberate 5xx answers are not crashes and are allowed where they can occur: 501 for a
// Docker feature atomicd refuses (Unimplemented, "... is not supported"; the message still in
// Docker's JSON; but a container create/update field is a 400 naming it, as dockerd answers), and 503 for a pull from a registry nobody answers on (dockerd answers
// 500 there). A 500 is never allowed.
//
// Requests go out raw: node:http over the Unix socket for well-formed HTTP with bad contents,
// a plain net socket for malformed framing. The fast-check seed is printed with every run
// (ATOMIC_FUZZ_SEED=N reproduces one).
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { agentHttp, agentWithBusybox, type AgentWorld } from '../fixtures/agent-process.js';

/** Per request: the status line must come within this (headers of a stream count as the answer). */
const ANSWER_TIMEOUT_MS = 10_000;
const SEED = Number(process.env.ATOMIC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let world: AgentWorld;
let socket: string;
/** A running container (sleep), by ID, for the per-container endpoints. */
let target: string;
let stateBefore: State;
/** What a valid random request created: removed after each property. */
const createdContainers = new Set<string>();
const createdVolumes = new Set<string>();

interface State {
  containers: string[];
  volumes: string[];
  networks: string[];
  images: string[];
}

async function state(): Promise<State> {
  const get = async (path: string): Promise<unknown> => {
    const r = await agentHttp(world.agent, 'GET', path);
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    return JSON.parse(r.body) as unknown;
  };
  const containers = (await get('/containers/json?all=1')) as { Id: string; Names: string[] }[];
  const volumes = (await get('/volumes')) as { Volumes: { Name: string }[] };
  const networks = (await get('/networks')) as { Id: string }[];
  const images = (await get('/images/json')) as { Id: string; RepoTags: string[] }[];
  return {
    containers: containers.map((c) => c.Id).sort(),
    volumes: volumes.Volumes.map((v) => v.Name).sort(),
    networks: networks.map((n) => n.Id).sort(),
    images: images.map((i) => `${i.Id} ${i.RepoTags.join(',')}`).sort(),
  };
}

before(async () => {
  world = await agentWithBusybox('agent-fuzz-', { name: 'fuzz' });
  socket = world.agent.socket;
  const c = await agentHttp(world.agent, 'POST', '/containers/create?name=fuzz-target', { body: JSON.stringify({ Image: world.image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } }) });
  assert.equal(c.status, 201, c.body);
  target = (JSON.parse(c.body) as { Id: string }).Id;
  const s = await agentHttp(world.agent, 'POST', `/containers/${target}/start`);
  assert.equal(s.status, 204, s.body);
  stateBefore = await state();
});

after(async () => {
  await world?.close();
});

// --- sending -------------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** The body ended (false: a stream we stopped reading). */
  readonly complete: boolean;
}

interface Req {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

const describe = (r: Req): string =>
  `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}...(${r.path.length})` : r.path} headers=${JSON.stringify(r.headers ?? {}).slice(0, 300)} body=${JSON.stringify((r.body ?? '').slice(0, 300))}${(r.body ?? '').length > 300 ? `...(${(r.body ?? '').length})` : ''}`;

/** One request on its own connection; a 2xx stream is read for a moment and then dropped. */
function send(r: Req): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: r.method, path: r.path, headers: { ...r.headers }, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms: ${describe(r)}`));
    }, ANSWER_TIMEOUT_MS);
    req.on('response', (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (complete: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(bodyTimer);
        if (!complete) res.destroy();
        resolve({ status, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8'), complete });
      };
      // An error's body must end in time; a 2xx may be an endless stream (wait, logs -f, events, pull).
      const bodyTimer = setTimeout(() => finish(false), status >= 400 ? ANSWER_TIMEOUT_MS : 500);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
      res.on('close', () => finish(res.complete));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      // The whole request, for a replay (the report shows it cut short).
      const saved = join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), `atomic-fuzz-failure-${SEED}.json`);
      writeFileSync(saved, JSON.stringify(r));
      const died = world.agent.child.exitCode !== null || world.agent.child.signalCode !== null;
      const errors = world.agent.log().split('\n').filter((l) => l.includes('"level":50')).slice(-3).join('\n').slice(-3000);
      reject(new Error(`${e.message}: ${describe(r)} (saved in ${saved})${died ? `\nthe agent died; its log ends:\n${world.agent.log().slice(-4000)}` : `\nthe agent's last errors:\n${errors}`}`));
    });
    req.end(r.body);
  });
}

/** 5xx answers that are decisions, not failures (see the head of the file). */
function allowedServerError(r: Req, a: Answer): boolean {
  const message = messageOf(a);
  // A create or update field atomicd does not implement is a 400 naming it, as dockerd answers; never a 501.
  if (a.status === 501) return !/\/containers\/(create|[^/]+\/update)/.test(r.path) && message !== undefined && /not supported|Unimplemented|not implemented/i.test(message);
  if (a.status === 503) return r.path.includes('/images/create') && message !== undefined;
  return false;
}

function messageOf(a: Answer): string | undefined {
  try {
    const doc = JSON.parse(a.body) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && typeof (doc as { message?: unknown }).message === 'string') return (doc as { message: string }).message;
  } catch {
    return undefined;
  }
  return undefined;
}

/** The property every answer must hold; valid requests that created something are remembered for cleanup. */
async function check(r: Req): Promise<void> {
  const a = await send(r);
  const what = `${a.status} ${a.body.slice(0, 400)} <- ${describe(r)}`;
  assert.ok(a.status >= 200 && a.status < 600, what);
  assert.ok(a.status < 500 || allowedServerError(r, a), `server error: ${what}`);
  if (a.status >= 400 && r.method !== 'HEAD') {
    assert.ok(a.complete, `the error body did not end: ${what}`);
    assert.match(a.contentType, /^application\/json/, what);
    const m = messageOf(a);
    assert.ok(m !== undefined && m.length > 0, `not Docker's {"message": ...}: ${what}`);
  }
  if (a.status === 201 && /\/containers\/create/.test(r.path)) createdContainers.add((JSON.parse(a.body) as { Id: string }).Id);
  if (a.status === 201 && /\/volumes\/create/.test(r.path)) createdVolumes.add((JSON.parse(a.body) as { Name: string }).Name);
}

/** Remove what valid random requests created; then the agent's state is what it was. */
async function cleanupAndCompare(t: TestContext): Promise<void> {
  for (const id of createdContainers) await agentHttp(world.agent, 'DELETE', `/containers/${id}?force=1`);
  for (const name of createdVolumes) await agentHttp(world.agent, 'DELETE', `/volumes/${encodeURIComponent(name)}?force=1`);
  if (createdContainers.size + createdVolumes.size > 0) t.diagnostic(`valid random requests created ${createdContainers.size} containers and ${createdVolumes.size} volumes (removed)`);
  createdContainers.clear();
  createdVolumes.clear();
  const ping = await agentHttp(world.agent, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.body, 'OK');
  assert.equal(world.agent.child.exitCode, null, 'the agent is still running');
  assert.equal(world.agent.child.signalCode, null, 'the agent is still running');
  const now = await state();
  // The target may have been renamed by a valid random rename: compare IDs.
  assert.deepEqual(now, stateBefore, 'nothing was created or removed that should not have been');
}

/** fast-check with the printed seed; failures say how to reproduce. */
async function property<T>(t: TestContext, arb: fc.Arbitrary<T>, toReq: (v: T) => Req, numRuns: number): Promise<void> {
  t.diagnostic(`fast-check seed ${SEED} (ATOMIC_FUZZ_SEED=${SEED} reproduces)`);
  // Counterexamples print short (a 200 kB value would bury the report).
  const shown = arb.map((v) => Object.assign(Object.create({ [fc.toStringMethod]: () => describe(toReq(v)) }) as object, { v }) as { v: T });
  await fc.assert(fc.asyncProperty(shown, async ({ v }) => check(toReq(v))), { seed: SEED, numRuns, endOnFailure: true });
}

// --- arbitraries -------------------------------------------------------------------------------------

/** Keys that a careless parser might treat as special. */
const TRICKY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ''];

/** Strings that break naive code: NUL, lone surrogates, RTL marks, emoji, very long. */
const trickyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '\u202e', '😀', '..', '../../etc/passwd', '/', '%00', '%2e%2e', 'C:\\', ' ', '\n', 'null', 'true', '0', '-1'),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n)),
);

/** JSON numbers as text, including ones JavaScript cannot hold exactly. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '18446744073709551616', '9007199254740993', '-9223372036854775809', '0.5', '1e3', '2147483648', '4294967296'),
);

/** JSON text (not a JS value: so that __proto__ keys and 1e400 reach the server as written). */
function jsonText(keys: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const { value } = fc.letrec<{ value: string; scalar: string; array: string; object: string }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, tie('scalar'), tie('array'), tie('object')),
    scalar: fc.oneof(fc.constantFrom('null', 'true', 'false'), numberText, trickyString.map((s) => JSON.stringify(s))),
    array: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
    object: fc.array(fc.tuple(keys, tie('value')), { maxLength: 5 }).map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  }));
  return value;
}

/** Deeply nested arrays or objects (a recursive walk would overflow the stack). */
const deepText = fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.constantFrom('array', 'object', 'field')).map(([n, kind]) =>
  kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : kind === 'object' ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : `{"Image":"x","HostConfig":{"Foo":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}}`,
);

/** Not JSON at all. */
const garbageText = fc.oneof(fc.string({ maxLength: 50 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom('{', '{"a":', '[1,]', "{'a':1}", 'NaN', 'undefined', '\u0000', '{"a":1}{"b":2}', '\ufeff{}'));

/** A JSON object whose keys are the endpoint's own fields (valid-shaped), with values of any type. */
function shapedObject(fields: readonly string[], nested: Readonly<Record<string, readonly string[]>> = {}): fc.Arbitrary<string> {
  const anyKey = fc.oneof(fc.constantFrom(...fields, ...TRICKY_KEYS), fc.string({ maxLength: 8 }));
  const value = jsonText(anyKey);
  const entry = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...fields), value) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...TRICKY_KEYS), value) },
    ...Object.entries(nested).map(([k, sub]) => ({ weight: 2, arbitrary: fc.tuple(fc.constant(k), shapedObject(sub)) })),
  );
  return fc.array(entry, { maxLength: 6 }).map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
}

const CONFIG_FIELDS = ['Image', 'Cmd', 'Entrypoint', 'Env', 'Labels', 'User', 'WorkingDir', 'Hostname', 'Domainname', 'Tty', 'OpenStdin', 'StopSignal', 'ExposedPorts', 'Volumes', 'AttachStdout', 'name'];
const HOST_CONFIG_FIELDS = ['Memory', 'MemorySwap', 'CpuShares', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'PidsLimit', 'BlkioWeight', 'Binds', 'Mounts', 'Tmpfs', 'NetworkMode', 'RestartPolicy', 'PortBindings', 'CapAdd', 'CapDrop', 'SecurityOpt', 'Privileged', 'ReadonlyRootfs', 'Init', 'Ulimits', 'ShmSize', 'Dns', 'ExtraHosts', 'Sysctls', 'LogConfig', 'AutoRemove', 'Devices', 'PidMode'];
const UPDATE_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'BlkioWeight', 'PidsLimit', 'RestartPolicy'];

/** Bodies for one create-like endpoint: valid-shaped with wrong types, valid, garbage, deep, huge. */
function bodies(fields: readonly string[], nested: Readonly<Record<string, readonly string[]>>, valid: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 4, arbitrary: shapedObject(fields, nested) },
    { weight: 2, arbitrary: valid },
    { weight: 2, arbitrary: jsonText(fc.oneof(fc.constantFrom(...fields, ...TRICKY_KEYS), fc.string({ maxLength: 8 }))) },
    { weight: 1, arbitrary: garbageText },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: fc.constant(undefined) },
    // Over the agent's 1 MiB body cap.
    { weight: 1, arbitrary: fc.integer({ min: (1 << 20) + 1, max: (1 << 20) + 5000 }).map((n) => `{"Labels":{"a":"${'x'.repeat(n)}"}}`) },
  );
}

// --- properties --------------------------------------------------------------------------------------

test('create-like endpoints (containers, networks, volumes, exec, update) with random JSON bodies: 4xx with Docker\'s message, or a valid create', async (t) => {
  const validContainer = fc.record({ Cmd: fc.constantFrom(['true'], ['sleep', '1']), Labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9.]{0,10}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }) }).map((c) =>
    JSON.stringify({ Image: world.image, ...c, HostConfig: { NetworkMode: 'none' } }));
  const validVolume = fc.record({ Name: fc.stringMatching(/^fz[a-z0-9_.-]{1,20}$/), Labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.string({ maxLength: 5 }), { maxKeys: 2 }) }).map((v) => JSON.stringify(v));
  const validNetwork = fc.stringMatching(/^fz[a-z0-9]{1,10}$/).map((n) => JSON.stringify({ Name: n }));
  const validExec = fc.constant(JSON.stringify({ Cmd: ['true'], AttachStdout: true }));
  const validUpdate = fc.integer({ min: 8, max: 512 }).map((mb) => JSON.stringify({ CpuShares: mb * 2 }));
  const endpoints = [
    { path: () => '/containers/create', body: bodies(CONFIG_FIELDS, { HostConfig: HOST_CONFIG_FIELDS, NetworkingConfig: ['EndpointsConfig'] }, validContainer) },
    { path: () => '/networks/create', body: bodies(['Name', 'Driver', 'Internal', 'Attachable', 'IPAM', 'Options', 'Labels', 'EnableIPv6', 'CheckDuplicate'], { IPAM: ['Driver', 'Config', 'Options'] }, validNetwork) },
    { path: () => '/volumes/create', body: bodies(['Name', 'Driver', 'DriverOpts', 'Labels'], {}, validVolume) },
    { path: () => `/containers/${target}/exec`, body: bodies(['Cmd', 'Env', 'User', 'WorkingDir', 'Tty', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Privileged', 'DetachKeys'], {}, validExec) },
    { path: () => `/containers/${target}/update`, body: bodies(UPDATE_FIELDS, { RestartPolicy: ['Name', 'MaximumRetryCount'] }, validUpdate) },
  ];
  const arb = fc.tuple(fc.integer({ min: 0, max: endpoints.length - 1 }), fc.constantFrom('', '/v1.43', '/v1.24'), fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '')).chain(([i, prefix, ct]) =>
    endpoints[i]!.body.map((body) => ({ method: 'POST', path: `${prefix}${endpoints[i]!.path()}${i === 0 ? '?name=' : ''}`, headers: (ct === '' ? {} : { 'Content-Type': ct }) as Record<string, string>, ...(body === undefined ? {} : { body }) })));
  await property(t, arb, (r) => r, 160);
  await cleanupAndCompare(t);
});

/** Percent-encode every byte that is not unreserved (lone surrogates become U+FFFD first). */
const enc = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');

test('query strings (filters, signals, conditions, log and event parameters, names): repeated keys, bad JSON, huge values', async (t) => {
  const filtersValue = fc.oneof(
    jsonText(fc.constantFrom('label', 'status', 'name', 'id', 'dangling', 'type', 'event', 'container', 'image', 'driver', 'reference', 'before', 'since', 'until', 'ancestor', ...TRICKY_KEYS)).map((j) => j.slice(0, 600)),
    fc.dictionary(fc.constantFrom('label', 'status', 'name', 'type', 'event', 'dangling'), fc.oneof(fc.array(trickyString.map((s) => s.slice(0, 200)), { maxLength: 3 }), fc.dictionary(trickyString.map((s) => s.slice(0, 200)), fc.oneof(fc.boolean(), fc.integer()), { maxKeys: 2 }))).map((d) => JSON.stringify(d)),
    garbageText,
  );
  // Long values stay under Node's 16 KiB header limit in total (over it is the framing test's 431).
  const value = fc.oneof(trickyString.map((s) => s.slice(0, 600)), numberText, fc.constantFrom('1', 'true', 'false', 'SIGTERM', 'SIGFOO', 'HUP', '15', '65', '-1', 'all', 'not-running', 'next-exit', 'removed', '%', '%zz', '%ff%fe', '1700000000.123456789', '2024-01-01T00:00:00Z', '99999999999999999999'));
  const endpoints: { method: string; path: () => string; keys: readonly string[] }[] = [
    { method: 'GET', path: () => '/containers/json', keys: ['all', 'limit', 'size', 'filters'] },
    // Signals that would end or freeze the target are left out: the other endpoints need it running.
    { method: 'POST', path: () => `/containers/${target}/kill`, keys: ['signal'] },
    { method: 'POST', path: () => `/containers/${target}/wait`, keys: ['condition'] },
    { method: 'GET', path: () => `/containers/${target}/logs`, keys: ['stdout', 'stderr', 'tail', 'since', 'until', 'timestamps', 'follow', 'details'] },
    { method: 'GET', path: () => '/events', keys: ['filters', 'since', 'until'] },
    { method: 'POST', path: () => `/containers/${target}/rename`, keys: ['name'] },
    { method: 'GET', path: () => '/volumes', keys: ['filters'] },
    { method: 'GET', path: () => '/networks', keys: ['filters'] },
    { method: 'GET', path: () => '/images/json', keys: ['filters', 'all', 'digests'] },
    { method: 'GET', path: () => `/containers/${target}/stats`, keys: ['stream', 'one-shot'] },
    { method: 'POST', path: () => '/volumes/prune', keys: ['filters'] },
  ];
  const arb = fc.integer({ min: 0, max: endpoints.length - 1 }).chain((i) => {
    const e = endpoints[i]!;
    const pair = fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...e.keys) }, { weight: 1, arbitrary: trickyString }), fc.oneof(e.keys.includes('filters') ? filtersValue : value, value));
    return fc.tuple(fc.array(pair, { minLength: 1, maxLength: 5 }), fc.boolean()).map(([pairs, raw]) => ({
      method: e.method,
      // raw: values as they are (stray %, invalid escapes); otherwise properly encoded.
      path: `${e.path()}?${pairs.map(([k, v]) => `${enc(k)}=${raw ? v.replace(/[^\x21-\x7e]/g, (c) => enc(c)).replace(/[#&]/g, (c) => enc(c)) : enc(v)}`).join('&')}`,
    }));
    // Under Node's 16 KiB request-head limit: over it is the framing test's 431.
  }).filter((r) => r.path.length < 14_000 && !stopsTarget(r.path));
  await property(t, arb, (r) => r, 140);
  await cleanupAndCompare(t);
});

/** A kill whose signal (any of the repeated ones, read the way the agent reads them) would end or freeze the target. */
function stopsTarget(path: string): boolean {
  if (!path.includes('/kill?')) return false;
  const q = new URLSearchParams(path.slice(path.indexOf('?') + 1));
  return q.getAll('signal').some((v) => {
    const s = v.trim().toUpperCase().replace(/^SIG/, '');
    return /^\d+$/.test(s) ? [9, 19].includes(Number(s)) : ['KILL', 'STOP'].includes(s);
  });
}

test('headers: bad Content-Type, X-Registry-Auth garbage, huge headers, odd Accept and Host', async (t) => {
  const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,40}$/), fc.constantFrom('application/json', 'application/x-tar', 'text/plain; charset=utf-16', 'multipart/form-data; boundary=x', '*/*', ';;;', 'application/json; charset=nonsense'));
  const registryAuth = fc.oneof(
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
    jsonText(fc.constantFrom('username', 'password', 'serveraddress', 'identitytoken', 'auth', ...TRICKY_KEYS)).map((j) => Buffer.from(j.slice(0, 3000)).toString('base64')),
    fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
    fc.constantFrom('', '====', 'e30=', 'bnVsbA==', 'WzFd', 'IiI=', 'eyJpZGVudGl0eXRva2VuIjoieCJ9'),
  );
  // Long, but under Node's 16 KiB request-head limit in total (over it: the framing test's 431;
  // through node:http the client may still be writing when the agent answers 431 and closes).
  const huge = fc.integer({ min: 1000, max: 8000 }).map((n) => 'h'.repeat(n));
  const arb = fc.record({
    which: fc.constantFrom('pull', 'volume', 'container', 'ping'),
    contentType: fc.option(headerValue),
    auth: fc.option(registryAuth),
    extra: fc.option(fc.tuple(fc.constantFrom('X-Fuzz', 'Accept', 'X-Forwarded-For', 'Cookie', 'Upgrade', 'Expect'), fc.oneof(headerValue, huge))),
  }).map(({ which, contentType, auth, extra }) => {
    const headers: Record<string, string> = {};
    if (contentType !== null) headers['Content-Type'] = contentType;
    if (auth !== null) headers['X-Registry-Auth'] = auth;
    if (extra !== null) headers[extra[0]] = extra[1];
    if (extra?.[0] === 'Upgrade') headers.Connection = 'Upgrade';
    // The pull is of the image the agent has, from the loopback registry: a valid header pulls (quickly), a bad one is a 400.
    if (which === 'pull') return { method: 'POST', path: `/images/create?fromImage=${enc(world.image.split(':').slice(0, -1).join(':'))}&tag=latest`, headers };
    if (which === 'volume') return { method: 'POST', path: '/volumes/create', headers, body: '{"Name":"x"}' };
    if (which === 'container') return { method: 'POST', path: '/containers/create', headers, body: JSON.stringify({ Image: 'nosuch/image:1', HostConfig: { NetworkMode: 'none' } }) };
    return { method: 'GET', path: '/_ping', headers };
  });
  await property(t, arb, (r) => r, 80);
  await cleanupAndCompare(t);
});

test('methods and paths: traversal, encoded dots, double slashes, very long IDs, versioned prefixes', async (t) => {
  const id = fc.oneof(
    fc.constantFrom(target, target.slice(0, 12), 'nosuch', 'fuzz-target', '..', '%2e%2e', '%2E%2e%2f', '.', '', '%00', '%', '%zz', '%ff', '%c0%af', '~', '*', 'a%2fb'),
    fc.integer({ min: 65, max: 12_000 }).map((n) => 'f'.repeat(n)),
    trickyString.map((s) => enc(s.slice(0, 300))),
  );
  // Not stop/restart (they wait for the target's stop timeout: not a parsing matter) nor attach
  // (a hijacked stream, the attach tests' business).
  const suffix = fc.constantFrom('', '/json', '/start', '/kill', '/wait', '/logs', '/exec', '/update', '/rename', '/top', '/changes', '/export', '/archive', '/resize', '/nonsense', '/json/..', '/../json');
  const prefix = fc.constantFrom('', '/v1.43', '/v1.24', '/v0.1', '/v9.99', '/v1', '/vabc', '/v1.43.1', '/v1.43/', '/V1.43', '//v1.43');
  const base = fc.constantFrom('/containers/', '/images/', '/volumes/', '/networks/', '/exec/', '//containers//', '/containers/../', '/%2e%2e/', '/', '/_ping/', '/info/', '/system/');
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'PROPFIND');
  const arb = fc.tuple(method, prefix, base, id, suffix, fc.option(fc.constantFrom('?x=1', '?', '#frag', '?all=1&all=0'))).map(([m, p, b, i, s, q]) => ({
    method: m,
    path: `${p}${b}${i}${s}${q ?? ''}`.replace(/^([^/])/, '/$1'),
  }));
  await property(t, arb, (r) => r, 160);
  await cleanupAndCompare(t);
});

test('images/create with invalid references and tags is a 400 at once; a registry nobody answers on is a 503, never a 500', async (t) => {
  const badChar = fc.constantFrom(' ', '!', 'A', 'Z', '$', '{', '\\', '|', '<', '\u0000', 'é', '..', '//', '__-', ':::', '@sha256:zz', '@', '#', '%');
  const arb = fc.tuple(fc.constantFrom('', '127.0.0.1:1/', 'localhost:1/', '[::1]:1/', '127.0.0.1:99999/', '127.0.0.1:/', ':1/'), fc.string({ unit: fc.constantFrom(...'abc019._-/'.split('')), maxLength: 20 }), badChar, fc.string({ maxLength: 10 }), fc.option(trickyString))
    .map(([domain, left, bad, right, tag]) => ({ method: 'POST', path: `/images/create?fromImage=${enc(`${domain}${left}${bad}${right}`)}${tag === null ? '' : `&tag=${enc(tag)}`}` }));
  await property(t, arb, (r) => r, 60);
  for (const ref of ['127.0.0.1:1/nothing/here', `localhost:1/x`]) {
    const r = { method: 'POST', path: `/images/create?fromImage=${enc(ref)}&tag=v1` };
    const a = await send(r);
    assert.equal(a.status, 503, `${ref}: ${a.body}`);
    assert.match(messageOf(a) ?? '', /connection refused/);
  }
  await cleanupAndCompare(t);
});

// --- malformed HTTP framing over a plain socket -----------------------------------------------------

/** Bytes sent, then our side closed for writing; whatever came back until the agent closed. */
function sendRaw(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path: socket, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer or close within ${ANSWER_TIMEOUT_MS} ms to ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`));
    }, ANSWER_TIMEOUT_MS);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.on('connect', () => {
      s.write(bytes, () => s.end());
    });
  });
}

/** Every HTTP answer in what came back: status, and the body when it has a Content-Length. */
function parseAnswers(text: string): { status: number; body: string; contentType: string }[] {
  const out: { status: number; body: string; contentType: string }[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1] ?? 0);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? -1);
    const contentType = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? '';
    if (length < 0) {
      out.push({ status, body: rest.slice(end + 4), contentType });
      break;
    }
    out.push({ status, body: rest.slice(end + 4, end + 4 + length), contentType });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

test('malformed HTTP framing on a raw socket: a 4xx with Docker\'s JSON, or (a body cut short) the connection closed; never a 5xx or a hang', async (t) => {
  const line = (s: string): string => `${s}\r\n`;
  const requestLine = fc.oneof(
    fc.constantFrom('GET /_ping HTTP/1.1', 'POST /containers/create HTTP/1.1', 'GET / HTTP/9.9', 'GET /_ping HTTP/1.0', 'GET', '/_ping HTTP/1.1', 'G\u0000T /_ping HTTP/1.1', 'GET /_ping HTTP/1.1 extra', 'GET  /_ping  HTTP/1.1', 'GET http://x/_ping HTTP/1.1', 'GET * HTTP/1.1', 'CONNECT x:1 HTTP/1.1', 'GET /\u00ff HTTP/1.1', 'GET /a b HTTP/1.1'),
    fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  );
  const header = fc.oneof(
    fc.constantFrom('Host: x', 'Content-Length: abc', 'Content-Length: -1', 'Content-Length: 1e3', 'Content-Length: 5', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: identity', 'Content-Type: application/json', 'NoColon', ' folded: continuation', 'X: a\u0000b', 'X-Registry-Auth: %%%', ': empty-name', 'Connection: close', 'Connection: Upgrade', 'Upgrade: tcp', 'Expect: 100-continue'),
    fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.string({ unit: 'binary-ascii', maxLength: 30 })).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}`),
    fc.integer({ min: 17_000, max: 70_000 }).map((n) => `X-Huge: ${'h'.repeat(n)}`),
  );
  const body = fc.oneof(fc.constant(''), fc.constantFrom('{}', '{"Name":"x"}', '0\r\n\r\n', 'zz\r\nabc\r\n0\r\n\r\n', '5\r\nab\r\n', 'ffffffffffffffff\r\n'), fc.string({ unit: 'binary-ascii', maxLength: 40 }));
  const arb = fc.tuple(requestLine, fc.array(header, { maxLength: 5 }), fc.boolean(), body).map(([rl, hs, crlf, b]) => `${line(rl)}${hs.map(line).join('')}${crlf ? '\r\n' : ''}${b}`);
  t.diagnostic(`fast-check seed ${SEED} (ATOMIC_FUZZ_SEED=${SEED} reproduces)`);
  await fc.assert(
    fc.asyncProperty(arb, async (text) => {
      const answer = await sendRaw(Buffer.from(text, 'latin1'));
      const what = `${JSON.stringify(answer.slice(0, 400))} <- ${JSON.stringify(text.slice(0, 300))}`;
      const answers = parseAnswers(answer);
      // Nothing back: only when the request was cut short (headers or a declared body not complete).
      if (answers.length === 0) {
        assert.equal(answer, '', `not HTTP: ${what}`);
        return;
      }
      for (const a of answers) {
        assert.ok(a.status >= 100 && a.status < 500, `server error: ${what}`);
        if (a.status >= 400 && a.body !== '') {
          assert.match(a.contentType, /^application\/json/, what);
          const m = messageOf({ status: a.status, contentType: a.contentType, body: a.body, complete: true });
          assert.ok(m !== undefined && m !== '', `not Docker's {"message": ...}: ${what}`);
        }
      }
    }),
    { seed: SEED, numRuns: 80, endOnFailure: true },
  );
  // The fixed cases that matter most, each on its own connection.
  for (const [text, status] of [
    ['GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['POST /volumes/create HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    [`GET /_ping HTTP/1.1\r\nHost: x\r\nX-Huge: ${'h'.repeat(70_000)}\r\n\r\n`, 431],
    ['POST /volumes/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['\u0000\u0001\u0002garbage\r\n\r\n', 400],
  ] as const) {
    const answers = parseAnswers(await sendRaw(Buffer.from(text, 'latin1')));
    assert.equal(answers[0]?.status, status, JSON.stringify(text.slice(0, 120)));
    assert.ok((messageOf({ status, contentType: 'application/json', body: answers[0]!.body, complete: true }) ?? '') !== '', `Docker's JSON for ${JSON.stringify(text.slice(0, 80))}`);
  }
  await cleanupAndCompare(t);
});
