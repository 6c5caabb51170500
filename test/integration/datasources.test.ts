// The datasources against real media and real servers: one seed read as an ISO file, a vfat
// image, a tar file, a directory, over NoCloud-net from a loopback HTTP server and from the fake
// IMDSv2 gives the same instance; failures (refused, silent, slow, oversized) end in the right
// error within the configured time; detection without evidence touches nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { PassThrough } from 'node:stream';
import { detectDatasource, type DetectOptions } from '../../src/adapters/datasources/detect.js';
import { readEc2Imds } from '../../src/adapters/datasources/ec2-imds.js';
import { findCidataDevices, readNoCloudSeed, sniffVolumeLabel } from '../../src/adapters/datasources/nocloud-local.js';
import { readNoCloudNet } from '../../src/adapters/datasources/nocloud-net.js';
import { parseDsHint } from '../../src/core/provision/ds-hint.js';
import type { InstanceData } from '../../src/core/provision/model.js';
import { DeadlineExceeded, PermissionDenied, ResourceExhausted, Unavailable } from '../../src/lib/errors.js';
import { createLogger } from '../../src/agent/logger.js';
import { run, runCli, runOk, tempDir } from '../helpers.js';
import { startFakeImds, type FakeImds } from '../fakes/imds-server.js';
import { recordingLog } from '../fakes/recording-log.js';
import { startSeedHttpServer } from '../fixtures/seed-http-server.js';
import { open } from 'node:fs/promises';

const KEYS = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq1 one@example', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC2 two@example'];
const USER_DATA = Buffer.from('#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: "h\u00e9llo \u2713"\nruncmd: [[touch, /tmp/ok]]\n', 'utf8');
const META_DATA = `instance-id: iid-ds-test\nlocal-hostname: ds-host\npublic-keys:\n  - ${KEYS[0]}\n  - ${KEYS[1]}\n`;
const FAST_RETRY = { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 5 };
const never = (): AbortSignal => new AbortController().signal;

function expectSame(i: InstanceData, datasource: InstanceData['datasource']): void {
  assert.equal(i.datasource, datasource);
  assert.equal(i.instanceId, 'iid-ds-test');
  assert.equal(i.localHostname, 'ds-host');
  assert.deepEqual(i.publicKeys, KEYS);
  assert.ok(i.userData !== undefined && Buffer.from(i.userData).equals(USER_DATA), 'user-data bytes are the same');
}

interface Seeds {
  readonly dir: string;
  readonly iso: string;
  readonly vfat: string;
  readonly tar: string;
}

function makeSeeds(base: string, userData = USER_DATA, extra: string[] = []): Seeds {
  const src = join(base, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'user-data'), userData);
  writeFileSync(join(src, 'meta-data'), META_DATA);
  const out = (f: string, ext: string): string => {
    const p = join(base, `seed.${ext}`);
    const r = runCli(['seed', 'create', '-o', p, '--user-data', join(src, 'user-data'), '--meta-data', join(src, 'meta-data'), '--format', f, ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return p;
  };
  return { dir: src, iso: out('iso', 'iso'), vfat: out('vfat', 'img'), tar: out('tar', 'tar') };
}

/** A machine with no evidence of any datasource: plain cmdline, QEMU DMI, no block devices, no seed. */
function bareMachine(base: string, cmdline = 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet', dmi: Record<string, string> = { sys_vendor: 'QEMU', product_version: 'pc-q35-7.2', bios_vendor: 'SeaBIOS' }): Omit<DetectOptions, 'signal' | 'log'> {
  const root = join(base, 'root');
  const dmiDir = join(base, 'dmi');
  const sysBlockDir = join(base, 'sys-block');
  for (const d of [root, dmiDir, sysBlockDir]) mkdirSync(d, { recursive: true });
  for (const [k, v] of Object.entries(dmi)) writeFileSync(join(dmiDir, k), `${v}\n`);
  writeFileSync(join(base, 'cmdline'), `${cmdline}\n`);
  return { root, dmiDir, sysBlockDir, devDir: join(base, 'dev'), cmdlinePath: join(base, 'cmdline') };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function imdsFor(t: { after(fn: () => Promise<void>): void }, opts: Partial<Parameters<typeof startFakeImds>[0]> = {}): Promise<FakeImds> {
  const imds = await startFakeImds({
    instanceId: 'iid-ds-test',
    localHostname: 'ds-host',
    publicKeys: [{ name: 'one', key: KEYS[0] ?? '' }, { name: 'two', key: KEYS[1] ?? '' }],
    interfaces: [{ mac: '0e:49:61:0f:c3:11', deviceNumber: 0, localIpv4s: ['10.0.1.5', '10.0.1.6'], subnetIpv4CidrBlock: '10.0.1.0/24' }],
    userData: USER_DATA,
    ...opts,
  });
  t.after(() => imds.close());
  return imds;
}

test('one seed as ISO, vfat image, tar file and directory gives the same instance, read directly and through --seed', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  const machine = bareMachine(join(base, 'm'));
  for (const path of [seeds.iso, seeds.vfat, seeds.tar, seeds.dir]) {
    const log = recordingLog();
    const instance = await readNoCloudSeed(path, { log, signal: never() });
    expectSame(instance, 'NoCloud');
    assert.equal(instance.source, path);
    const detected = await detectDatasource({ ...machine, seedPaths: [path], signal: never(), log });
    assert.ok('instance' in detected, JSON.stringify(detected));
    expectSame(detected.instance, 'NoCloud');
  }
});

test('NoCloud-net from a loopback HTTP server: the same instance, from --seed URL and from a ds= hint', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  writeFileSync(join(seeds.dir, 'network-config'), 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n');
  const server = await startSeedHttpServer({ dir: seeds.dir });
  t.after(() => server.close());
  const log = recordingLog();
  const r = await readNoCloudNet({ seedfrom: server.url, signal: never(), log });
  assert.ok(r.found);
  expectSame(r.instance, 'NoCloudNet');
  assert.equal(r.instance.source, server.url);
  assert.deepEqual(r.instance.networkConfig, { version: 2, ethernets: { eth0: { dhcp4: true } } });
  assert.equal(r.instance.vendorData, undefined);
  assert.deepEqual(server.requests.map((q) => [q.path.replace('/seed/', ''), q.status]), [['meta-data', 200], ['user-data', 200], ['vendor-data', 404], ['network-config', 200]]);

  const viaSeed = await detectDatasource({ ...bareMachine(join(base, 'a')), seedPaths: [server.url], signal: never(), log });
  assert.ok('instance' in viaSeed);
  expectSame(viaSeed.instance, 'NoCloudNet');

  // The hint's instance-id wins over meta-data (cloud-init merges cmdline first).
  const viaHint = await detectDatasource({ ...bareMachine(join(base, 'b'), `ro ds=nocloud-net;s=${server.url};i=iid-from-cmdline`), signal: never(), log });
  assert.ok('instance' in viaHint);
  assert.equal(viaHint.instance.datasource, 'NoCloudNet');
  assert.equal(viaHint.instance.instanceId, 'iid-from-cmdline');
  assert.equal(viaHint.instance.localHostname, 'ds-host');
});

test('a DMI serial hint with __dmi.system-uuid__ is expanded from product_uuid (QEMU -smbios serial=...)', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  const uuid = '6f0b2c44-1d5e-4a4a-9d0e-2b7d3f3c9a10';
  const server = await startSeedHttpServer({ dir: seeds.dir, prefix: `/seeds/${uuid}/` });
  t.after(() => server.close());
  const machine = bareMachine(join(base, 'm'), 'ro quiet', {
    sys_vendor: 'QEMU',
    product_uuid: uuid,
    product_serial: `ds=nocloud-net;s=http://127.0.0.1:${server.port}/seeds/__dmi.system-uuid__/`,
  });
  const r = await detectDatasource({ ...machine, signal: never(), log: recordingLog() });
  assert.ok('instance' in r, JSON.stringify(r));
  expectSame(r.instance, 'NoCloudNet');
  assert.equal(r.instance.source, server.url);
});

test('the fake IMDSv2: the same instance; one token PUT with the TTL header; no GET without a valid token', async (t) => {
  const imds = await imdsFor(t);
  const r = await readEc2Imds({ baseUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok(r.found);
  expectSame(r.instance, 'Ec2');
  assert.deepEqual(r.instance.metadata.network, {
    interfaces: { macs: { '0e:49:61:0f:c3:11': { 'device-number': '0', 'local-ipv4s': ['10.0.1.5', '10.0.1.6'], 'subnet-ipv4-cidr-block': '10.0.1.0/24' } } },
  });
  assert.deepEqual(r.instance.metadata['public-keys'], { one: KEYS[0], two: KEYS[1] });
  const puts = imds.requests.filter((q) => q.method === 'PUT');
  assert.deepEqual(puts.map((q) => [q.path, q.ttlHeader, q.status]), [['/latest/api/token', '21600', 200]]);
  const gets = imds.requests.filter((q) => q.method === 'GET');
  assert.ok(gets.length >= 9, `${gets.length} GETs`);
  assert.ok(gets.every((q) => q.tokenPresent && q.tokenValid && q.status !== 401), 'every GET carried a valid token');

  // The fake rejects a GET without a token, as IMDSv2-required instances do.
  const status = await new Promise<number>((resolve, reject) => {
    httpGet(`${imds.url}/latest/meta-data/instance-id`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(status, 401);
});

test('IMDS without user-data: none, not an error (cloud-init skips 404 for user-data)', async (t) => {
  const imds = await imdsFor(t, { userData: undefined, publicKeys: [], interfaces: [] });
  const r = await readEc2Imds({ baseUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok(r.found);
  assert.equal(r.instance.userData, undefined);
  assert.deepEqual(r.instance.publicKeys, []);
});

test('a token that expires mid-crawl is fetched again; one refused right after is PermissionDenied', async (t) => {
  const imds = await imdsFor(t, { expireTokensAfterGets: 3 });
  const r = await readEc2Imds({ baseUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok(r.found);
  expectSame(r.instance, 'Ec2');
  assert.ok(imds.requests.filter((q) => q.method === 'PUT').length >= 2);
  assert.ok(imds.requests.filter((q) => q.method === 'GET').every((q) => q.tokenPresent));

  const refusing = await imdsFor(t, { expireTokensAfterGets: 0 });
  await assert.rejects(readEc2Imds({ baseUrl: refusing.url, signal: never(), log: recordingLog() }), (e) => e instanceof PermissionDenied && /fresh/.test(e.message));
  assert.equal(refusing.requests.filter((q) => q.method === 'PUT').length, 2, 'exactly one new token after the 401');
});

test('IMDS token answers: 403 is PermissionDenied, 404 means no IMDSv2 (not found)', async (t) => {
  const off = await imdsFor(t, { tokenStatus: 403 });
  await assert.rejects(readEc2Imds({ baseUrl: off.url, signal: never(), log: recordingLog() }), PermissionDenied);
  const other = await imdsFor(t, { tokenStatus: 404 });
  const r = await readEc2Imds({ baseUrl: other.url, signal: never(), log: recordingLog() });
  assert.ok(!r.found && /no IMDSv2 token endpoint/.test(r.reason));
  assert.equal(other.requests.filter((q) => q.method === 'GET').length, 0);
});

test('the IMDSv2 token never appears in a log line or an error', async (t) => {
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => lines.push(c.toString('utf8')));
  const log = createLogger({ level: 'trace', destination: sink });

  const ok = await imdsFor(t, { expireTokensAfterGets: 4, unavailableFirst: 1 });
  const r = await readEc2Imds({ baseUrl: ok.url, retry: FAST_RETRY, signal: never(), log });
  assert.ok(r.found);

  const failing = await imdsFor(t, { failPaths: ['user-data'] });
  const err = await readEc2Imds({ baseUrl: failing.url, retry: { ...FAST_RETRY, maxAttempts: 2 }, signal: never(), log }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof Unavailable, String(err));
  assert.match(err.message, /user-data: the server answered 500/);
  await new Promise((resolve) => setImmediate(resolve));

  const tokens = [...ok.issuedTokens, ...failing.issuedTokens];
  assert.ok(tokens.length >= 3);
  const logText = lines.join('');
  assert.match(logText, /IMDS request/, 'the log was captured');
  assert.match(logText, /IMDS token expired/);
  const errorText = [String(err), err.message, inspect(err, { depth: 20 }), JSON.stringify(err), err.stack ?? '', ...err.problems].join('\n');
  for (const token of tokens) {
    assert.ok(!logText.includes(token), 'token in the log');
    assert.ok(!errorText.includes(token), 'token in the error');
  }
});

test('retries: the first three requests answer 503, then the seed is read', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  const server = await startSeedHttpServer({ dir: seeds.dir, failFirst: 3 });
  t.after(() => server.close());
  const log = recordingLog();
  const r = await readNoCloudNet({ seedfrom: server.url, retry: FAST_RETRY, signal: never(), log });
  assert.ok(r.found);
  expectSame(r.instance, 'NoCloudNet');
  assert.deepEqual(server.requests.slice(0, 4).map((q) => [q.path, q.status]), [
    ['/seed/meta-data', 503], ['/seed/meta-data', 503], ['/seed/meta-data', 503], ['/seed/meta-data', 200],
  ]);
  assert.equal(log.lines.filter((l) => l.msg === 'seed request failed; retrying').length, 3);

  const imds = await imdsFor(t, { unavailableFirst: 2 });
  const e = await readEc2Imds({ baseUrl: imds.url, retry: FAST_RETRY, signal: never(), log });
  assert.ok(e.found);
  assert.deepEqual(imds.requests.slice(0, 3).map((q) => [q.method, q.status]), [['PUT', 503], ['PUT', 503], ['PUT', 200]]);
});

test('a closed port is Unavailable after bounded retries, well within the total timeout', async () => {
  const port = await closedPort();
  const started = Date.now();
  await assert.rejects(
    readNoCloudNet({ seedfrom: `http://127.0.0.1:${port}/seed/`, retry: FAST_RETRY, totalTimeoutMs: 3000, signal: never(), log: recordingLog() }),
    (e) => e instanceof Unavailable && /connection refused/.test(e.message) && /gave up after 5 attempts/.test(e.message) && e.subject === `http://127.0.0.1:${port}/seed/meta-data`,
  );
  assert.ok(Date.now() - started < 3000);
  const ec2Started = Date.now();
  await assert.rejects(
    detectDatasource({ ...bareMachine(tempDir(undefined)), explicit: 'ec2', metadataUrl: `http://127.0.0.1:${port}`, retry: FAST_RETRY, totalTimeoutMs: 3000, signal: never(), log: recordingLog() }),
    (e) => e instanceof Unavailable && /connection refused/.test(e.message),
  );
  assert.ok(Date.now() - ec2Started < 3000);
});

test('a server that never answers: DeadlineExceeded within the total timeout, no hang', async (t) => {
  const server = await startSeedHttpServer({ hang: true });
  t.after(() => server.close());
  const started = Date.now();
  await assert.rejects(
    readNoCloudNet({ seedfrom: server.url, requestTimeoutMs: 200, totalTimeoutMs: 900, retry: FAST_RETRY, signal: never(), log: recordingLog() }),
    (e) => e instanceof DeadlineExceeded,
  );
  const took = Date.now() - started;
  assert.ok(took >= 200 && took < 1400, `${took} ms`);
  assert.ok(server.requests.length >= 2, 'the request was retried after its own timeout');

  const imdsStarted = Date.now();
  await assert.rejects(
    readEc2Imds({ baseUrl: `http://127.0.0.1:${server.port}`, requestTimeoutMs: 200, totalTimeoutMs: 700, retry: FAST_RETRY, signal: never(), log: recordingLog() }),
    (e) => e instanceof DeadlineExceeded && /hop limit/.test(e.message),
  );
  assert.ok(Date.now() - imdsStarted < 1200);
});

test('cancelling the caller signal stops a slow read at once', async (t) => {
  const server = await startSeedHttpServer({ hang: true });
  t.after(() => server.close());
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const started = Date.now();
  await assert.rejects(readNoCloudNet({ seedfrom: server.url, requestTimeoutMs: 5000, totalTimeoutMs: 10_000, signal: controller.signal, log: recordingLog() }), (e) => (e as Error).name === 'Cancelled');
  assert.ok(Date.now() - started < 1000);
});

test('17 MiB of user-data is ResourceExhausted naming user-data, from every medium, without reading it all', async (t) => {
  const base = tempDir(t);
  const big = Buffer.alloc(17 * 1024 * 1024, 0x23);
  const seeds = makeSeeds(base, big, ['--no-validate']);
  for (const path of [seeds.dir, seeds.iso, seeds.tar, seeds.vfat]) {
    const started = Date.now();
    await assert.rejects(readNoCloudSeed(path, { log: recordingLog(), signal: never() }), (e) => e instanceof ResourceExhausted && /user-data/.test(e.message) && e.subject === path, path);
    assert.ok(Date.now() - started < 5000, `${path}: ${Date.now() - started} ms`);
  }

  // Over HTTP with a Content-Length: refused on the header.
  const declared = await startSeedHttpServer({ dir: seeds.dir });
  t.after(() => declared.close());
  await assert.rejects(
    readNoCloudNet({ seedfrom: declared.url, signal: never(), log: recordingLog() }),
    (e) => e instanceof ResourceExhausted && /^user-data is 17825792 bytes/.test(e.message) && e.subject === `${declared.url}user-data`,
  );

  // An endless body: reading stops just past the cap.
  const endless = await startSeedHttpServer({ files: { 'meta-data': Buffer.from(META_DATA) }, endless: ['user-data'] });
  t.after(() => endless.close());
  const started = Date.now();
  await assert.rejects(
    readNoCloudNet({ seedfrom: endless.url, signal: never(), log: recordingLog() }),
    (e) => e instanceof ResourceExhausted && /user-data is larger than the limit of 16777216 bytes/.test(e.message) && e.subject === `${endless.url}user-data`,
  );
  assert.ok(Date.now() - started < 5000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const sent = endless.bytesSent();
  assert.ok(sent < 48 * 1024 * 1024, `the server wrote ${sent} bytes before the client hung up`);
});

test('no evidence: none, quickly, without a single request to the IMDS or a seed server', async (t) => {
  const base = tempDir(t);
  const imds = await imdsFor(t);
  const machine = bareMachine(base);
  const started = Date.now();
  const r = await detectDatasource({ ...machine, metadataUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok('none' in r);
  assert.equal(r.reasons.length, 3, r.reasons.join('\n'));
  assert.match(r.reasons[0] ?? '', /NoCloud: no seed directory .*var\/lib\/cloud\/seed\/nocloud/);
  assert.match(r.reasons[1] ?? '', /NoCloud-net: no seedfrom URL/);
  assert.match(r.reasons[2] ?? '', /Ec2: DMI does not say Amazon \(sys_vendor "QEMU"/);
  assert.ok(Date.now() - started < 1000);
  assert.equal(imds.requests.length, 0);

  // DMI that says Amazon is evidence: the same machine now reads the IMDS.
  const amazon = bareMachine(join(base, 'aws'), 'ro', { sys_vendor: 'Amazon EC2', bios_vendor: 'Amazon EC2' });
  const found = await detectDatasource({ ...amazon, metadataUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok('instance' in found);
  expectSame(found.instance, 'Ec2');
  const xen = bareMachine(join(base, 'xen'), 'ro', { sys_vendor: 'Xen', product_version: '4.11.amazon', bios_vendor: 'Xen' });
  assert.ok('instance' in (await detectDatasource({ ...xen, metadataUrl: imds.url, signal: never(), log: recordingLog() })));
});

test('a seed directory and a cidata device in a fake sysfs come before NoCloud-net and Ec2', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  const imds = await imdsFor(t);
  const machine = bareMachine(join(base, 'm'), 'ro', { sys_vendor: 'Amazon EC2' });
  // Devices: an ISO seed, a vfat seed, an empty CD drive (size 0) and a FIFO that would block a read.
  const dev = machine.devDir ?? '';
  mkdirSync(dev, { recursive: true });
  const entry = (name: string, sectors: number): void => {
    mkdirSync(join(machine.sysBlockDir, name));
    writeFileSync(join(machine.sysBlockDir, name, 'size'), `${sectors}\n`);
    writeFileSync(join(machine.sysBlockDir, name, 'uevent'), `DEVNAME=${name}\n`);
  };
  entry('sr0', 0);
  entry('sr1', 2048);
  entry('vdb', 2048);
  runOk('mkfifo', [join(dev, 'sr0')]);
  runOk('mkfifo', [join(dev, 'sr1')]);
  runOk('cp', [seeds.iso, join(dev, 'vdb')]);
  const started = Date.now();
  const r = await detectDatasource({ ...machine, metadataUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok('instance' in r, JSON.stringify(r));
  expectSame(r.instance, 'NoCloud');
  assert.equal(r.instance.source, join(dev, 'vdb'));
  assert.ok(Date.now() - started < 3000);
  assert.equal(imds.requests.length, 0, 'NoCloud comes before Ec2');

  // A seed directory comes before devices.
  const seedDir = join(machine.root, 'var/lib/cloud/seed/nocloud');
  mkdirSync(seedDir, { recursive: true });
  writeFileSync(join(seedDir, 'meta-data'), 'instance-id: iid-seed-dir\n');
  writeFileSync(join(seedDir, 'user-data'), '');
  const d = await detectDatasource({ ...machine, metadataUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok('instance' in d);
  assert.equal(d.instance.instanceId, 'iid-seed-dir');
  assert.equal(d.instance.source, seedDir);

  // explicit: ec2 skips NoCloud altogether.
  const e = await detectDatasource({ ...machine, explicit: 'ec2', metadataUrl: imds.url, signal: never(), log: recordingLog() });
  assert.ok('instance' in e);
  assert.equal(e.instance.datasource, 'Ec2');
});

test('labels sniffed from our seeds and from peers agree with blkid', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  const ud = join(seeds.dir, 'user-data');
  const md = join(seeds.dir, 'meta-data');
  const localds = join(base, 'localds.iso');
  runOk('cloud-localds', [localds, ud, md]);
  const upper = join(base, 'upper.img');
  runOk('truncate', ['-s', '4M', upper]);
  runOk('mkfs.vfat', ['-n', 'CIDATA', upper]);
  const fat32 = join(base, 'fat32.img');
  runOk('truncate', ['-s', '40M', fat32]);
  runOk('mkfs.vfat', ['-F', '32', '-n', 'cidata', fat32]);
  for (const img of [seeds.iso, seeds.vfat, localds, upper, fat32]) {
    const blkid = run('blkid', ['-p', '-o', 'export', img]).stdout;
    const label = /^LABEL=(.*)$/m.exec(blkid)?.[1];
    const type = /^TYPE=(.*)$/m.exec(blkid)?.[1];
    const h = await open(img, 'r');
    try {
      const v = await sniffVolumeLabel(async (position, length) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await h.read(buf, 0, length, position);
        return buf.subarray(0, bytesRead);
      });
      assert.equal(v?.format, type, img);
      assert.equal(v?.labels[0], label, img);
    } finally {
      await h.close();
    }
  }
  const found = await findCidataDevices({ devices: [seeds.iso, seeds.vfat, localds, upper, fat32, seeds.tar], log: recordingLog() });
  assert.deepEqual(found.map((f) => [f.path, f.label]).sort(), [[seeds.iso, 'cidata'], [seeds.vfat, 'cidata'], [localds, 'cidata'], [upper, 'CIDATA'], [fat32, 'cidata']].sort());
});

test("kernel command lines mean the same to us as to cloud-init's load_cmdline_data", () => {
  const cmdlines = [
    'root=LABEL=uec-rootfs ro ds=nocloud',
    'ro ds=nocloud;s=file:///var/tmp/seed/;i=iid-01;h=myhost quiet',
    'ds=nocloud-net;s=http://10.0.2.2:8000/seed/?a=b',
    'ds=nocloud;i=IID;dsmode=net;;flag;i=IID2',
    'ds=nocloud;seedfrom=/srv/seed/;local-hostname=h1',
    'ds=nocloud;i=a ds=nocloud-net;s=http://h/',
    'ds=nocloud;i=first ds=nocloud;i=second',
    'ds=nocloudx', 'xds=nocloud', 'ds=nocloud-netx;s=http://h/', 'ds=NoCloud', '', 'ro quiet',
    'ds=nocloud;s', 'a ds=nocloud-net b', 'ds=nocloud-net;h=x ds=nocloud',
  ];
  const script = [
    'import json, sys',
    'from cloudinit.sources.DataSourceNoCloud import load_cmdline_data',
    'out = []',
    'for c in json.load(sys.stdin):',
    '    fill = {}',
    '    found = load_cmdline_data(fill, c)',
    '    out.append({"found": bool(found), "fill": fill})',
    'print(json.dumps(out))',
  ].join('\n');
  const oracle = JSON.parse(runOk('/usr/bin/python3', ['-c', script], { input: JSON.stringify(cmdlines) }).stdout) as { found: boolean; fill: Record<string, string | null> }[];
  cmdlines.forEach((c, i) => {
    const ours = parseDsHint(c);
    assert.equal(ours !== undefined, oracle[i]?.found, c);
    if (ours !== undefined) assert.deepEqual({ ...ours.metadata }, oracle[i]?.fill, c);
  });
});

test('a loop device holding an ISO seed is found by scanning the real /sys/class/block', async (t) => {
  const base = tempDir(t);
  const seeds = makeSeeds(base);
  const loop = runOk('losetup', ['--find', '--show', '--read-only', seeds.iso]).stdout.trim();
  t.after(() => {
    runOk('losetup', ['-d', loop]);
  });
  const found = await findCidataDevices({ log: recordingLog() });
  assert.ok(found.some((f) => f.path === loop && f.format === 'iso9660' && f.label === 'cidata'), JSON.stringify(found));
  expectSame(await readNoCloudSeed(loop, { log: recordingLog(), signal: never() }), 'NoCloud');
});
