// The docker CLI's formats the container commands reproduce: GetTimestamp for --since/--until,
// ps columns, stats arithmetic and units, events lines, and the Go-template subset of inspect -f.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ellipsis, formatPorts, parseTemplate, renderTemplate, statsCells, statsRow, timestampFlag } from '../../../../src/cli/commands/container-common.js';
import { psRows } from '../../../../src/cli/commands/container-ps.js';
import { formatEvent, parseEventLine } from '../../../../src/cli/commands/container-events.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';
import { bytesSize } from '../../../../src/lib/human-units.js';

const NOW = Date.parse('2026-12-07T07:00:00.250Z');

test('--since/--until as docker sends them: durations before now, dates, Unix seconds', () => {
  assert.equal(timestampFlag('--since', '1h', NOW), `${(NOW - 250) / 1000 - 3600}.250000000`);
  assert.equal(timestampFlag('--since', '1700000000', NOW), '1700000000.000000000');
  assert.equal(timestampFlag('--since', '1700000000.5', NOW), '1700000000.5');
  assert.equal(timestampFlag('--since', '2026-12-07T06:00:00Z', NOW), `${Date.parse('2026-12-07T06:00:00Z') / 1000}.000000000`);
  assert.equal(timestampFlag('--since', '2026-12-07T06:00:00.123456789Z', NOW), `${Date.parse('2026-12-07T06:00:00Z') / 1000}.123456789`);
  assert.equal(timestampFlag('--since', '2026-12-07T06:00:00+02:00', NOW), `${Date.parse('2026-12-07T04:00:00Z') / 1000}.000000000`);
  assert.equal(timestampFlag('--since', '2026-12-07', NOW), `${new Date(2026, 11, 7).getTime() / 1000}.000000000`, 'a date is local midnight');
  assert.throws(() => timestampFlag('--since', 'yesterday', NOW), (e: unknown) => e instanceof InvalidArgument && e.subject === '--since');
});

test('ps: Ellipsis, quoted command, ages, ports, names', () => {
  assert.equal(ellipsis('sleep 300', 20), 'sleep 300');
  assert.equal(ellipsis('sh -c "while true; do sleep 1; done"', 20), 'sh -c "while true; …');
  assert.equal([...ellipsis('sh -c "while true; do sleep 1; done"', 20)].length, 20);
  assert.equal(
    formatPorts([{ PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }, { PrivatePort: 80, PublicPort: 8080, IP: '::', Type: 'tcp' }]),
    '53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
  );
  const id = 'a'.repeat(64);
  const rows = psRows([{ Id: id, Names: ['/web'], Image: `sha256:${'b'.repeat(64)}`, Command: 'sh -c "while true; do sleep 1; done"', Created: NOW / 1000 - 300, Status: 'Up 5 minutes', Ports: [] }], { trunc: true, nowMs: NOW });
  assert.deepEqual(rows, [['aaaaaaaaaaaa', 'bbbbbbbbbbbb', '"sh -c \\"while true; …"', '5 minutes ago', 'Up 5 minutes', '', 'web']]);
  const full = psRows([{ Id: id, Names: ['/web'], Image: 'busybox', Command: 'sleep 300', Created: NOW / 1000 - 2, Status: 'Exited (0) 1 second ago' }], { trunc: false, nowMs: NOW });
  assert.deepEqual(full[0]!.slice(0, 4), [id, 'busybox', '"sleep 300"', '2 seconds ago']);
});

test('stats: docker\'s CPU %, memory without inactive_file, network and block IO sums, units', () => {
  const row = statsRow({
    id: 'c'.repeat(64), name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 300_000_000 }, system_cpu_usage: 4_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 100_000_000 }, system_cpu_usage: 2_000_000_000 },
    memory_stats: { usage: 10 * 1024 * 1024, limit: 64 * 1024 * 1024, stats: { total_inactive_file: 2 * 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'Write', value: 8192 }, { op: 'Total', value: 12288 }] },
    pids_stats: { current: 3 },
  });
  assert.equal(row.cpuPercent, (200_000_000 / 2_000_000_000) * 2 * 100);
  assert.equal(row.memoryBytes, 8 * 1024 * 1024);
  assert.equal(row.memoryPercent, 12.5);
  assert.deepEqual(statsCells(row), ['cccccccccccc', 'web', '20.00%', '8MiB / 64MiB', '12.50%', '2kB / 500B', '4.1kB / 8.19kB', '3']);
  const idle = statsRow({ id: 'd', cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10 }, precpu_stats: {} });
  assert.equal(idle.cpuPercent, 0, 'no online CPU count: 0, as docker computes it');
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(67108864), '64MiB');
  assert.equal(bytesSize(1234567), '1.177MiB');
});

test('events in docker\'s one-line form', () => {
  assert.equal(
    formatEvent(parseEventLine('{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web","image":"busybox"}},"time":1796626740,"timeNano":1796626740000000123}')),
    '2026-12-07T06:59:00.000000123Z container start abc (image=busybox, name=web)',
  );
  assert.equal(formatEvent({ Type: 'network', Action: 'connect', Actor: { ID: 'n1' }, time: 1796626740 }), '2026-12-07T06:59:00.000000000Z network connect n1');
});

test('inspect -f: dotted fields and json, printed as Go prints decoded JSON; anything else refused', () => {
  const c = { State: { Status: 'running', Running: true, Pid: 42 }, HostConfig: { Memory: 67108864, Binds: null, CapAdd: ['A', 'B'] }, Config: { Labels: { b: '2', a: '1' } } };
  assert.equal(renderTemplate(parseTemplate('{{.State.Status}} {{.HostConfig.Memory}}'), c), 'running 67108864');
  assert.equal(renderTemplate(parseTemplate('{{ .State.Running }}/{{.State.Pid}}'), c), 'true/42');
  assert.equal(renderTemplate(parseTemplate('{{.HostConfig.Binds}} {{.HostConfig.CapAdd}} {{.Config.Labels}}'), c), '<nil> [A B] map[a:1 b:2]');
  assert.equal(renderTemplate(parseTemplate('{{.Nope}}'), c), '<no value>');
  assert.equal(renderTemplate(parseTemplate('{{json .Config.Labels}}'), c), '{"b":"2","a":"1"}');
  assert.equal(renderTemplate(parseTemplate('x{{.}}'), 'v'), 'xv');
  assert.throws(() => renderTemplate(parseTemplate('{{.State.Status.Deeper}}'), c), /can't evaluate field Deeper/);
  for (const t of ['{{range .Mounts}}{{end}}', '{{.State.Status | upper}}', '{{index .Config.Labels "a"}}', '{{.State', '{{$x := 1}}']) {
    assert.throws(() => parseTemplate(t), (e: unknown) => e instanceof InvalidArgument && e.subject === '--format', t);
  }
});
