// Container networking end to end, as users see it: `atomicd run` with its default bridge network,
// the real docker CLI (and the atomic CLI for `network` commands and exec), a busybox image with
// httpd/wget/ip from a loopback registry, runc and crun. Each scenario runs in a child under
// `unshare --net --mount` (test/fixtures/agent-network-scenario.ts): the agent, the registry and
// every probe live in a throwaway network namespace, and after each test the host's iptables
// ruleset and interfaces are exactly what they were.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DIST, runCliAsync, tempDir } from '../helpers.js';
import { cleanupAgentState, docker, startAgent } from '../fixtures/agent-process.js';

const SCENARIO = join(DIST, 'test', 'fixtures', 'agent-network-scenario.js');
const HOST_ADDRESS = '192.0.2.10';

// The scenarios' JSON: checked field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function sh(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => execFile(cmd, args as string[], { encoding: 'utf8' }, (_err, stdout) => resolve(stdout)));
}

/** The host's iptables rules (no counters) and interface names: what no test may change. */
async function hostNetworking(): Promise<{ rules: string; links: string[] }> {
  const rules = (await sh('iptables-save', [])).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n');
  const links = (await sh('ip', ['-o', 'link'])).split('\n').filter((l) => l !== '').map((l) => (l.split(': ')[1] ?? '').replace(/@.*$/, '')).sort();
  return { rules, links };
}

async function scenario(t: TestContext, name: string, runtime: 'runc' | 'crun'): Promise<Json> {
  const work = tempDir(t, `atomic-agent-net-${name}-`);
  const host = await hostNetworking();
  const result = await new Promise<Json>((resolve, reject) => {
    execFile('unshare', ['--net', '--mount', process.execPath, SCENARIO, name, work, runtime], { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`scenario ${name} (${runtime}) failed: ${err.message}\n${stderr.slice(-6000)}`));
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`scenario ${name} printed no JSON: ${String(e)}\n${stdout}\n${stderr.slice(-4000)}`));
      }
    });
  });
  assert.deepEqual(await hostNetworking(), host, "the host's iptables rules and interfaces are unchanged");
  return result;
}

describe('atomicd container networking (docker CLI, inside a private network namespace)', () => {
  for (const runtime of ['runc', 'crun'] as const) {
    test(`${runtime}: docker run -p 8080:80 httpd answers on 127.0.0.1:8080 and on the namespace's address; docker port, inspect and ps show the bindings`, async (t) => {
      const r = await scenario(t, 'publish', runtime);
      assert.deepEqual(r.linksBefore, ['lo', 'uplink0', 'uplink1'], 'a fresh namespace');
      assert.equal(r.runStatus, 0, r.runStderr);
      assert.equal(r.viaLoopback, 'hello from atomicd');
      assert.equal(r.viaHostAddress, 'hello from atomicd', `reachable on ${HOST_ADDRESS}:8080`);
      assert.equal(r.loopbackOnly, 'hello from atomicd', '-p 127.0.0.1:8081:80 answers on loopback');
      assert.match(r.loopbackOnlyViaHostAddress, /^ERR/, '-p 127.0.0.1:8081:80 answers nowhere else');
      assert.deepEqual(r.dockerPort, ['80/tcp -> 0.0.0.0:8080', '80/tcp -> 127.0.0.1:8081']);
      assert.deepEqual(r.ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }] });
      assert.equal(r.psPorts, '0.0.0.0:8080->80/tcp, 127.0.0.1:8081->80/tcp');
      assert.equal(r.networkMode, 'bridge');
      assert.equal(r.ipAddress, '172.17.0.2');
      assert.deepEqual(Object.keys(r.networks), ['bridge']);
      assert.equal(r.networks.bridge.IPAddress, '172.17.0.2');
      assert.equal(r.networks.bridge.Gateway, '172.17.0.1');
      assert.equal(r.networks.bridge.MacAddress, '02:42:ac:11:00:02');
      assert.match(r.networks.bridge.NetworkID, /^[0-9a-f]{64}$/);
      assert.match(r.sandboxKey, /\/net-exec\/netns\/[0-9a-f]{64}$/);
      assert.deepEqual(r.containerLinks, ['lo', 'eth0']);
      // rm -f gives everything back.
      assert.equal(r.rm, 0);
      assert.match(r.afterRm, /^ERR/);
      assert.deepEqual(r.vethsAfterRm, []);
    });
  }

  test('a user network (atomic network create): its containers reach each other; one on the default bridge cannot until connected; rm refused while in use', async (t) => {
    const r = await scenario(t, 'user-network', 'runc');
    assert.equal(r.create.code, 0, r.create.stderr);
    assert.match(r.create.stdout, /^[0-9a-f]{64}$/);
    assert.equal(r.duplicate.status, 1);
    assert.match(r.duplicate.stderr, /network with name appnet already exists/);
    assert.match(r.atomicLs, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
    assert.match(r.atomicLs, /^[0-9a-f]{12}\s+appnet\s+bridge\s+local$/m);
    assert.equal(r.atomicLsQuiet, r.create.stdout.slice(0, 12), '-q -f label=suite=net lists only appnet');
    assert.deepEqual(r.dockerLs, ['appnet bridge local', 'bridge bridge local', 'host host local', 'none null local']);
    assert.equal(r.ipA, '172.18.0.2');
    assert.equal(r.ipB, '172.18.0.3');
    assert.equal(r.ipC, '172.17.0.2');
    assert.equal(r.bToA, 'hello from atomicd', 'cb fetches from ca over appnet');
    assert.equal(r.bPingA, 0, 'cb pings ca');
    assert.match(r.cToA, /^ERR/, 'cc on the default bridge cannot reach ca');
    assert.notEqual(r.cPingB, 0, 'cc on the default bridge cannot ping cb');
    assert.deepEqual(r.inspectContainers, ['ca', 'cb']);
    assert.equal(r.fixedRun.status, 0, r.fixedRun.stderr);
    assert.equal(r.fixedEndpoint.IPAddress, '172.18.0.50', 'docker run --ip');
    assert.deepEqual(r.fixedEndpoint.IPAMConfig, { IPv4Address: '172.18.0.50' });
    assert.deepEqual(r.fixedEndpoint.Aliases, ['web2'], 'docker run --network-alias');
    assert.equal(r.bToFixed, 'hello from atomicd');
    assert.notEqual(r.ipOutsideSubnet.status, 0);
    assert.match(r.ipOutsideSubnet.stderr, /no configured subnet contains IP address 10\.99\.0\.5/);
    assert.deepEqual(r.inspectLabels, { suite: 'net' });
    assert.equal(r.rmInUse.code, 1);
    assert.match(r.rmInUse.stderr, /has active endpoints/);
    assert.equal(r.connect.code, 0, r.connect.stderr);
    assert.deepEqual(r.cNetworksConnected, ['appnet', 'bridge']);
    assert.equal(r.cToAConnected, 'hello from atomicd', 'connected to appnet, cc reaches ca');
    assert.equal(r.disconnect.code, 0, r.disconnect.stderr);
    assert.match(r.cToADisconnected, /^ERR/, 'disconnected again, it no longer does');
    assert.equal(r.rm.code, 0, r.rm.stderr);
    assert.equal(r.dockerCreate.status, 0, r.dockerCreate.stderr);
    assert.match(r.dockerCreate.stdout, /^[0-9a-f]{64}$/);
    assert.equal(r.dockerInspect, 'dnet bridge net');
    assert.equal(r.dockerRm.status, 0, r.dockerRm.stderr);
    assert.equal(r.dockerRm.stdout, 'dnet');
    assert.deepEqual(r.lsAfterRm, ['bridge', 'host', 'none']);
  });

  test('--network none has only lo; --network host sees the namespace\'s interfaces and addresses', async (t) => {
    const r = await scenario(t, 'none-host', 'crun');
    assert.deepEqual(r.noneLinks, ['lo']);
    assert.deepEqual(r.noneSysClassNet, ['lo']);
    assert.deepEqual(r.noneNetworks, ['none']);
    assert.deepEqual(r.hostLinks, r.namespaceLinks);
    assert.ok(r.hostLinks.includes('uplink0') && r.hostLinks.includes('atomic0'), r.hostLinks.join(' '));
    assert.deepEqual(r.hostNetworks, ['host']);
    assert.match(r.hostAddr, new RegExp(`inet ${HOST_ADDRESS.replace(/\./g, '\\.')}/24`));
  });

  test('SIGKILL of the agent: the published port keeps answering, a new agent on the same state keeps networks and endpoints; rm -f then releases everything', async (t) => {
    const r = await scenario(t, 'restart', 'runc');
    assert.equal(r.before, 'hello from atomicd');
    assert.equal(r.whileDown, 'hello from atomicd', 'the kernel keeps forwarding without the agent');
    assert.equal(r.after, 'hello from atomicd');
    assert.equal(r.afterHostAddress, 'hello from atomicd');
    assert.equal(r.lsAfter, r.lsBefore, 'docker network ls unchanged');
    assert.match(r.lsBefore, /\skeep\s+bridge\s+local/);
    assert.equal(r.rulesAfterRestart, r.rulesRunning, 'the restarted agent re-ensures its rules without duplicates');
    assert.deepEqual(r.webNetworksAfter, r.webNetworksBefore, 'same endpoints (IDs, addresses) after the restart');
    assert.deepEqual(Object.keys(r.webNetworksAfter).sort(), ['bridge', 'keep']);
    assert.equal(r.dockerPortAfter, '0.0.0.0:8080');
    assert.equal(r.rm, 0);
    assert.match(r.afterRm, /^ERR/);
    assert.notEqual(r.rulesRunning, r.rulesIdle);
    assert.equal(r.rulesFinal, r.rulesIdle, "iptables back to the agent's idle rules (its chains, no container rules)");
    assert.deepEqual(r.linksFinal, r.linksIdle, 'no veth and no bridge left over');
    assert.notEqual(r.rulesIdle, r.rulesBefore, 'the agent did set up its chains in the namespace');
  });
});

describe('atomicd --bridge none (in the host namespace)', () => {
  test('no default network, no iptables or interface change; only host and none are listed; network create is refused', async (t) => {
    const work = tempDir(t, 'atomic-agent-net-none-');
    const host = await hostNetworking();
    const agent = await startAgent({ work, name: 'nobr' });
    try {
      const ls = await docker(agent, ['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
      assert.equal(ls.status, 0, ls.stderr);
      assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['host host', 'none null']);
      const create = await runCliAsync(['-H', `unix://${agent.socket}`, 'network', 'create', 'x1']);
      assert.notEqual(create.status, 0);
      assert.match(create.stderr, /--bridge none/);
      const inspect = await docker(agent, ['network', 'inspect', '-f', '{{.Driver}}', 'none']);
      assert.equal(inspect.stdout.trim(), 'null');
    } finally {
      await agent.stop();
      await cleanupAgentState(agent);
    }
    assert.deepEqual(await hostNetworking(), host);
  });
});
