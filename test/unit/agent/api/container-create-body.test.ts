import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isZeroValue, parseCreateBody } from '../../../../src/agent/api/compat/container-create-body.js';
import { parseUpdateBody, timestampNs } from '../../../../src/agent/api/compat/containers.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

/** What docker CLI 24 sends for `docker run -d --name web -p 8080:80 --restart unless-stopped -m 64m --label a=b busybox httpd -f`. */
const DOCKER_RUN_BODY = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: ['httpd', '-f'],
  Image: 'busybox', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: { a: 'b' },
  HostConfig: {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default',
    PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
    AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: '',
    Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0,
    PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
    ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 67108864, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [],
    BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0,
    CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null,
    MemoryReservation: 0, MemorySwap: -1, MemorySwappiness: null, OomKillDisable: false, PidsLimit: null, Ulimits: null, CpuCount: 0,
    CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
  },
  NetworkingConfig: { EndpointsConfig: {} },
};

test("the docker CLI's full create body is accepted and keeps only what was set", () => {
  const { config, hostConfig } = parseCreateBody(DOCKER_RUN_BODY);
  assert.deepEqual(config, { Hostname: '', Domainname: '', User: '', Tty: false, OpenStdin: false, StdinOnce: false, Cmd: ['httpd', '-f'], Image: 'busybox', WorkingDir: '', Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} } });
  assert.equal(hostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(hostConfig.MemorySwap, -1);
  assert.deepEqual(hostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.deepEqual(hostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.equal(hostConfig.NetworkMode, 'default');
  assert.equal('PublishAllPorts' in hostConfig, false);
  assert.equal('Dns' in hostConfig, false, 'empty lists are the same as absent');
});

test('a field atomicd does not implement is refused by name when it carries a value', () => {
  const withPid = { ...DOCKER_RUN_BODY, HostConfig: { ...DOCKER_RUN_BODY.HostConfig, PidMode: 'host' } };
  assert.throws(() => parseCreateBody(withPid), (e: unknown) => e instanceof InvalidArgument && /^HostConfig\.PidMode is not supported by atomicd \(got "host"\)/.test(e.message));
  assert.throws(() => parseCreateBody({ Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'] } }), (e: unknown) => e instanceof InvalidArgument && /^Healthcheck/.test(e.message));
  assert.throws(() => parseCreateBody({ Image: 'busybox', Volumes: { '/data': {} } }), (e: unknown) => e instanceof InvalidArgument && /anonymous volumes \(\/data\)/.test(e.message));
  assert.throws(() => parseCreateBody({ Image: 'busybox', HostConfig: { LogConfig: { Type: 'syslog', Config: {} } } }), (e: unknown) => e instanceof InvalidArgument && /syslog/.test(e.message));
});

test('docker run -i -t: OpenStdin, StdinOnce and Tty are kept; a non-boolean is a 400 naming it', () => {
  const { config } = parseCreateBody({ ...DOCKER_RUN_BODY, OpenStdin: true, StdinOnce: true, Tty: true, AttachStdin: true });
  assert.equal(config.OpenStdin, true);
  assert.equal(config.StdinOnce, true);
  assert.equal(config.Tty, true);
  assert.throws(() => parseCreateBody({ Image: 'busybox', OpenStdin: 'yes' }), (e: unknown) => e instanceof InvalidArgument && /^OpenStdin: expected a boolean/.test(e.message));
});

test('HostConfig.ConsoleSize: [height, width] kept; [0, 0] is not given; anything else a 400 naming it', () => {
  assert.deepEqual(parseCreateBody({ Image: 'busybox', Tty: true, HostConfig: { ConsoleSize: [24, 80] } }).hostConfig.ConsoleSize, [24, 80]);
  assert.equal('ConsoleSize' in parseCreateBody({ ...DOCKER_RUN_BODY, HostConfig: { ...DOCKER_RUN_BODY.HostConfig, ConsoleSize: [0, 0] } }).hostConfig, false);
  for (const bad of [[24], [24, 80, 1], [-1, 80], ['24', '80'], 'x', [24, 70000]]) {
    assert.throws(() => parseCreateBody({ Image: 'busybox', HostConfig: { ConsoleSize: bad } }), (e: unknown) => e instanceof InvalidArgument && e.subject === 'HostConfig.ConsoleSize', JSON.stringify(bad));
  }
});

test('wrong types are a 400 naming the field', () => {
  assert.throws(() => parseCreateBody({ Image: 'busybox', Cmd: 'echo hi' }), (e: unknown) => e instanceof InvalidArgument && /^Cmd: expected a list of strings/.test(e.message));
  assert.throws(() => parseCreateBody({ Image: 'busybox', HostConfig: { Memory: '64m' } }), (e: unknown) => e instanceof InvalidArgument && /^HostConfig\.Memory: expected a number/.test(e.message));
  assert.throws(() => parseCreateBody({ Image: 'busybox', HostConfig: [] }), InvalidArgument);
  assert.throws(() => parseCreateBody({ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { other: {} } } }), (e: unknown) => e instanceof InvalidArgument && /network "other"/.test(e.message));
});

test('zero values', () => {
  for (const z of [null, undefined, false, 0, '', [], {}, { Type: '', Config: {} }, { Name: '', MaximumRetryCount: 0 }]) assert.equal(isZeroValue(z), true, JSON.stringify(z));
  for (const v of [true, 1, 'x', ['a'], { a: 1 }, -1]) assert.equal(isZeroValue(v), false, JSON.stringify(v));
});

test('since/until: Unix seconds with up to 9 fraction digits', () => {
  const q = (v: string): URLSearchParams => new URLSearchParams({ since: v });
  assert.equal(timestampNs(q('1700000000'), 'since'), 1_700_000_000_000_000_000n);
  assert.equal(timestampNs(q('1700000000.5'), 'since'), 1_700_000_000_500_000_000n);
  assert.equal(timestampNs(q('0'), 'since'), undefined);
  assert.equal(timestampNs(new URLSearchParams(), 'since'), undefined);
  assert.throws(() => timestampNs(q('1h'), 'since'), (e: unknown) => e instanceof InvalidArgument && /^since: "1h"/.test(e.message));
});

test('NetworkingConfig: --ip and --network-alias of the container\'s network are taken; output-only fields ignored; others refused by name', () => {
  const body = (ep: unknown): Record<string, unknown> => ({ Image: 'busybox', HostConfig: { NetworkMode: 'appnet' }, NetworkingConfig: { EndpointsConfig: { appnet: ep } } });
  assert.equal(parseCreateBody(body({})).endpoint, undefined);
  assert.equal(parseCreateBody(body({ IPAMConfig: null, Aliases: null, NetworkID: '', IPAddress: '', MacAddress: '' })).endpoint, undefined);
  assert.deepEqual(parseCreateBody(body({ IPAMConfig: { IPv4Address: '172.18.0.9' }, Aliases: ['db'], NetworkID: 'x' })).endpoint, { aliases: ['db'], ipv4Address: '172.18.0.9' });
  assert.throws(() => parseCreateBody(body({ IPAMConfig: { IPv6Address: 'fd00::9' } })), (e: unknown) => e instanceof InvalidArgument && e.subject === 'NetworkingConfig.EndpointsConfig.appnet.IPAMConfig.IPv6Address');
  assert.throws(() => parseCreateBody(body({ Links: ['other'] })), (e: unknown) => e instanceof InvalidArgument && e.subject === 'NetworkingConfig.EndpointsConfig.appnet.Links');
  assert.throws(() => parseCreateBody(body({ Aliases: 'db' })), (e: unknown) => e instanceof InvalidArgument && e.subject === 'NetworkingConfig.EndpointsConfig.appnet.Aliases');
});

test('update bodies: types checked (integers only), unknown fields with values refused, zero values accepted', () => {
  assert.deepEqual(parseUpdateBody({ Memory: 1 << 26, CpusetCpus: '0', RestartPolicy: { Name: 'always', MaximumRetryCount: 0 }, KernelMemory: 0, Devices: null }), { Memory: 1 << 26, CpusetCpus: '0', RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } });
  for (const bad of [{ Memory: '64m' }, { Memory: 0.5 }, { Memory: Infinity }, { CpusetCpus: 1 }, { RestartPolicy: [] }, { RestartPolicy: { Name: 5 } }, { RestartPolicy: { Name: [['x']] } }]) {
    assert.throws(() => parseUpdateBody(bad), InvalidArgument, JSON.stringify(bad));
  }
  assert.throws(() => parseUpdateBody({ KernelMemory: 1 }), (e: unknown) => e instanceof InvalidArgument && e.subject === 'KernelMemory');
  assert.throws(() => parseCreateBody({ Image: 'busybox', HostConfig: { Memory: 1.5 } }), (e: unknown) => e instanceof InvalidArgument && /^HostConfig\.Memory: expected a number \(an integer\), got 1\.5$/.test(e.message));
});
