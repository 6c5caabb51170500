// The iptables plan as data: the exact rules, in `iptables -S` form, so a change in the layout is a
// visible diff. (The integration test proves they carry traffic.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseJumps, bridgeRules, OWN_CHAINS, publishRules, type IptablesRule } from '../../../../src/core/containers/network-iptables-plan.js';

const asText = (rules: readonly IptablesRule[]): string[] => rules.map((r) => `${r.table} -A ${r.chain} ${r.spec.join(' ')}`);

describe('iptables plan', () => {
  test('jumps from the built-in chains into our own', () => {
    assert.deepEqual(baseJumps().map((j) => `${j.table} ${j.insertFirst ? '-I' : '-A'} ${j.chain} ${j.spec.join(' ')}`), [
      'nat -A PREROUTING -m addrtype --dst-type LOCAL -j ATOMIC',
      'nat -A OUTPUT -m addrtype --dst-type LOCAL -j ATOMIC',
      'nat -A POSTROUTING -j ATOMIC-POSTROUTING',
      'filter -I FORWARD -j ATOMIC-FORWARD',
      'filter -I FORWARD -j ATOMIC-ISOLATION-STAGE-1',
    ]);
    // Every jump target is one of our chains, so removing our chains can never strand a host rule.
    const own = new Set(OWN_CHAINS.map((c) => `${c.table}/${c.chain}`));
    for (const j of baseJumps()) assert.ok(own.has(`${j.table}/${j.spec[j.spec.length - 1]}`));
  });

  test('a bridge with icc: masquerade out, isolation, replies and published ports in, drop the rest', () => {
    assert.deepEqual(asText(bridgeRules({ bridge: 'atomic0', subnet: '172.17.0.0/16', icc: true, internal: false })), [
      'filter -A ATOMIC-ISOLATION-STAGE-1 -i atomic0 ! -o atomic0 -j ATOMIC-ISOLATION-STAGE-2',
      'filter -A ATOMIC-ISOLATION-STAGE-2 -o atomic0 -j DROP',
      'nat -A ATOMIC-POSTROUTING -s 172.17.0.0/16 ! -o atomic0 -j MASQUERADE',
      'nat -A ATOMIC-POSTROUTING -o atomic0 -m addrtype --src-type LOCAL -j MASQUERADE',
      'filter -A ATOMIC-FORWARD -o atomic0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      'filter -A ATOMIC-FORWARD -o atomic0 -j ATOMIC',
      'filter -A ATOMIC-FORWARD -i atomic0 ! -o atomic0 -j ACCEPT',
      'filter -A ATOMIC-FORWARD -i atomic0 -o atomic0 -j ACCEPT',
      'filter -A ATOMIC-FORWARD -o atomic0 -j DROP',
    ]);
  });

  test('icc=false drops bridge-to-bridge traffic; internal networks neither masquerade nor leave', () => {
    const noIcc = asText(bridgeRules({ bridge: 'br-1', subnet: '10.0.0.0/24', icc: false, internal: false }));
    assert.ok(noIcc.includes('filter -A ATOMIC-FORWARD -i br-1 -o br-1 -j DROP'));
    assert.ok(!noIcc.includes('filter -A ATOMIC-FORWARD -i br-1 -o br-1 -j ACCEPT'));
    const internal = asText(bridgeRules({ bridge: 'br-2', subnet: '10.0.1.0/24', icc: true, internal: true }));
    assert.ok(internal.includes('filter -A ATOMIC-ISOLATION-STAGE-1 -i br-2 ! -o br-2 -j DROP'));
    assert.ok(internal.includes('filter -A ATOMIC-ISOLATION-STAGE-1 ! -i br-2 -o br-2 -j DROP'));
    assert.ok(!internal.some((r) => r.includes('MASQUERADE')));
    assert.ok(!internal.includes('filter -A ATOMIC-FORWARD -i br-2 ! -o br-2 -j ACCEPT'));
  });

  test('a published port: DNAT, FORWARD accept, hairpin masquerade', () => {
    assert.deepEqual(asText(publishRules({ proto: 'udp', hostIp: '', hostPort: 5353, containerIp: '172.17.0.2', containerPort: 53, bridge: 'atomic0' })), [
      'nat -A ATOMIC -p udp -m udp --dport 5353 -j DNAT --to-destination 172.17.0.2:53',
      'filter -A ATOMIC -d 172.17.0.2/32 ! -i atomic0 -o atomic0 -p udp -m udp --dport 53 -j ACCEPT',
      'nat -A ATOMIC-POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p udp -m udp --dport 53 -j MASQUERADE',
    ]);
    const onLoopback = publishRules({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80, bridge: 'atomic0' });
    assert.deepEqual(onLoopback[0]?.spec.slice(0, 2), ['-d', '127.0.0.1/32']);
    const anyAddr = publishRules({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80, bridge: 'atomic0' });
    assert.equal(anyAddr[0]?.spec[0], '-p');
  });
});
