// docker run/create/update flags -> Engine API bodies (src/core/containers/run-flags.ts) and the
// `--` placement that keeps the container's own flags away from ours (container-argv.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseEnvFile, parseMemorySwap, parseNanoCpus, parseSizeFlag, parseUlimit, runFlagsToCreateBody, updateFlagsToBody,
} from '../../../../src/core/containers/run-flags.js';
import { commandIndex, markOperands, type FlagShape } from '../../../../src/cli/commands/container-argv.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const noEnv = (): undefined => undefined;

test('sizes are go-units RAMInBytes (1024-based), --memory-swap takes -1', () => {
  assert.equal(parseSizeFlag('--memory', '64m'), 64 * 1024 * 1024);
  assert.equal(parseSizeFlag('--memory', '1g'), 1024 ** 3);
  assert.equal(parseSizeFlag('--memory', '1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSizeFlag('--memory', '512kb'), 512 * 1024);
  assert.equal(parseSizeFlag('--memory', '100'), 100);
  assert.equal(parseMemorySwap('-1'), -1);
  assert.throws(() => parseSizeFlag('--memory', 'lots'), (e: unknown) => e instanceof InvalidArgument && e.subject === '--memory');
  assert.throws(() => parseSizeFlag('--memory', '-5m'), InvalidArgument);
});

test('--cpus is ParseCPUs: decimal CPUs to NanoCpus, at most 9 decimals', () => {
  assert.equal(parseNanoCpus('1.5'), 1_500_000_000);
  assert.equal(parseNanoCpus('0.25'), 250_000_000);
  assert.equal(parseNanoCpus('2'), 2_000_000_000);
  assert.equal(parseNanoCpus('.5'), 500_000_000);
  assert.equal(parseNanoCpus('0.000000001'), 1);
  assert.equal(parseNanoCpus('1.0000000000'), 1_000_000_000, 'trailing zeros are not precision');
  assert.throws(() => parseNanoCpus('0.0000000001'), /too precise/);
  assert.throws(() => parseNanoCpus('two'), InvalidArgument);
  assert.throws(() => parseNanoCpus('-1'), InvalidArgument);
});

test('--ulimit NAME=SOFT[:HARD] with the known names and soft <= hard', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=100'), { Name: 'nproc', Soft: 100, Hard: 100 });
  assert.deepEqual(parseUlimit('core=-1'), { Name: 'core', Soft: -1, Hard: -1 });
  assert.throws(() => parseUlimit('nofile=2048:1024'), /soft limit must be less than or equal to hard limit/);
  assert.throws(() => parseUlimit('files=1'), /invalid ulimit type: files/);
  assert.throws(() => parseUlimit('nofile'), InvalidArgument);
});

test('env files: comments and blanks skipped, NAME alone from the environment (dropped when unset), bad names refused', () => {
  const env = (k: string): string | undefined => (k === 'HOME' ? '/root' : undefined);
  assert.deepEqual(parseEnvFile('f', '# c\n\nA=1\n  B=two words\nHOME\nUNSET\r\nC=\n', env), ['A=1', 'B=two words', 'HOME=/root', 'C=']);
  assert.throws(() => parseEnvFile('f', 'A=1\nBAD NAME=2\n', env), /f:2: variable "BAD NAME"/);
  assert.throws(() => parseEnvFile('f', '=x\n', env), /f:1/);
});

test('run flags -> the create body docker sends', () => {
  const body = runFlagsToCreateBody('busybox', ['sleep', '300'], {
    env: ['A=1', 'PASSED', 'MISSING'], envFiles: [{ path: 'e', text: 'FROM_FILE=x\n' }], label: ['deployer=ci', 'flag'], publish: ['127.0.0.1:8080:80', '53/udp'],
    volume: ['data:/data:ro', '/data2'], tmpfs: ['/run:size=1m'], memory: '64m', memorySwap: '-1', cpuShares: '512', cpus: '1.5', cpusetCpus: '0-1',
    blkioWeight: '300', pidsLimit: '100', restart: 'on-failure:3', hostname: 'h', user: '1000:1000', workdir: '/w', entrypoint: '', readOnly: true,
    capAdd: ['NET_ADMIN'], capDrop: ['ALL'], securityOpt: ['no-new-privileges'], init: true, dns: ['10.0.0.1'], addHost: ['db:10.0.0.2'],
    network: 'none', tty: true, logOpt: ['max-size=10m', 'max-file=3'], ulimit: ['nofile=10:20'], stopSignal: 'SIGINT', shmSize: '128m',
  }, (k) => (k === 'PASSED' ? 'yes' : undefined));
  assert.deepEqual(body, {
    Image: 'busybox', Cmd: ['sleep', '300'], Entrypoint: [''], Env: ['FROM_FILE=x', 'A=1', 'PASSED=yes'], Labels: { deployer: 'ci', flag: '' },
    ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data2': {} }, Hostname: 'h', User: '1000:1000', WorkingDir: '/w', Tty: true, StopSignal: 'SIGINT',
    HostConfig: {
      Memory: 67108864, MemorySwap: -1, CpuShares: 512, NanoCpus: 1_500_000_000, CpusetCpus: '0-1', BlkioWeight: 300, PidsLimit: 100,
      Binds: ['data:/data:ro'], Tmpfs: { '/run': 'size=1m' }, ShmSize: 128 * 1024 * 1024,
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] },
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, ReadonlyRootfs: true, CapAdd: ['NET_ADMIN'], CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'], Init: true, Dns: ['10.0.0.1'], ExtraHosts: ['db:10.0.0.2'], NetworkMode: 'none',
      LogConfig: { Type: '', Config: { 'max-size': '10m', 'max-file': '3' } }, Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }],
    },
  });
  assert.deepEqual(runFlagsToCreateBody('busybox', [], { rm: true }, noEnv), { Image: 'busybox', HostConfig: { AutoRemove: true } });
});

test('run flags refused with the flag named', () => {
  const refuse = (f: Parameters<typeof runFlagsToCreateBody>[2], subject: string, re: RegExp): void =>
    assert.throws(() => runFlagsToCreateBody('busybox', [], f, noEnv), (e: unknown) => e instanceof InvalidArgument && e.subject === subject && re.test(e.message));
  refuse({ rm: true, restart: 'always' }, '--rm', /Conflicting options: --restart and --rm/);
  refuse({ publish: ['99999:80'] }, '99999:80', /invalid hostPort/);
  refuse({ blkioWeight: '5' }, '--blkio-weight', /10\.\.1000/);
  refuse({ workdir: 'rel' }, '--workdir', /absolute path/);
  refuse({ addHost: ['nohost'] }, '--add-host', /HOST:IP/);
  refuse({ logOpt: ['max-size'] }, '--log-opt', /KEY=VALUE/);
  refuse({ tmpfs: ['run'] }, '--tmpfs', /absolute/);
  refuse({ volume: ['data'] }, '--volume', /invalid volume spec/);
  refuse({ pidsLimit: '-2' }, '--pids-limit', /out of range/);
  refuse({ env: ['=x'] }, '--env', /invalid environment variable/);
  assert.throws(() => runFlagsToCreateBody('busybox', [], { restart: 'sometimes' }, noEnv), /unknown policy 'sometimes'/);
});

test('update flags -> the update body; none is an error', () => {
  assert.deepEqual(updateFlagsToBody({ memory: '128m', restart: 'unless-stopped', pidsLimit: '-1' }), { Memory: 134217728, PidsLimit: -1, RestartPolicy: { Name: 'unless-stopped' } });
  assert.throws(() => updateFlagsToBody({}), /one or more flags/);
});

test('`--` goes before the first operand, past our flags and their values', () => {
  const flags: FlagShape[] = [
    { short: '-d', long: '--detach', takesValue: false }, { short: '-e', long: '--env', takesValue: true }, { long: '--name', takesValue: true },
    { short: '-p', long: '--publish', takesValue: true }, { short: '-t', long: '--tty', takesValue: false }, { short: '-m', long: '--memory', takesValue: true },
  ];
  const argv = (...a: string[]): string[] => ['node', 'atomic', ...a];
  assert.equal(commandIndex(argv('--host', 'unix:///s', '--debug', 'run', '-d')), 5);
  assert.equal(commandIndex(argv('--host=unix:///s', 'run')), 3);
  assert.deepEqual(markOperands(argv('run', '-d', '--name', 'web', '-e', 'A=1', 'img', 'sh', '-c', 'exit 3'), 3, flags), argv('run', '-d', '--name', 'web', '-e', 'A=1', '--', 'img', 'sh', '-c', 'exit 3'));
  assert.deepEqual(markOperands(argv('run', '--name=web', '-dtp', '80:80', '-m64m', 'img', '-d'), 3, flags), argv('run', '--name=web', '-dtp', '80:80', '-m64m', '--', 'img', '-d'));
  assert.deepEqual(markOperands(argv('run', '-d', '--', 'img', 'ls'), 3, flags), argv('run', '-d', '--', 'img', 'ls'), 'an explicit -- is kept');
  assert.deepEqual(markOperands(argv('run', '--help'), 3, flags), argv('run', '--help'), 'no operand: unchanged');
});
