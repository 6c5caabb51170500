// /etc/hosts as cloud-init's cc_update_etc_hosts writes it on Debian: `manage_etc_hosts: true`
// renders templates/hosts.debian.tmpl; `manage_etc_hosts: localhost` edits the file through
// distros/parsers/hosts.py HostsConf and Distro.update_etc_hosts.

/** Debian's loopback address for the host's own name (distros/debian.py _get_localhost_ip). */
export const DEBIAN_LOCALHOST_IP = '127.0.1.1';

/**
 * templates/hosts.debian.tmpl rendered by cloud-init's jinja templater (the `{# #}` comments
 * drop out, trim_blocks removes their line breaks; the output ends with an empty line).
 */
export function renderEtcHostsTemplate(hostname: string, fqdn: string): string {
  return [
    "# Your system has configured 'manage_etc_hosts' as True.",
    '# As a result, if you wish for changes to this file to persist',
    '# then you will need to either',
    '# a.) make changes to the master file in /etc/cloud/templates/hosts.debian.tmpl',
    "# b.) change or remove the value of 'manage_etc_hosts' in",
    '#     /etc/cloud/cloud.cfg or cloud-config from user-data',
    '#',
    `${DEBIAN_LOCALHOST_IP} ${fqdn} ${hostname}`,
    '127.0.0.1 localhost',
    '',
    '# The following lines are desirable for IPv6 capable hosts',
    '::1 localhost ip6-localhost ip6-loopback',
    'ff02::1 ip6-allnodes',
    'ff02::2 ip6-allrouters',
    '',
    '',
  ].join('\n');
}

type HostsLine = { readonly kind: 'text'; readonly line: string } | { readonly kind: 'entry'; readonly pieces: readonly string[]; readonly tail: string };

/** distros/parsers chop_comment + HostsConf._parse. */
function parseHosts(text: string): HostsLine[] {
  // Python's str.splitlines: no empty last line for a trailing newline.
  const lines = text === '' ? [] : text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  return lines.map((line): HostsLine => {
    const t = line.trim();
    if (t === '') return { kind: 'text', line };
    const hash = t.indexOf('#');
    const head = hash < 0 ? t : t.slice(0, hash);
    const tail = hash < 0 ? '' : t.slice(hash);
    if (head === '') return { kind: 'text', line };
    return { kind: 'entry', pieces: head.split(/\s+/).filter((p) => p !== ''), tail };
  });
}

/** HostsConf.__str__: entry fields joined by tabs, the comment glued on. */
function formatHosts(lines: readonly HostsLine[]): string {
  return lines.map((l) => (l.kind === 'text' ? `${l.line}\n` : `${l.pieces.join('\t')}${l.tail}\n`)).join('');
}

/**
 * Distro.update_etc_hosts: make sure a 127.0.1.1 line carries `fqdn hostname`, keeping every
 * other line. Returns undefined when nothing needs to change. `header` is the "# Added by ..."
 * line cloud-init writes first when the file did not exist (existing undefined).
 */
export function updateEtcHostsLocalhost(existing: string | undefined, hostname: string, fqdn: string, header: string): string | undefined {
  const lines = parseHosts(existing ?? '');
  const ip = DEBIAN_LOCALHOST_IP;
  const prev = lines.flatMap((l) => (l.kind === 'entry' && l.pieces[0] === ip ? [l.pieces.slice(1)] : []));
  let out: HostsLine[];
  if (prev.length === 0) {
    out = [...lines, { kind: 'entry', pieces: [ip, fqdn, hostname], tail: '' }];
  } else {
    if (prev.some((e) => e[0] === fqdn && e.slice(1).includes(hostname))) return undefined;
    // Every line for the address goes, and comes back at the end with the new entry after it.
    const kept = lines.filter((l) => l.kind === 'text' || (l.pieces.length > 0 && l.pieces[0] !== ip));
    const again = [...prev, [fqdn, hostname]].filter((e) => e.length >= 1).map((e): HostsLine => ({ kind: 'entry', pieces: [ip, ...e], tail: '' }));
    out = [...kept, ...again];
  }
  return `${existing === undefined ? `${header}\n` : ''}${formatHosts(out)}\n`;
}
