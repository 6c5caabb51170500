// /networks: the Engine API's network endpoints (docs.docker.com/reference/api/engine, "Network")
// over BridgeNetworking and its NetworkController. Shapes and statuses are Docker's: a list of
// NetworkResource, 201 {"Id","Warning"} for create, 204 for delete, 200 with no body for
// connect/disconnect, {"NetworksDeleted"} for prune.
//
// An agent started with --bridge none has no network controller at all (no bridges, no iptables
// rules): it still lists the predefined `host` and `none` networks, and refuses everything that
// would need the controller.
import { createHash } from 'node:crypto';
import { hasProcess } from '../../../core/containers/container-state.js';
import { networkCreateRequest } from '../../../core/containers/network-create-request.js';
import type { NetworkResource } from '../../../core/containers/network-state.js';
import { FailedPrecondition, InvalidArgument, NotFound } from '../../../lib/errors.js';
import type { BridgeNetworking } from '../../containers/bridge-networking.js';
import type { ContainerEngine } from '../../containers/container-engine.js';
import { readJsonBody, readJsonObject } from '../request-input.js';
import type { Router } from '../router.js';
import { labelsMatch, parseFilters, type Filters } from './filters.js';

const BUILTIN = new Set(['bridge', 'host', 'none']);

/** The predefined networks of an agent without a controller; IDs are fixed so that they stay the same across restarts. */
function staticNetworks(): NetworkResource[] {
  return (['host', 'none'] as const).map((name) => ({
    Name: name, Id: createHash('sha256').update(`atomicd predefined network ${name}`).digest('hex'), Created: '0001-01-01T00:00:00Z', Scope: 'local',
    Driver: name === 'host' ? 'host' : 'null', EnableIPv6: false, IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false,
    Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  }));
}

/** moby's network list filters: name and id match anywhere, driver exactly, type=custom|builtin, label, scope. */
export function matchesNetworkFilters(n: NetworkResource, f: Filters): boolean {
  const any = (key: string, ok: (v: string) => boolean): boolean => {
    const vs = f.get(key);
    return vs === undefined || vs.length === 0 || vs.some(ok);
  };
  for (const t of f.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw new InvalidArgument(`invalid filter: 'type'='${t}'`, { subject: 'type' });
  return any('name', (v) => n.Name.includes(v)) &&
    any('id', (v) => n.Id.includes(v)) &&
    any('driver', (v) => n.Driver === v) &&
    any('scope', (v) => v === n.Scope) &&
    any('type', (v) => (v === 'builtin') === BUILTIN.has(n.Name)) &&
    labelsMatch(n.Labels, f.get('label') ?? []);
}

function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidArgument(`${field}: expected a string`, { subject: field });
  return v;
}

/** POST /networks/{id}/connect body: {Container, EndpointConfig: {IPAMConfig: {IPv4Address}, Aliases}}. */
export function parseConnectBody(body: Record<string, unknown>): { container: string; aliases: string[]; ipv4Address?: string } {
  const container = str(body.Container, 'Container');
  if (container === undefined || container === '') throw new InvalidArgument('Container: a container is required', { subject: 'Container' });
  const ec = body.EndpointConfig;
  if (ec === undefined || ec === null) return { container, aliases: [] };
  if (typeof ec !== 'object' || Array.isArray(ec)) throw new InvalidArgument('EndpointConfig: expected an object', { subject: 'EndpointConfig' });
  const e = ec as Record<string, unknown>;
  const aliases = e.Aliases ?? [];
  if (aliases !== null && (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string'))) throw new InvalidArgument('EndpointConfig.Aliases: expected a list of strings', { subject: 'EndpointConfig.Aliases' });
  let ipv4Address: string | undefined;
  if (e.IPAMConfig !== undefined && e.IPAMConfig !== null) {
    if (typeof e.IPAMConfig !== 'object' || Array.isArray(e.IPAMConfig)) throw new InvalidArgument('EndpointConfig.IPAMConfig: expected an object', { subject: 'EndpointConfig.IPAMConfig' });
    const ipam = e.IPAMConfig as Record<string, unknown>;
    ipv4Address = str(ipam.IPv4Address, 'EndpointConfig.IPAMConfig.IPv4Address') || undefined;
    if ((str(ipam.IPv6Address, 'EndpointConfig.IPAMConfig.IPv6Address') ?? '') !== '') throw new InvalidArgument('EndpointConfig.IPAMConfig.IPv6Address: IPv6 is not supported', { subject: 'EndpointConfig.IPAMConfig.IPv6Address' });
  }
  return { container, aliases: (aliases ?? []) as string[], ...(ipv4Address === undefined ? {} : { ipv4Address }) };
}

export function networkRoutes(router: Router, engine: ContainerEngine, networking: BridgeNetworking | undefined): void {
  const require = (): BridgeNetworking => {
    if (networking === undefined) throw new FailedPrecondition('the agent runs with --bridge none: it has no bridge networking (only the networks host and none)', { subject: '--bridge' });
    return networking;
  };
  /** Container ID -> name (without "/"), for NetworkResource.Containers. */
  const names = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await engine.list({ all: true })).map((c) => [c.Id, (c.Names[0] ?? '').replace(/^\//, '')]));
  const all = async (): Promise<NetworkResource[]> => (networking === undefined ? staticNetworks() : networking.controller.listNetworks(await names()));
  const find = async (idOrName: string): Promise<NetworkResource> => {
    if (networking !== undefined) return networking.controller.inspectNetwork(idOrName, await names());
    const n = staticNetworks().find((x) => x.Name === idOrName || x.Id.startsWith(idOrName));
    if (n === undefined) throw new NotFound(`network ${idOrName} not found`, { subject: idOrName });
    return n;
  };

  router.add('GET', '/networks', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['name', 'id', 'driver', 'type', 'label', 'scope']);
    return { json: (await all()).filter((n) => matchesNetworkFilters(n, f)) };
  });
  router.add('POST', '/networks/create', async (ctx) => {
    const { options, warnings } = networkCreateRequest(await readJsonObject(ctx.req, 'network create'));
    const n = await require().controller.createNetwork(options);
    return { status: 201, json: { Id: n.Id, Warning: warnings.join('\n') } };
  });
  router.add('POST', '/networks/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['label', 'label!']);
    if (networking === undefined) return { json: { NetworksDeleted: [] } };
    const deleted: string[] = [];
    for (const n of networking.controller.listNetworks()) {
      if (BUILTIN.has(n.Name) || Object.keys(n.Containers).length > 0) continue;
      if (!labelsMatch(n.Labels, f.get('label') ?? [])) continue;
      if ((f.get('label!') ?? []).some((l) => labelsMatch(n.Labels, [l]))) continue;
      // Stopped containers that joined it keep it, as in Docker (their next start would fail).
      if (networking.membersOf(n.Id).length > 0) continue;
      await networking.controller.removeNetwork(n.Id);
      deleted.push(n.Name);
    }
    return { json: { NetworksDeleted: deleted } };
  });
  router.add('GET', '/networks/{id}', async (ctx) => ({ json: await find(ctx.params.id!) }));
  router.add('DELETE', '/networks/{id}', async (ctx) => {
    const net = require();
    const n = net.controller.inspectNetwork(ctx.params.id!);
    const members = net.membersOf(n.Id);
    if (members.length > 0 && Object.keys(n.Containers).length === 0) {
      throw new FailedPrecondition(`error while removing network: network ${n.Name} id ${n.Id} is used by stopped containers (${members.map((m) => m.slice(0, 12)).join(', ')}); disconnect them first`, { subject: n.Name });
    }
    await net.controller.removeNetwork(n.Id);
    return { status: 204, empty: true };
  });
  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const net = require();
    const body = parseConnectBody(await readJsonObject(ctx.req, 'network connect'));
    const r = engine.get(body.container);
    await net.connect({ id: r.id, name: r.name, hostConfig: r.hostConfig }, ctx.params.id!, { aliases: body.aliases, ...(body.ipv4Address === undefined ? {} : { ipv4Address: body.ipv4Address }) }, hasProcess(r.state));
    return { status: 200, empty: true };
  });
  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const net = require();
    const raw = await readJsonBody(ctx.req, 'network disconnect');
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgument('network disconnect: the body must be a JSON object', { subject: 'body' });
    const container = str((raw as Record<string, unknown>).Container, 'Container');
    if (container === undefined || container === '') throw new InvalidArgument('Container: a container is required', { subject: 'Container' });
    const r = engine.get(container);
    await net.disconnect({ id: r.id, name: r.name, hostConfig: r.hostConfig }, ctx.params.id!, hasProcess(r.state));
    return { status: 200, empty: true };
  });
}
