// network-config validation: cloud-init's version 1 format and version 2 (netplan), bare or under
// a top-level `network:` key (cloud-init's stages.py _remove_top_level_network_key).
//   v1: https://cloudinit.readthedocs.io/en/latest/reference/network-config-format-v1.html
//   v2: https://cloudinit.readthedocs.io/en/latest/reference/network-config-format-v2.html and
//       netplan(5), which v2 is a subset of.
// cloud-init 22.4 has no schema for network-config (one came in 23.x); these checks follow what
// its network_state.py and netplan do with the values, and stop at structure and addresses.
import { isIP, isIPv4, isIPv6, isMacAddress, netmaskPrefix, parseCidr } from './net-address.js';
import { LineIndex, ProblemReport, type Problem } from './problem.js';
import { bool, Cursor, describeNode, int, list, obj, oneOf, str, validateNode, yaml11Hint, type ObjectSchema, type Schema } from './schema-validator.js';
import { entryOf, parseYaml, toPlain, type MapNode, type PlainValue, type YamlNode } from './yaml-document.js';
import { decodeText } from './mime.js';

export interface NetworkConfigReport {
  /** The configuration after unwrapping `network:`, when it parsed. */
  readonly config?: PlainValue;
  readonly version?: 1 | 2;
  /** `config: disabled`: cloud-init leaves networking alone. */
  readonly disabled?: boolean;
  readonly problems: readonly Problem[];
}

function text(node: YamlNode): string | undefined {
  return node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

/** A string that YAML 1.1 turned into something else (a MAC read as base 60, ...) is explained. */
function stringCheck(what: string, ok: (s: string) => boolean): Schema {
  return {
    type: 'any',
    check: (node, at) => {
      const s = text(node);
      if (s === undefined) {
        const hint = yaml11Hint(node);
        at.error(node, `expected ${what}, got ${describeNode(node)}${hint === '' ? '' : ` (${hint})`}`);
      } else if (!ok(s)) at.error(node, `${JSON.stringify(s)} is not ${what}`);
    },
  };
}

const mac = stringCheck('a MAC address like 52:54:00:12:34:56', isMacAddress);
const ip = stringCheck('an IP address', isIP);
const ipv4 = stringCheck('an IPv4 address', isIPv4);
const ipv6 = stringCheck('an IPv6 address', isIPv6);
const ifname = str({ pattern: /^[^\s/:]{1,15}$/, patternMessage: 'is not an interface name (1 to 15 characters, no blanks, / or :)' });
const mtu = int({ minimum: 68, maximum: 65535 });

// --- version 1 -------------------------------------------------------------------------------------
/** v1 addresses: CIDR, or an address with `netmask`/`prefix`; without either cloud-init picks /24 or /64. */
const v1Address = stringCheck('an IP address or CIDR', (s) => parseCidr(s) !== undefined);

const v1Route = obj(
  {
    type: str({ enum: ['route'] }),
    destination: v1Address,
    network: v1Address,
    netmask: stringCheck('a netmask like 255.255.255.0', (s) => netmaskPrefix(s) !== undefined || isIPv6(s)),
    prefix: int({ minimum: 0, maximum: 128 }),
    gateway: ip,
    metric: int({ minimum: 0 }),
  },
  {
    unknownKeys: 'warning',
    check: (node, at) => {
      if (node.kind === 'map' && entryOf(node, 'destination') === undefined && entryOf(node, 'network') === undefined) {
        at.error(node, "missing required key 'destination' (or 'network')");
      }
    },
  },
);

const SUBNET_TYPES = ['dhcp', 'dhcp4', 'dhcp6', 'static', 'static6', 'manual', 'ipv6_dhcpv6-stateful', 'ipv6_dhcpv6-stateless', 'ipv6_slaac'];
const nameList = oneOf([list(str()), str()], { title: 'a list or a space-separated string' });

const v1Subnet = obj(
  {
    type: str({ enum: SUBNET_TYPES }),
    address: v1Address,
    netmask: stringCheck('a netmask like 255.255.255.0', (s) => netmaskPrefix(s) !== undefined || isIPv6(s)),
    prefix: int({ minimum: 0, maximum: 128 }),
    gateway: ip,
    dns_nameservers: oneOf([list(ip), str()], { title: 'a list of addresses' }),
    dns_search: nameList,
    routes: list(v1Route),
    control: str({ enum: ['auto', 'hotplug', 'manual'] }),
    mtu,
    metric: int({ minimum: 0 }),
    ipv4: bool(),
    ipv6: bool(),
  },
  {
    required: ['type'],
    unknownKeys: 'warning',
    check: (node, at) => {
      if (node.kind !== 'map') return;
      const type = entryOf(node, 'type');
      const t = type === undefined ? undefined : text(type.value);
      const address = entryOf(node, 'address');
      if ((t === 'static' || t === 'static6') && address === undefined) at.error(node, `a ${t} subnet needs 'address'`);
      const a = address === undefined ? undefined : text(address.value);
      const cidr = a === undefined ? undefined : parseCidr(a);
      if (address !== undefined && cidr !== undefined) {
        if (t === 'static6' && cidr.version === 4) at.child('address').error(address.value, 'a static6 subnet takes an IPv6 address');
        if (cidr.prefix === undefined && entryOf(node, 'netmask') === undefined && entryOf(node, 'prefix') === undefined) {
          at.child('address').warning(address.value, `no prefix length: cloud-init assumes /${cidr.version === 4 ? 24 : 64}; write ${a ?? ''}/${cidr.version === 4 ? 24 : 64} to say so`);
        }
      }
    },
  },
);

const v1Common = { type: str(), name: ifname, mac_address: mac, mtu, subnets: list(v1Subnet), 'accept-ra': bool(), params: { type: 'map', values: { type: 'any' } } as Schema };
const V1_TYPES: Readonly<Record<string, ObjectSchema>> = {
  physical: obj({ ...v1Common, wakeonlan: bool(), keep_configuration: bool() }, { required: ['name'], unknownKeys: 'warning' }),
  bond: obj({ ...v1Common, bond_interfaces: list(ifname) }, { required: ['name', 'bond_interfaces', 'params'], unknownKeys: 'warning' }),
  bridge: obj({ ...v1Common, bridge_interfaces: list(ifname) }, { required: ['name', 'bridge_interfaces'], unknownKeys: 'warning' }),
  vlan: obj({ ...v1Common, vlan_link: ifname, vlan_id: int({ minimum: 0, maximum: 4094 }) }, { required: ['name', 'vlan_link', 'vlan_id'], unknownKeys: 'warning' }),
  loopback: obj({ type: str(), name: str(), subnets: list(v1Subnet) }, { required: ['name'], unknownKeys: 'warning' }),
  infiniband: obj({ ...v1Common }, { required: ['name'], unknownKeys: 'warning' }),
  nameserver: obj({ type: str(), address: oneOf([ip, list(ip)], { title: 'an address or a list of addresses' }), search: nameList, interface: ifname }, { required: ['address'], unknownKeys: 'warning' }),
  route: obj({ ...v1Route.properties, type: str() }, { check: v1Route.check, unknownKeys: 'warning' }),
};

function validateV1(root: MapNode, at: Cursor): void {
  validateNode(root, obj({ version: { type: 'any' }, config: { type: 'any' } }, { required: ['config'], unknownKeys: 'warning' }), at);
  const config = entryOf(root, 'config');
  if (config === undefined) return;
  const here = at.child('config');
  if (config.value.kind !== 'seq') {
    here.error(config.value, `version 1 config is a list of entries (or 'disabled'), got ${describeNode(config.value)}`);
    return;
  }
  const names = new Map<string, number>();
  config.value.items.forEach((item, i) => {
    const itemAt = here.child(i);
    if (item.kind !== 'map') {
      itemAt.error(item, `expected a mapping with a type, got ${describeNode(item)}`);
      return;
    }
    const typeEntry = entryOf(item, 'type');
    const type = typeEntry === undefined ? undefined : text(typeEntry.value);
    if (typeEntry === undefined) {
      itemAt.error(item, "missing required key 'type'");
      return;
    }
    const schema = type === undefined ? undefined : V1_TYPES[type];
    if (schema === undefined) {
      itemAt.child('type').error(typeEntry.value, `type must be one of ${Object.keys(V1_TYPES).join(', ')}`);
      return;
    }
    validateNode(item, schema, itemAt);
    const nameEntry = entryOf(item, 'name');
    const name = nameEntry === undefined ? undefined : text(nameEntry.value);
    if (name !== undefined && nameEntry !== undefined && type !== 'nameserver' && type !== 'route') {
      const prev = names.get(name);
      if (prev !== undefined) itemAt.child('name').error(nameEntry.value, `interface '${name}' is already defined at /config/${prev}`);
      else names.set(name, i);
    }
  });
}

// --- version 2 (netplan) ------------------------------------------------------------------------
/** netplan wants addresses in CIDR form; it refuses an address without a prefix length. */
const v2Address = stringCheck('an address with a prefix length, like 192.0.2.10/24', (s) => parseCidr(s)?.prefix !== undefined && !s.split('/')[1]?.includes('.'));

const v2Route = obj(
  {
    to: stringCheck("a destination CIDR or 'default'", (s) => s === 'default' || parseCidr(s) !== undefined),
    via: ip,
    from: ip,
    metric: int({ minimum: 0 }),
    'on-link': bool(),
    table: int({ minimum: 0 }),
    type: str({ enum: ['unicast', 'anycast', 'blackhole', 'broadcast', 'local', 'multicast', 'nat', 'prohibit', 'throw', 'unreachable', 'xresolve'] }),
    scope: str({ enum: ['global', 'link', 'host'] }),
    mtu,
  },
  { required: ['to'], unknownKeys: 'warning' },
);

const dhcpOverrides = obj(
  {
    'use-dns': bool(), 'use-ntp': bool(), 'send-hostname': bool(), 'use-hostname': bool(), 'use-mtu': bool(),
    hostname: str(), 'use-routes': bool(), 'route-metric': int({ minimum: 0 }), 'use-domains': oneOf([bool(), str({ enum: ['route'] })]),
  },
  { unknownKeys: 'warning' },
);

const v2Common: Record<string, Schema> = {
  renderer: str({ enum: ['networkd', 'NetworkManager'] }),
  dhcp4: bool(),
  dhcp6: bool(),
  'dhcp4-overrides': dhcpOverrides,
  'dhcp6-overrides': dhcpOverrides,
  'dhcp-identifier': str({ enum: ['mac', 'duid'] }),
  addresses: list(oneOf([v2Address, { type: 'map', values: { type: 'any' } }], { title: 'an address with a prefix length' })),
  gateway4: ipv4,
  gateway6: ipv6,
  nameservers: obj({ addresses: list(ip), search: list(str()) }),
  routes: list(v2Route),
  'routing-policy': list({ type: 'any' }),
  mtu,
  'ipv6-mtu': int({ minimum: 1280 }),
  macaddress: mac,
  optional: bool(),
  critical: bool(),
  'accept-ra': bool(),
  'ipv6-privacy': bool(),
  'link-local': list(str({ enum: ['ipv4', 'ipv6'] })),
  'activation-mode': str({ enum: ['manual', 'off'] }),
};

const match = obj({ name: str(), macaddress: mac, driver: oneOf([str(), list(str())], { title: 'a driver name or a list' }) }, { unknownKeys: 'warning' });

function deviceSchema(extra: Record<string, Schema>, required: readonly string[] = []): ObjectSchema {
  return obj(
    { ...v2Common, ...extra },
    {
      required,
      unknownKeys: 'warning',
      check: (node, at) => {
        if (node.kind !== 'map') return;
        const gw = ['gateway4', 'gateway6'].map((k) => entryOf(node, k)).find((e) => e !== undefined);
        if (gw !== undefined) at.child(gw.name).warning(gw.keyStart, `${gw.name} is deprecated in netplan; write routes: [{to: default, via: ...}]`);
        const setName = entryOf(node, 'set-name');
        if (setName !== undefined && entryOf(node, 'match') === undefined) at.child('set-name').error(setName.keyStart, "set-name needs a match (netplan: 'set-name: requires match: properties')");
      },
    },
  );
}

const V2_SECTIONS: Readonly<Record<string, ObjectSchema>> = {
  ethernets: deviceSchema({ match, 'set-name': ifname, wakeonlan: bool() }),
  bonds: deviceSchema({
    interfaces: list(str()),
    parameters: obj(
      {
        mode: str({ enum: ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] }),
        'lacp-rate': str({ enum: ['slow', 'fast'] }),
        'mii-monitor-interval': oneOf([int({ minimum: 0 }), str()]),
        'min-links': int({ minimum: 0 }),
        'transmit-hash-policy': str({ enum: ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4'] }),
        'ad-select': str({ enum: ['stable', 'bandwidth', 'count'] }),
        'all-slaves-active': bool(),
        'arp-interval': oneOf([int({ minimum: 0 }), str()]),
        'arp-ip-targets': list(ipv4),
        'arp-validate': str({ enum: ['none', 'active', 'backup', 'all'] }),
        'arp-all-targets': str({ enum: ['any', 'all'] }),
        'up-delay': oneOf([int({ minimum: 0 }), str()]),
        'down-delay': oneOf([int({ minimum: 0 }), str()]),
        'fail-over-mac-policy': str({ enum: ['none', 'active', 'follow'] }),
        'gratuitous-arp': int({ minimum: 1, maximum: 255 }),
        'gratuitious-arp': int({ minimum: 1, maximum: 255, deprecated: "netplan spells it 'gratuitous-arp'" }),
        'packets-per-slave': int({ minimum: 0 }),
        'primary-reselect-policy': str({ enum: ['always', 'better', 'failure'] }),
        'resend-igmp': int({ minimum: 0, maximum: 255 }),
        'learn-packet-interval': oneOf([int({ minimum: 1 }), str()]),
        primary: str(),
      },
      { unknownKeys: 'warning' },
    ),
  }),
  bridges: deviceSchema({
    interfaces: list(str()),
    parameters: obj(
      {
        'ageing-time': oneOf([int({ minimum: 0 }), str()]),
        'aging-time': oneOf([int({ minimum: 0 }), str()]),
        priority: int({ minimum: 0, maximum: 65535 }),
        'port-priority': { type: 'map', values: int({ minimum: 0, maximum: 63 }) },
        'forward-delay': oneOf([int({ minimum: 0 }), str()]),
        'hello-time': oneOf([int({ minimum: 0 }), str()]),
        'max-age': oneOf([int({ minimum: 0 }), str()]),
        'path-cost': { type: 'map', values: int({ minimum: 0 }) },
        stp: bool(),
      },
      { unknownKeys: 'warning' },
    ),
  }),
  vlans: deviceSchema({ id: int({ minimum: 0, maximum: 4094 }), link: str() }, ['id', 'link']),
  wifis: deviceSchema({
    match,
    'set-name': ifname,
    wakeonlan: bool(),
    'access-points': { type: 'map', values: obj({ password: str(), mode: str({ enum: ['infrastructure', 'ap', 'adhoc'] }), bssid: mac, band: str({ enum: ['5GHz', '2.4GHz'] }), channel: int({ minimum: 1 }), hidden: bool(), auth: { type: 'map', values: { type: 'any' } } }, { unknownKeys: 'warning' }) },
  }),
};

function validateV2(root: MapNode, at: Cursor): void {
  const sections: Record<string, Schema> = { version: { type: 'any' }, renderer: str({ enum: ['networkd', 'NetworkManager'] }) };
  for (const [name, device] of Object.entries(V2_SECTIONS)) sections[name] = { type: 'map', values: device, keyPattern: /^\S+$/, keyMessage: 'is not a device id' };
  validateNode(root, obj(sections, { unknownKeys: 'warning', unknownKeyNote: 'cloud-init passes it to netplan but does not check it' }), at);
  // Device ids that other devices may refer to, and who already claimed each member.
  const ids = new Map<string, string>();
  for (const section of Object.keys(V2_SECTIONS)) {
    const s = entryOf(root, section)?.value;
    if (s?.kind !== 'map') continue;
    for (const e of s.entries) {
      const prev = ids.get(e.name);
      if (prev !== undefined) at.child(section).child(e.name).error(e.keyStart, `device id '${e.name}' is also defined in ${prev}`);
      else ids.set(e.name, section);
      if (section !== 'ethernets' && section !== 'wifis' && e.name.length > 15) {
        at.child(section).child(e.name).error(e.keyStart, `'${e.name}' becomes the interface name and is longer than 15 characters`);
      }
    }
  }
  const claimed = new Map<string, string>();
  for (const section of ['bonds', 'bridges']) {
    const s = entryOf(root, section)?.value;
    if (s?.kind !== 'map') continue;
    for (const dev of s.entries) {
      const members = entryOf(dev.value, 'interfaces')?.value;
      if (members?.kind !== 'seq') continue;
      members.items.forEach((m, i) => {
        const name = text(m);
        if (name === undefined) return;
        const memberAt = at.child(section).child(dev.name).child('interfaces').child(i);
        if (!ids.has(name)) memberAt.error(m, `interface '${name}' is not defined in this network-config`);
        const owner = claimed.get(name);
        if (owner !== undefined) memberAt.error(m, `interface '${name}' is already a member of ${owner}`);
        else claimed.set(name, `${section}/${dev.name}`);
      });
    }
  }
  const vlans = entryOf(root, 'vlans')?.value;
  if (vlans?.kind === 'map') {
    for (const v of vlans.entries) {
      const link = entryOf(v.value, 'link');
      const name = link === undefined ? undefined : text(link.value);
      if (link !== undefined && name !== undefined && !ids.has(name)) at.child('vlans').child(v.name).child('link').error(link.value, `link '${name}' is not defined in this network-config`);
    }
  }
}

/** Validate a network-config file (YAML or JSON). */
export function validateNetworkConfig(data: Uint8Array, file: string): NetworkConfigReport {
  const { text: source, valid } = decodeText(data);
  const lc = new LineIndex(source);
  const report = new ProblemReport(file, lc);
  if (!valid) {
    report.error(Math.max(0, source.indexOf('\ufffd')), '', 'not valid UTF-8');
    return { problems: report.problems };
  }
  const { root } = parseYaml(source, report);
  if (root === undefined) return { problems: report.problems };
  const at = new Cursor(report, '');
  if (root.kind !== 'map') {
    report.error(root.start, '', `network-config is a mapping with a version, got ${describeNode(root)}`);
    return { problems: report.problems };
  }
  // stages.py: a top-level `network` key holds the configuration.
  const wrapped = entryOf(root, 'network');
  const cfg = wrapped === undefined ? root : wrapped.value;
  const cfgAt = wrapped === undefined ? at : at.child('network');
  if (cfg.kind !== 'map') {
    cfgAt.error(cfg, `expected a mapping with a version, got ${describeNode(cfg)}`);
    return { problems: report.problems };
  }
  if (wrapped !== undefined && root.entries.length > 1) {
    for (const e of root.entries) if (e !== wrapped) at.child(e.name).warning(e.keyStart, "ignored: with a top-level 'network' key cloud-init reads only that key");
  }
  const config = toPlain(cfg);
  const configEntry = entryOf(cfg, 'config');
  if (configEntry !== undefined && text(configEntry.value) === 'disabled') return { config, disabled: true, problems: report.problems };
  const versionEntry = entryOf(cfg, 'version');
  if (versionEntry === undefined) {
    cfgAt.error(cfg, "missing required key 'version' (1 or 2)");
    return { config, problems: report.problems };
  }
  const v = versionEntry.value;
  const version = v.kind === 'scalar' && (v.value === 1 || v.value === 2) && !v.float ? v.value : undefined;
  if (version === undefined) {
    cfgAt.child('version').error(v, `version must be 1 or 2, got ${describeNode(v)}`);
    return { config, problems: report.problems };
  }
  if (version === 1) validateV1(cfg, cfgAt);
  else validateV2(cfg, cfgAt);
  return { config, version, problems: report.problems };
}
