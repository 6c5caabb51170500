// `-p` parsing with Docker's go-connections nat.ParsePortSpecs semantics; expected values are what
// `docker run -p SPEC` puts in Config.ExposedPorts and HostConfig.PortBindings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  hostPortKey, parsePortRange, parsePortSpec, parsePortSpecs, pickHostPort, portMappings, type PortMapping,
} from '../../../../src/core/containers/network-port-spec.js';
import { Conflict, InvalidArgument } from '../../../../src/lib/errors.js';

const b = (HostIp: string, HostPort: string): { HostIp: string; HostPort: string } => ({ HostIp, HostPort });

describe('parsePortSpec (nat.ParsePortSpec)', () => {
  const cases: [string, [string, string, string][]][] = [
    ['8080:80', [['80/tcp', '', '8080']]],
    ['80', [['80/tcp', '', '']]],
    ['80/udp', [['80/udp', '', '']]],
    ['5353:53/udp', [['53/udp', '', '5353']]],
    ['53/UDP', [['53/udp', '', '']]],
    ['80/', [['80/tcp', '', '']]],
    ['127.0.0.1:8080:80', [['80/tcp', '127.0.0.1', '8080']]],
    ['127.0.0.1::80', [['80/tcp', '127.0.0.1', '']]],
    ['0.0.0.0:80:80/sctp', [['80/sctp', '0.0.0.0', '80']]],
    ['[::1]:8080:80', [['80/tcp', '::1', '8080']]],
    ['[2001:db8::1]::80', [['80/tcp', '2001:db8::1', '']]],
    ['8080-8081:80-81', [['80/tcp', '', '8080'], ['81/tcp', '', '8081']]],
    ['80-81', [['80/tcp', '', ''], ['81/tcp', '', '']]],
    ['127.0.0.1:8000-8001:80-81/udp', [['80/udp', '127.0.0.1', '8000'], ['81/udp', '127.0.0.1', '8001']]],
    // A host range with one container port: "any free port in 8000-8010".
    ['8000-8010:80', [['80/tcp', '', '8000-8010']]],
    ['0:80', [['80/tcp', '', '0']]],
  ];
  for (const [spec, want] of cases) {
    test(spec, () => {
      assert.deepEqual(parsePortSpec(spec).map((p) => [p.port, p.binding.HostIp, p.binding.HostPort]), want);
    });
  }

  const bad: [string, RegExp][] = [
    ['70000:80', /invalid hostPort: 70000/],
    ['8080:70000', /invalid containerPort: 70000/],
    ['abc', /invalid containerPort: abc/],
    ['abc:80', /invalid hostPort: abc/],
    ['1.2.3.4:80:80:80', /invalid IP address: 1\.2\.3\.4:80/],
    ['300.1.1.1:80:80', /invalid IP address: 300\.1\.1\.1/],
    ['localhost:80:80', /invalid IP address: localhost/],
    ['8080:', /no container port/],
    ['', /no container port/],
    ['80/icmp', /invalid proto: icmp/],
    ['8080-8082:80-81', /invalid ranges specified for container and host Ports: 80-81 and 8080-8082/],
    ['81-80', /invalid containerPort: 81-80/],
    ['0', /invalid containerPort: 0/],
    ['[::1:80:80', /invalid IP address/],
    ['-1:80', /invalid hostPort: -1/],
  ];
  for (const [spec, re] of bad) {
    test(`refuses ${JSON.stringify(spec)}`, () => {
      assert.throws(() => parsePortSpec(spec), (e: unknown) => e instanceof InvalidArgument && re.test(e.message) && e.subject === spec);
    });
  }

  test('every valid single mapping round-trips', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('tcp', 'udp'), (h, c, proto) => {
      const [one, ...rest] = parsePortSpec(`${h}:${c}/${proto}`);
      assert.equal(rest.length, 0);
      assert.deepEqual(one, { port: `${c}/${proto}`, binding: b('', String(h)) });
    }));
  });
});

describe('parsePortSpecs (nat.ParsePortSpecs)', () => {
  test('accumulates bindings per port and exposes every port', () => {
    const r = parsePortSpecs(['8080:80', '127.0.0.1:8081:80', '53/udp', '9000-9001:90-91']);
    assert.deepEqual(r.exposedPorts, { '80/tcp': {}, '53/udp': {}, '90/tcp': {}, '91/tcp': {} });
    assert.deepEqual(r.portBindings, {
      '80/tcp': [b('', '8080'), b('127.0.0.1', '8081')],
      '53/udp': [b('', '')],
      '90/tcp': [b('', '9000')],
      '91/tcp': [b('', '9001')],
    });
  });
  test('no specs: nothing', () => {
    assert.deepEqual(parsePortSpecs([]), { exposedPorts: {}, portBindings: {} });
  });
});

describe('portMappings (HostConfig.PortBindings from the API)', () => {
  test('validated mappings; 0.0.0.0 means every address; brackets stripped', () => {
    assert.deepEqual(portMappings({ '80/tcp': [b('0.0.0.0', '8080'), b('[::1]', '')], '53/udp': [b('', '5000-5010')], '81': null }), [
      { proto: 'tcp', containerPort: 80, hostIp: '', hostPortStart: 8080, hostPortEnd: 8080 },
      { proto: 'tcp', containerPort: 80, hostIp: '::1', hostPortStart: 0, hostPortEnd: 0 },
      { proto: 'udp', containerPort: 53, hostIp: '', hostPortStart: 5000, hostPortEnd: 5010 },
    ]);
    assert.deepEqual(portMappings(undefined), []);
  });
  test('refuses bad keys and values naming the field', () => {
    assert.throws(() => portMappings({ '80-81/tcp': [b('', '')] }), /invalid containerPort: 80-81/);
    assert.throws(() => portMappings({ 'x/tcp': [b('', '')] }), /invalid containerPort: x/);
    assert.throws(() => portMappings({ '80/gre': [b('', '')] }), /invalid proto: gre/);
    assert.throws(() => portMappings({ '80/tcp': [b('', '99999')] }), /invalid HostPort: 99999/);
    assert.throws(() => portMappings({ '80/tcp': [b('nope', '1')] }), /invalid HostIp: nope/);
    // Untrusted JSON: wrong shapes are refused, not crashed on.
    assert.throws(() => portMappings({ '80/tcp': 'x' } as never), (e: unknown) => e instanceof InvalidArgument && /bindings must be a list/.test(e.message));
    assert.throws(() => portMappings({ '80/tcp': [{ HostPort: 8080 }] } as never), (e: unknown) => e instanceof InvalidArgument && /HostPort/.test(e.message));
    assert.throws(() => portMappings({ '80/tcp': [null] } as never), InvalidArgument);
    assert.deepEqual(portMappings({ '80/tcp': [{}] }), [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortStart: 0, hostPortEnd: 0 }]);
  });
});

describe('parsePortRange', () => {
  test('bounds', () => {
    assert.deepEqual(parsePortRange('0'), { start: 0, end: 0 });
    assert.deepEqual(parsePortRange('65535'), { start: 65535, end: 65535 });
    assert.deepEqual(parsePortRange('1-2'), { start: 1, end: 2 });
    for (const s of ['65536', '1-65536', '2-1', '1-', '-1', '1--2', ' 1', '123456']) assert.equal(parsePortRange(s), undefined, s);
  });
});

describe('pickHostPort', () => {
  const m = (o: Partial<PortMapping>): PortMapping => ({ proto: 'tcp', containerPort: 80, hostIp: '', hostPortStart: 0, hostPortEnd: 0, ...o });
  const eph = { start: 49153, end: 49155 };
  test('fixed port, free', () => {
    assert.equal(pickHostPort(m({ hostPortStart: 8080, hostPortEnd: 8080 }), new Set(), eph), 8080);
  });
  test('fixed port taken on 0.0.0.0 or the same address: Conflict; other proto or address is fine', () => {
    const taken = new Set([hostPortKey('tcp', '', 8080), hostPortKey('udp', '127.0.0.1', 9000)]);
    assert.throws(() => pickHostPort(m({ hostPortStart: 8080, hostPortEnd: 8080 }), taken, eph), (e: unknown) => e instanceof Conflict && /0\.0\.0\.0:8080 failed: port is already allocated/.test(e.message));
    assert.throws(() => pickHostPort(m({ hostIp: '127.0.0.1', hostPortStart: 8080, hostPortEnd: 8080 }), taken, eph), Conflict);
    assert.equal(pickHostPort(m({ proto: 'udp', hostPortStart: 8080, hostPortEnd: 8080 }), taken, eph), 8080);
    assert.equal(pickHostPort(m({ proto: 'udp', hostIp: '10.0.0.1', hostPortStart: 9000, hostPortEnd: 9000 }), taken, eph), 9000);
    // 0.0.0.0 collides with a port bound on one address.
    assert.throws(() => pickHostPort(m({ proto: 'udp', hostPortStart: 9000, hostPortEnd: 9000 }), taken, eph), Conflict);
  });
  test('range and ephemeral: first free, exhausted -> Conflict', () => {
    const taken = new Set([hostPortKey('tcp', '', 49153)]);
    assert.equal(pickHostPort(m({}), taken, eph), 49154);
    assert.equal(pickHostPort(m({ hostPortStart: 8000, hostPortEnd: 8002 }), new Set([hostPortKey('tcp', '', 8000)]), eph), 8001);
    const full = new Set([49153, 49154, 49155].map((p) => hostPortKey('tcp', '', p)));
    assert.throws(() => pickHostPort(m({}), full, eph), Conflict);
  });
});
