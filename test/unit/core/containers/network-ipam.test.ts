// IPAM arithmetic: Docker's default pools, subnet checks, gateway and address allocation, MACs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  allocateAddress, DEFAULT_ADDRESS_POOLS, formatIPv4, formatSubnet, gatewayOf, macFromIPv4, parseIPv4, parseSubnet, pickSubnet, subnetContains, subnetsOverlap,
} from '../../../../src/core/containers/network-ipam.js';
import { Conflict, InvalidArgument, ResourceExhausted } from '../../../../src/lib/errors.js';

const ip = (s: string): number => {
  const n = parseIPv4(s);
  assert.ok(n !== undefined, s);
  return n;
};

describe('IPv4 parsing', () => {
  test('dotted quads, strictly', () => {
    assert.equal(parseIPv4('172.17.0.1'), 0xac110001);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    for (const s of ['256.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.-4', 'a.b.c.d', '']) assert.equal(parseIPv4(s), undefined, s);
  });
  test('format(parse(x)) = x', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      assert.equal(parseIPv4(formatIPv4(n)), n);
    }));
  });
});

describe('subnets', () => {
  test('parse and format', () => {
    assert.equal(formatSubnet(parseSubnet('10.1.0.0/16')), '10.1.0.0/16');
    assert.equal(formatSubnet(parseSubnet('0.0.0.0/0')), '0.0.0.0/0');
  });
  test('refuses host bits, garbage and tiny subnets, naming the field', () => {
    assert.throws(() => parseSubnet('172.20.0.5/16'), (e: unknown) => e instanceof InvalidArgument && e.message === 'invalid Subnet 172.20.0.5/16: it should be 172.20.0.0/16' && e.subject === 'Subnet');
    assert.throws(() => parseSubnet('10.0.0.0/33'), InvalidArgument);
    assert.throws(() => parseSubnet('10.0.0.0'), InvalidArgument);
    assert.throws(() => parseSubnet('10.0.0.0/31'), /at least a \/30/);
    assert.throws(() => parseSubnet('x', 'defaultSubnet'), (e: unknown) => e instanceof InvalidArgument && e.subject === 'defaultSubnet');
  });
  test('overlap and containment', () => {
    assert.ok(subnetsOverlap(parseSubnet('172.16.0.0/12'), parseSubnet('172.17.0.0/16')));
    assert.ok(subnetsOverlap(parseSubnet('172.17.0.0/16'), parseSubnet('172.17.5.0/24')));
    assert.ok(!subnetsOverlap(parseSubnet('172.17.0.0/16'), parseSubnet('172.18.0.0/16')));
    assert.ok(subnetContains(parseSubnet('10.0.0.0/8'), ip('10.255.255.255')));
    assert.ok(!subnetContains(parseSubnet('10.0.0.0/8'), ip('11.0.0.0')));
  });
});

describe('pickSubnet (default address pools)', () => {
  test('172.17.0.0/16 first, then the next free /16, then 192.168.x.0/20', () => {
    assert.equal(formatSubnet(pickSubnet([])), '172.17.0.0/16');
    assert.equal(formatSubnet(pickSubnet([parseSubnet('172.17.5.0/24')])), '172.18.0.0/16');
    assert.equal(formatSubnet(pickSubnet([parseSubnet('172.16.0.0/12')])), '192.168.0.0/20');
    assert.equal(formatSubnet(pickSubnet([parseSubnet('172.16.0.0/12'), parseSubnet('192.168.1.0/24')])), '192.168.16.0/20');
    assert.equal(DEFAULT_ADDRESS_POOLS.length, 16);
  });
  test('all pools used: ResourceExhausted', () => {
    assert.throws(() => pickSubnet([parseSubnet('172.16.0.0/12'), parseSubnet('192.168.0.0/16')]), ResourceExhausted);
  });
  test('the result never overlaps what was used', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 30 })), { maxLength: 6 }), (raw) => {
      const used = raw.map(([a, p]) => ({ network: (a & (p === 0 ? 0 : (0xffffffff << (32 - p)))) >>> 0, prefixLen: p }));
      let s;
      try {
        s = pickSubnet(used);
      } catch (e) {
        assert.ok(e instanceof ResourceExhausted);
        return;
      }
      assert.ok(used.every((u) => !subnetsOverlap(u, s)));
    }));
  });
});

describe('gateway and addresses', () => {
  const net = parseSubnet('10.9.0.0/29'); // hosts .1 - .6
  test('gateway: first host, or a given host address of the subnet', () => {
    assert.equal(formatIPv4(gatewayOf(net)), '10.9.0.1');
    assert.equal(formatIPv4(gatewayOf(net, '10.9.0.6')), '10.9.0.6');
    assert.throws(() => gatewayOf(net, '10.9.0.7'), /not a host address/);
    assert.throws(() => gatewayOf(net, '10.9.0.0'), /not a host address/);
    assert.throws(() => gatewayOf(net, '10.10.0.1'), (e: unknown) => e instanceof InvalidArgument && e.subject === 'Gateway');
    assert.throws(() => gatewayOf(net, 'gw'), InvalidArgument);
  });
  test('lowest free host address; freed ones come back; exhaustion', () => {
    const taken = new Set([ip('10.9.0.1')]);
    const a = allocateAddress(net, taken);
    assert.equal(formatIPv4(a), '10.9.0.2');
    taken.add(a);
    taken.add(allocateAddress(net, taken));
    taken.delete(a);
    assert.equal(formatIPv4(allocateAddress(net, taken)), '10.9.0.2');
    for (const h of [2, 4, 5, 6]) taken.add(ip(`10.9.0.${h}`));
    assert.throws(() => allocateAddress(net, taken), ResourceExhausted);
  });
  test('requested address: must be a free host address', () => {
    const taken = new Set([ip('10.9.0.1'), ip('10.9.0.2')]);
    assert.equal(formatIPv4(allocateAddress(net, taken, '10.9.0.5')), '10.9.0.5');
    assert.throws(() => allocateAddress(net, taken, '10.9.0.2'), Conflict);
    assert.throws(() => allocateAddress(net, taken, '10.9.0.7'), InvalidArgument);
    assert.throws(() => allocateAddress(net, taken, '10.8.0.3'), InvalidArgument);
    assert.throws(() => allocateAddress(net, taken, 'x'), (e: unknown) => e instanceof InvalidArgument && e.subject === 'IPv4Address');
  });
  test('MAC from the address (libnetwork genMAC)', () => {
    assert.equal(macFromIPv4(ip('172.17.0.2')), '02:42:ac:11:00:02');
    assert.equal(macFromIPv4(ip('10.255.1.200')), '02:42:0a:ff:01:c8');
  });
});
