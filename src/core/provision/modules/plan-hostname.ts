// cc_set_hostname, cc_update_hostname and cc_update_etc_hosts. The name comes from util.
// get_hostname_fqdn: `fqdn` and `hostname` from the config, else the datasource's local-hostname
// (DataSource.get_hostname). cloud-init's last fallback, the running system's own hostname, has
// no meaning for a root tree we are provisioning: without a name we plan nothing.
import type { PlainValue } from '../../cloud-config/yaml-document.js';
import { optionBool, translateBool } from '../config-values.js';
import { cloudDirOf, type ModuleInput, type ModulePlan } from '../module-input.js';
import type { Step } from '../steps.js';

export interface HostnameFqdn {
  readonly hostname: string;
  readonly fqdn: string;
}

function isIpv4(s: string): boolean {
  return /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(s);
}

/** DataSource.get_hostname(fqdn) from metadata local-hostname; undefined when there is none. */
function metadataHostname(input: ModuleInput, fqdn: boolean): string | undefined {
  const md = input.instance.metadata['local-hostname'];
  const lhost = input.instance.localHostname ?? (typeof md === 'string' ? md : undefined);
  if (lhost === undefined || lhost === '') return undefined;
  // LP: #475354: an IPv4 address becomes ip-a-b-c-d.
  const toks = isIpv4(lhost) ? [`ip-${lhost.replace(/\./g, '-')}`] : lhost.split('.');
  const host = toks[0] ?? '';
  const domain = toks.length > 1 ? toks.slice(1).join('.') : 'localdomain';
  return fqdn && domain !== 'localdomain' ? `${host}.${domain}` : host;
}

function str(v: PlainValue | undefined): string | undefined {
  return typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v);
}

/** util.get_hostname_fqdn. */
export function getHostnameFqdn(input: ModuleInput): HostnameFqdn | undefined {
  const cfg = input.config;
  const cfgHostname = Object.hasOwn(cfg, 'hostname') ? str(cfg['hostname']) : undefined;
  if (Object.hasOwn(cfg, 'fqdn') && str(cfg['fqdn']) !== undefined) {
    // The user gave an fqdn: the hostname defaults to its first label.
    const fqdn = str(cfg['fqdn']) ?? '';
    return { fqdn, hostname: cfgHostname ?? fqdn.split('.')[0] ?? fqdn };
  }
  if (cfgHostname !== undefined && cfgHostname.indexOf('.') > 0) {
    // A hostname with dots is taken as the fqdn.
    return { fqdn: cfgHostname, hostname: cfgHostname.slice(0, cfgHostname.indexOf('.')) };
  }
  const hostname = cfgHostname ?? metadataHostname(input, false);
  if (hostname === undefined || hostname === '') return undefined;
  return { hostname, fqdn: metadataHostname(input, true) ?? hostname };
}

/** Distro._select_hostname; Debian's prefer_fqdn default is false. */
function selectHostname(input: ModuleInput, h: HostnameFqdn): string {
  if (optionBool(input.config, 'prefer_fqdn_over_hostname', false) && h.fqdn !== '') return h.fqdn;
  return h.hostname === '' ? h.fqdn : h.hostname;
}

function planHostname(input: ModuleInput, update: boolean): ModulePlan {
  if (optionBool(input.config, 'preserve_hostname', false)) return { steps: [], problems: [] };
  const h = getHostnameFqdn(input);
  if (h === undefined) return { steps: [], problems: [] };
  const hostname = selectHostname(input, h);
  const step: Step = update
    ? { action: 'set-hostname', hostname, previousHostnameFile: `${cloudDirOf(input).replace(/\/$/, '')}/data/previous-hostname` }
    : { action: 'set-hostname', hostname };
  return { steps: [step], problems: [] };
}

/** cc_set_hostname (per instance). */
export function planSetHostname(input: ModuleInput): ModulePlan {
  return planHostname(input, false);
}

/** cc_update_hostname (every boot): leaves a hostname the user changed since alone. */
export function planUpdateHostname(input: ModuleInput): ModulePlan {
  return planHostname(input, true);
}

/** cc_update_etc_hosts: `true` (or the deprecated 'template') renders, 'localhost' edits. */
export function planUpdateEtcHosts(input: ModuleInput): ModulePlan {
  const manage = input.config['manage_etc_hosts'];
  let mode: 'template' | 'localhost' | undefined;
  if (translateBool(manage, ['template'])) mode = 'template';
  else if (manage === 'localhost') mode = 'localhost';
  if (mode === undefined) return { steps: [], problems: [] };
  const h = getHostnameFqdn(input);
  if (h === undefined || h.hostname === '') return { steps: [], problems: ["/manage_etc_hosts: set, but no hostname was found (no hostname or fqdn in the config, no local-hostname in the metadata)"] };
  return { steps: [{ action: 'write-etc-hosts', mode, hostname: h.hostname, fqdn: h.fqdn }], problems: [] };
}
