// The iptables rules of bridge networking, as data: the adapter adds them idempotently (check,
// then append/insert) and deletes exactly these on release, so nothing of ours lingers and nothing
// of the host's is touched. The layout follows Docker's (libnetwork drivers/bridge, iptables
// userland-proxy=false): our own chains, jumped to from the built-in ones.
//
// nat   PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -j ATOMIC     published ports (DNAT)
//       POSTROUTING -j ATOMIC-POSTROUTING                             outbound masquerade
// filter FORWARD -j ATOMIC-ISOLATION-STAGE-1 (first), -j ATOMIC-FORWARD
//       ATOMIC-ISOLATION-STAGE-1/2: no traffic between two bridge networks (Docker's two stages)
//       ATOMIC-FORWARD: per bridge, replies and published ports in, anything out, icc
//       ATOMIC (filter): ACCEPT for each published container port
import type { PortProto } from './network-port-spec.js';

export type IptablesTable = 'nat' | 'filter';

export interface IptablesRule {
  readonly table: IptablesTable;
  readonly chain: string;
  /** The rule specification after `-A CHAIN`, e.g. ['-o', 'atomic0', '-j', 'DROP']. */
  readonly spec: readonly string[];
}

/** A jump from a built-in chain; `insertFirst` puts it at position 1 (ahead of the host's own FORWARD rules). */
export interface IptablesJump extends IptablesRule {
  readonly insertFirst: boolean;
}

export const CHAIN = {
  nat: 'ATOMIC',
  postrouting: 'ATOMIC-POSTROUTING',
  forward: 'ATOMIC-FORWARD',
  filter: 'ATOMIC',
  isolation1: 'ATOMIC-ISOLATION-STAGE-1',
  isolation2: 'ATOMIC-ISOLATION-STAGE-2',
} as const;

export const OWN_CHAINS: readonly { readonly table: IptablesTable; readonly chain: string }[] = [
  { table: 'nat', chain: CHAIN.nat },
  { table: 'nat', chain: CHAIN.postrouting },
  { table: 'filter', chain: CHAIN.filter },
  { table: 'filter', chain: CHAIN.forward },
  { table: 'filter', chain: CHAIN.isolation1 },
  { table: 'filter', chain: CHAIN.isolation2 },
];

/**
 * The jumps from the built-in chains. OUTPUT has no `! -d 127.0.0.0/8`: published ports answer on
 * 127.0.0.1 through DNAT instead of a userland proxy (see the route_localnet note in bridgeRules).
 * The isolation jump is inserted before ATOMIC-FORWARD so it is evaluated first.
 */
export function baseJumps(): IptablesJump[] {
  return [
    { table: 'nat', chain: 'PREROUTING', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN.nat], insertFirst: false },
    { table: 'nat', chain: 'OUTPUT', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN.nat], insertFirst: false },
    { table: 'nat', chain: 'POSTROUTING', spec: ['-j', CHAIN.postrouting], insertFirst: false },
    { table: 'filter', chain: 'FORWARD', spec: ['-j', CHAIN.forward], insertFirst: true },
    { table: 'filter', chain: 'FORWARD', spec: ['-j', CHAIN.isolation1], insertFirst: true },
  ];
}

export interface BridgePlan {
  readonly bridge: string;
  /** "172.17.0.0/16" */
  readonly subnet: string;
  readonly icc: boolean;
  readonly internal: boolean;
}

/**
 * The rules one bridge network needs, in order (the order matters within ATOMIC-FORWARD: replies,
 * published ports, outbound, container-to-container, then drop whatever else tries to enter).
 */
export function bridgeRules(n: BridgePlan): IptablesRule[] {
  const br = n.bridge;
  const rules: IptablesRule[] = [];
  if (n.internal) {
    // --internal: nothing leaves or enters the bridge except between its own ports.
    rules.push({ table: 'filter', chain: CHAIN.isolation1, spec: ['-i', br, '!', '-o', br, '-j', 'DROP'] });
    rules.push({ table: 'filter', chain: CHAIN.isolation1, spec: ['!', '-i', br, '-o', br, '-j', 'DROP'] });
  } else {
    rules.push({ table: 'filter', chain: CHAIN.isolation1, spec: ['-i', br, '!', '-o', br, '-j', CHAIN.isolation2] });
    rules.push({ table: 'filter', chain: CHAIN.isolation2, spec: ['-o', br, '-j', 'DROP'] });
    // Outbound NAT for the subnet, and for connections from the host's own addresses (127.0.0.1
    // after OUTPUT DNAT) into the bridge: a 127.x source cannot go on the wire.
    rules.push({ table: 'nat', chain: CHAIN.postrouting, spec: ['-s', n.subnet, '!', '-o', br, '-j', 'MASQUERADE'] });
    rules.push({ table: 'nat', chain: CHAIN.postrouting, spec: ['-o', br, '-m', 'addrtype', '--src-type', 'LOCAL', '-j', 'MASQUERADE'] });
  }
  rules.push({ table: 'filter', chain: CHAIN.forward, spec: ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'] });
  rules.push({ table: 'filter', chain: CHAIN.forward, spec: ['-o', br, '-j', CHAIN.filter] });
  if (!n.internal) rules.push({ table: 'filter', chain: CHAIN.forward, spec: ['-i', br, '!', '-o', br, '-j', 'ACCEPT'] });
  // Inter-container communication (com.docker.network.bridge.enable_icc): bridged frames reach
  // FORWARD because br_netfilter's bridge-nf-call-iptables is on.
  rules.push({ table: 'filter', chain: CHAIN.forward, spec: ['-i', br, '-o', br, '-j', n.icc ? 'ACCEPT' : 'DROP'] });
  // Docker gets this from FORWARD's DROP policy; we do not change the host's policy, so say it here.
  rules.push({ table: 'filter', chain: CHAIN.forward, spec: ['-o', br, '-j', 'DROP'] });
  return rules;
}

export interface PublishPlan {
  readonly proto: PortProto;
  /** '' = every local address. */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerIp: string;
  readonly containerPort: number;
  readonly bridge: string;
}

/** DNAT (host port -> container), the FORWARD accept, and the hairpin masquerade for one published port. */
export function publishRules(p: PublishPlan): IptablesRule[] {
  const dst = p.hostIp === '' || p.hostIp === '0.0.0.0' ? [] : ['-d', `${p.hostIp}/32`];
  const to = `${p.containerIp}:${p.containerPort}`;
  return [
    { table: 'nat', chain: CHAIN.nat, spec: [...dst, '-p', p.proto, '-m', p.proto, '--dport', String(p.hostPort), '-j', 'DNAT', '--to-destination', to] },
    { table: 'filter', chain: CHAIN.filter, spec: ['-d', `${p.containerIp}/32`, '!', '-i', p.bridge, '-o', p.bridge, '-p', p.proto, '-m', p.proto, '--dport', String(p.containerPort), '-j', 'ACCEPT'] },
    // A container reaching its own published port through the host address: the reply must come back via the host.
    { table: 'nat', chain: CHAIN.postrouting, spec: ['-s', `${p.containerIp}/32`, '-d', `${p.containerIp}/32`, '-p', p.proto, '-m', p.proto, '--dport', String(p.containerPort), '-j', 'MASQUERADE'] },
  ];
}
