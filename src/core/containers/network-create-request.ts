// POST /networks/create (Docker Engine API NetworkCreateRequest) -> what the network controller
// takes. Swarm-only and IPv6 features are refused by name instead of being silently dropped;
// bridge driver options we do not implement become warnings, as dockerd's Warning field does.
import { InvalidArgument, Unimplemented } from '../../lib/errors.js';
import { validateNetworkName } from './network-state.js';

export interface NetworkCreateOptions {
  readonly name: string;
  readonly driver?: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly internal?: boolean;
  /** com.docker.network.bridge.enable_icc; default true. */
  readonly icc?: boolean;
  /** com.docker.network.bridge.name; default br-<12 hex of the ID>. */
  readonly bridgeName?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

const OPT_ICC = 'com.docker.network.bridge.enable_icc';
const OPT_NAME = 'com.docker.network.bridge.name';
/** Options dockerd reports back on the default network; accepted and ignored when they ask for the defaults. */
const OPT_DEFAULTS: Readonly<Record<string, string>> = {
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
  'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
  'com.docker.network.bridge.default_bridge': 'false',
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Linux interface name (IFNAMSIZ 16 with the NUL; no '/', ':' or whitespace, not "." or ".."). */
export function validateBridgeName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new InvalidArgument(`invalid ${OPT_NAME} ${JSON.stringify(name.slice(0, 40))}: an interface name of 1-15 characters [A-Za-z0-9_.-]`, { subject: OPT_NAME });
  }
  return name;
}

function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InvalidArgument(`invalid ${field}: expected true or false`, { subject: field });
  return v;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new InvalidArgument(`invalid ${field}: expected an object of strings`, { subject: field });
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw new InvalidArgument(`invalid ${field}.${k}: expected a string`, { subject: `${field}.${k}` });
  return v as Record<string, string>;
}

export function networkCreateRequest(body: unknown): { options: NetworkCreateOptions; warnings: string[] } {
  if (!isObj(body)) throw new InvalidArgument('invalid network create request: expected a JSON object', { subject: 'body' });
  const name = validateNetworkName(body.Name);
  const driver = body.Driver ?? '';
  if (typeof driver !== 'string') throw new InvalidArgument('invalid Driver: expected a string', { subject: 'Driver' });
  if (driver !== '' && driver !== 'bridge') throw new InvalidArgument(`network driver ${JSON.stringify(driver)} is not supported (only bridge)`, { subject: 'Driver' });
  for (const f of ['Attachable', 'Ingress', 'ConfigOnly', 'EnableIPv6'] as const) {
    if (bool(body[f], f) === true) throw new Unimplemented(`${f} networks are not supported`, { subject: f });
  }
  if (isObj(body.ConfigFrom) && body.ConfigFrom.Network !== undefined && body.ConfigFrom.Network !== '') {
    throw new Unimplemented('ConfigFrom networks are not supported', { subject: 'ConfigFrom' });
  }
  const internal = bool(body.Internal, 'Internal');
  const labels = stringMap(body.Labels, 'Labels');
  const warnings: string[] = [];
  let icc: boolean | undefined;
  let bridgeName: string | undefined;
  for (const [k, v] of Object.entries(stringMap(body.Options, 'Options'))) {
    if (k === OPT_ICC) {
      if (v !== 'true' && v !== 'false') throw new InvalidArgument(`invalid ${OPT_ICC} ${JSON.stringify(v)}: expected true or false`, { subject: OPT_ICC });
      icc = v === 'true';
    } else if (k === OPT_NAME) {
      bridgeName = validateBridgeName(v);
    } else if (OPT_DEFAULTS[k] !== v) {
      warnings.push(`network option ${k}=${v} is not supported and was ignored`);
    }
  }
  let subnet: string | undefined;
  let gateway: string | undefined;
  if (body.IPAM !== undefined && body.IPAM !== null) {
    if (!isObj(body.IPAM)) throw new InvalidArgument('invalid IPAM: expected an object', { subject: 'IPAM' });
    const ipamDriver = body.IPAM.Driver ?? '';
    if (ipamDriver !== '' && ipamDriver !== 'default') throw new InvalidArgument(`IPAM driver ${JSON.stringify(ipamDriver)} is not supported (only default)`, { subject: 'IPAM.Driver' });
    const configs = body.IPAM.Config ?? [];
    if (!Array.isArray(configs)) throw new InvalidArgument('invalid IPAM.Config: expected a list', { subject: 'IPAM.Config' });
    if (configs.length > 1) throw new Unimplemented('more than one IPAM.Config entry (several subnets per network) is not supported', { subject: 'IPAM.Config' });
    const c: unknown = configs[0];
    if (c !== undefined) {
      if (!isObj(c)) throw new InvalidArgument('invalid IPAM.Config[0]: expected an object', { subject: 'IPAM.Config[0]' });
      for (const f of ['IPRange', 'AuxiliaryAddresses'] as const) {
        const v = c[f];
        if (v !== undefined && v !== null && v !== '' && !(isObj(v) && Object.keys(v).length === 0)) throw new Unimplemented(`IPAM.Config[0].${f} is not supported`, { subject: `IPAM.Config[0].${f}` });
      }
      for (const f of ['Subnet', 'Gateway'] as const) {
        if (c[f] !== undefined && typeof c[f] !== 'string') throw new InvalidArgument(`invalid IPAM.Config[0].${f}: expected a string`, { subject: `IPAM.Config[0].${f}` });
      }
      if (typeof c.Subnet === 'string' && c.Subnet.includes(':')) throw new Unimplemented('IPv6 subnets are not supported', { subject: 'IPAM.Config[0].Subnet' });
      subnet = (c.Subnet as string | undefined) || undefined;
      gateway = (c.Gateway as string | undefined) || undefined;
    }
  }
  const options: NetworkCreateOptions = {
    name,
    ...(driver === '' ? {} : { driver }),
    ...(subnet === undefined ? {} : { subnet }),
    ...(gateway === undefined ? {} : { gateway }),
    ...(internal === undefined ? {} : { internal }),
    ...(icc === undefined ? {} : { icc }),
    ...(bridgeName === undefined ? {} : { bridgeName }),
    labels,
  };
  return { options, warnings };
}
