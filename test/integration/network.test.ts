// The network adapter against the real kernel, iproute2 and iptables (nft): every scenario runs in
// a child under `unshare --net --mount` (test/fixtures/network-scenario.ts), so bridges, veths,
// iptables rules and sysctls live in a throwaway network namespace and the host's networking is
// never touched. Traffic is real: busybox httpd and a UDP echo server inside the sandboxes, HTTP
// and UDP clients in the "agent" namespace, an outside namespace that can only answer NATed
// traffic.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DIST, tempDir } from '../helpers.js';

const SCENARIO = join(DIST, 'test', 'fixtures', 'network-scenario.js');

// The scenarios' JSON: checked field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function scenario(t: TestContext, name: string, env: NodeJS.ProcessEnv = {}): Promise<Json> {
  const work = tempDir(t, `atomic-net-${name}-`);
  return new Promise((resolve, reject) => {
    execFile('unshare', ['--net', '--mount', process.execPath, SCENARIO, name, work], { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`scenario ${name} failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`scenario ${name} printed no JSON: ${String(e)}\n${stdout}\n${stderr}`));
      }
    });
  });
}

const errorShape = (r: Json): { code: string } => {
  assert.equal(r.ok, false, `expected an error, got ${JSON.stringify(r)}`);
  return r;
};

describe('container networking (in a private network namespace)', () => {
  test('default bridge: -p 8080:80 and 5353:53/udp reachable on 127.0.0.1 and the host address, outbound NAT, release removes everything', async (t) => {
    const r = await scenario(t, 'bridge-publish');
    // The endpoint: first address after the gateway, Docker's MAC scheme, eth0.
    assert.equal(r.endpoint.ip, '172.17.0.2');
    assert.equal(r.endpoint.gateway, '172.17.0.1');
    assert.equal(r.endpoint.prefixLen, 16);
    assert.equal(r.endpoint.mac, '02:42:ac:11:00:02');
    assert.equal(r.endpoint.ifname, 'eth0');
    assert.match(r.endpoint.networkId, /^[0-9a-f]{64}$/);
    assert.deepEqual(r.containerLinks, ['lo', 'eth0']);
    assert.match(r.containerRoutes, /^default via 172\.17\.0\.1 dev eth0/);
    assert.equal(r.defaultNetwork.Name, 'bridge');
    assert.equal(r.defaultNetwork.Options['com.docker.network.bridge.name'], 'atomic0');
    assert.deepEqual(r.defaultNetwork.IPAM.Config, [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]);
    assert.equal(r.defaultNetwork.Containers['c'.repeat(63) + '1'].IPv4Address, '172.17.0.2/16');
    assert.deepEqual(r.published.map((p: Json) => [p.proto, p.hostIp, p.hostPort, p.containerPort, p.containerIp]), [
      ['tcp', '', 8080, 80, '172.17.0.2'], ['tcp', '127.0.0.1', 8083, 80, '172.17.0.2'], ['udp', '', 5353, 53, '172.17.0.2'],
    ]);
    // Real traffic.
    assert.equal(r.viaLoopback, 'hello from c1');
    assert.equal(r.viaHostAddress, 'hello from c1');
    assert.equal(r.viaContainerIp, 'hello from c1');
    assert.equal(r.loopbackOnlyViaLoopback, 'hello from c1', '-p 127.0.0.1:8083:80 answers on loopback');
    assert.match(r.loopbackOnlyViaHostAddress, /^ERR/, '-p 127.0.0.1:8083:80 does not answer on other addresses');
    assert.equal(r.udpViaLoopback, 'echo:ping1');
    assert.equal(r.udpViaHostAddress, 'echo:ping2');
    assert.equal(r.pingGateway, true);
    assert.equal(r.hairpin, 'hello from c1', 'a container reaches its own published port through the host address');
    assert.equal(r.worldRoutes, '192.0.2.0/24 dev w0 proto kernel scope link src 192.0.2.2', 'the outside has no route back to the container subnet');
    assert.equal(r.outbound, 'hello from the world', 'outbound traffic is masqueraded');
    assert.equal(r.ipForward, '1');
    // Our rules while published: DNAT in our nat chain, jumps from the built-ins.
    assert.match(r.rulesWhilePublished, /^-A ATOMIC -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.17\.0\.2:80$/m);
    assert.match(r.rulesWhilePublished, /^-A ATOMIC -p udp -m udp --dport 5353 -j DNAT --to-destination 172\.17\.0\.2:53$/m);
    assert.match(r.rulesWhilePublished, /^-A OUTPUT -m addrtype --dst-type LOCAL -j ATOMIC$/m);
    assert.match(r.rulesWhilePublished, /^-A ATOMIC-POSTROUTING -s 172\.17\.0\.0\/16 ! -o atomic0 -j MASQUERADE$/m);
    assert.notEqual(r.rulesWhilePublished, r.rulesBefore);
    // Release: rules back to exactly what they were, veth gone, netns file gone, port closed, repeatable.
    assert.equal(r.rulesAfterRelease, r.rulesBefore);
    assert.deepEqual(r.linksAfterRelease, r.linksBefore);
    assert.ok(!r.linksAfterRelease.some((l: string) => l.startsWith('veth')));
    assert.equal(r.netnsExistsAfterRelease, false);
    assert.equal(r.sandboxAfterRelease, null);
    assert.match(r.viaLoopbackAfterRelease, /^ERR /);
    assert.deepEqual(r.releaseTwice, { ok: true });
  });

  test('user-defined networks: peers talk, icc=false blocks them, other networks are isolated', async (t) => {
    const r = await scenario(t, 'isolation');
    assert.equal(r.ips['1'], '172.18.0.2', 'the first user network takes the next default pool');
    assert.equal(r.ips['3'], '172.19.0.2');
    assert.equal(r.ips['5'], '10.20.0.1', 'a custom gateway (.254) leaves .1 for containers');
    assert.match(r.backRoutes, /^default via 10\.20\.0\.254 dev eth0/);
    assert.deepEqual(r.frontPeers, { ping: true, http: 'hello from c2' });
    assert.equal(r.securePeers.ping, false);
    assert.match(r.securePeers.http, /^ERR/);
    assert.equal(r.secureToGateway, true, 'icc=false still lets containers reach the gateway');
    assert.equal(r.backToFront.ping, false);
    assert.match(r.backToFront.http, /^ERR/);
    assert.equal(r.frontToBack, false);
    assert.equal(r.agentToBack, 'hello from c5', 'the agent itself reaches containers directly');
    assert.equal(r.networks.secure.Options['com.docker.network.bridge.enable_icc'], 'false');
    assert.deepEqual(r.networks.front.Labels, { tier: 'web' });
    assert.match(r.networks.front.Options['com.docker.network.bridge.name'], /^br-[0-9a-f]{12}$/);
    assert.equal(r.networks.front.Options['com.docker.network.bridge.name'], `br-${r.networks.front.Id.slice(0, 12)}`);
    const list = Object.fromEntries(r.list.map((n: Json) => [n.Name, n]));
    assert.deepEqual(Object.keys(list).sort(), ['back', 'bridge', 'front', 'host', 'none', 'secure']);
    assert.equal(list.host.Driver, 'host');
    assert.equal(list.none.Driver, 'null');
    assert.equal(list.front.Containers, 2);
    assert.equal(list.back.Subnet, '10.20.0.0/24');
    assert.equal(r.internal.peers, true);
    assert.equal(r.internal.toOtherNetwork, false);
    assert.doesNotMatch(r.internal.routes, /default/);
    assert.equal(errorShape(r.internal.publish).code, 'FailedPrecondition');
    assert.equal(r.internal.bridgeExists, true, 'com.docker.network.bridge.name is used');
    assert.equal(errorShape(r.internal.sameBridgeName).code, 'Conflict');
    assert.equal(errorShape(r.internal.hostInterfaceName).code, 'Conflict', 'an interface we did not create is never taken over');
    assert.match(r.defaultRoute.before, /^default via 172\.18\.0\.1 dev eth0/);
    assert.match(r.defaultRoute.after, /^default via 10\.20\.0\.254 dev eth1/);
    assert.deepEqual(r.defaultRoute.links, ['lo', 'eth1']);
    assert.deepEqual(r.defaultIccOff, { ping: false, gateway: true, option: 'false' }, 'defaultIcc: false (dockerd --icc=false) applies to the default bridge');
  });

  test('--network none: a namespace with only lo; none and host cannot be connected', async (t) => {
    const r = await scenario(t, 'none');
    assert.deepEqual(r.links, ['lo']);
    assert.equal(r.loUp, true);
    assert.equal(errorShape(r.connectNone).code, 'InvalidArgument');
    assert.equal(errorShape(r.connectHost).code, 'InvalidArgument');
    assert.equal(errorShape(r.duplicateSandbox).code, 'AlreadyExists');
    assert.equal(errorShape(r.badId).code, 'InvalidArgument');
    assert.equal(r.netnsExistsAfterRelease, false);
  });

  test('lifecycle: addresses freed and reused, state survives a restart, rm refused while connected, everything removed at the end', async (t) => {
    const r = await scenario(t, 'lifecycle');
    assert.equal(r.defaultSubnet, '172.18.0.0/16', 'a host route inside 172.17.0.0/16 moves the default network to the next pool');
    assert.equal(r.e1.ip, '172.19.0.2');
    assert.equal(r.e2.ip, '172.19.0.3');
    assert.deepEqual(r.e2.aliases, ['db']);
    assert.equal(r.eDefault.ifname, 'eth1', 'a second network is the second interface');
    // 127.0.0.1::80 got a port from the ephemeral range; 9000-9001:90-91 maps one to one.
    assert.equal(r.pub[0].hostIp, '127.0.0.1');
    assert.ok(r.pub[0].hostPort >= 1024 && r.pub[0].hostPort <= 65535);
    assert.deepEqual(r.pub.slice(1).map((p: Json) => [p.hostPort, p.containerPort]), [[9000, 90], [9001, 91]]);
    assert.equal(errorShape(r.removeWhileConnected).code, 'Conflict');
    assert.equal(errorShape(r.removeDefault).code, 'PermissionDenied');
    assert.equal(errorShape(r.conflictPort).code, 'Conflict');
    assert.match(r.conflictPort.message, /port is already allocated/);
    assert.equal(errorShape(r.doubleConnect).code, 'Conflict');
    assert.deepEqual(Object.keys(r.afterRelease1.inspect.Containers), ['c'.repeat(63) + '2']);
    // Restart: same network ID, same endpoints, no duplicated rules.
    assert.equal(r.restored.app.Id, r.e1.networkId);
    assert.equal(r.restored.app.Containers['c'.repeat(63) + '2'].IPv4Address, '172.19.0.3/16');
    assert.deepEqual(r.restored.sandbox2.ports, r.pub);
    assert.deepEqual(r.restored.networks, ['bridge', 'host', 'none', 'app']);
    // The sandbox whose namespace vanished is forgotten on restart: its port rules go, its address is free.
    assert.equal(r.e6.ip, '172.19.0.2');
    assert.match(r.rulesWithLost, /--dport 7000 -j DNAT --to-destination 172\.19\.0\.2:70$/m);
    assert.doesNotMatch(r.rulesAfterRestart, /172\.19\.0\.2/);
    assert.equal(r.lostAfterRestart, null);
    assert.equal(r.rulesWithLost.split('\n').filter((l: string) => !/172\.19\.0\.2/.test(l)).join('\n'), r.rulesAfterRestart);
    assert.equal(r.rulesAfterSecondRestart, r.rulesAfterRestart, 'open() is idempotent: no duplicated rules');
    assert.equal(r.e4.ip, '172.19.0.2', 'the released address is handed out again');
    assert.equal(errorShape(r.e5pinned).code, 'Conflict');
    assert.equal(r.e5.ip, '172.19.200.7');
    assert.equal(errorShape(r.pinnedOnDefault).code, 'InvalidArgument');
    assert.deepEqual(r.disconnect, { ok: true });
    assert.deepEqual(r.sandbox2AfterDisconnect.endpoints.map((e: Json) => e.networkName), ['app']);
    assert.deepEqual(r.removed, { ok: true });
    assert.equal(errorShape(r.inspectRemoved).code, 'NotFound');
    assert.equal(r.end, r.start, 'iptables-save after everything is released equals the start');
    assert.deepEqual(r.endLinks, r.startLinks);
    assert.equal(r.netnsDir, '');
  });

  for (const runtime of ['runc', 'crun']) {
    test(`${runtime} joins the sandbox by path; the published port reaches the container; /etc/hosts has its address`, async (t) => {
      const r = await scenario(t, 'oci-runtime', { ATOMIC_NET_RUNTIME: runtime });
      assert.ok(r.namespaces.some((n: Json) => n.type === 'network' && typeof n.path === 'string' && n.path.endsWith('/netns/net' + 'd'.repeat(61))));
      assert.equal(r.sameNetns, true);
      assert.equal(r.viaLoopback, 'hello from the container');
      assert.equal(r.viaContainerIp, 'hello from the container');
      assert.match(r.hosts, /^172\.17\.0\.2\tweb$/m);
    });
  }

  test('bad requests get clear errors and leave nothing behind', async (t) => {
    const r = await scenario(t, 'bad-input');
    assert.equal(errorShape(r.duplicate).code, 'Conflict');
    assert.equal(r.duplicate.message, 'network with name taken already exists');
    assert.equal(errorShape(r.overlap).code, 'Conflict');
    assert.match(r.overlap.message, /overlaps/);
    assert.equal(errorShape(r.overlapDefault).code, 'Conflict');
    assert.equal(errorShape(r.notNetworkAddress).code, 'InvalidArgument');
    assert.equal(r.notNetworkAddress.subject, 'Subnet');
    assert.equal(errorShape(r.badSubnet).code, 'InvalidArgument');
    assert.equal(errorShape(r.gatewayOutside).code, 'InvalidArgument');
    assert.equal(r.gatewayOutside.subject, 'Gateway');
    assert.equal(errorShape(r.badName).code, 'InvalidArgument');
    assert.equal(errorShape(r.badDriver).code, 'InvalidArgument');
    assert.equal(errorShape(r.missing).code, 'NotFound');
    assert.equal(r.missing.message, 'network nosuch not found');
    assert.equal(errorShape(r.removeMissing).code, 'NotFound');
    assert.equal(errorShape(r.connectNoSandbox).code, 'NotFound');
    assert.equal(errorShape(r.publishIPv6).code, 'Unimplemented');
    assert.deepEqual(r.portsAfterFailedPublish, [], 'a failed publish rolls back the ports it had already bound');
    assert.deepEqual([...r.concurrent].sort(), ['10.30.0.3', '10.30.0.4', '10.30.0.5'], 'concurrent connects (.2 is taken by the sandbox of the failed publish) get distinct addresses');
    assert.equal(r.rulesUnchanged, true);
    assert.equal(r.linksUnchanged, true);
  });
});
