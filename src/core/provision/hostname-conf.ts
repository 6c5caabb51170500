// /etc/hostname as cloud-init's distros/parsers/hostname.py HostnameConf reads and edits it: blank
// lines and comments are kept, the (single) name line is replaced in place or appended.

type HostnameLine = { readonly kind: 'text'; readonly line: string } | { readonly kind: 'hostname'; readonly name: string; readonly tail: string };

function parse(text: string): HostnameLine[] | undefined {
  const lines = text === '' ? [] : text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  const names = new Set<string>();
  const out = lines.map((line): HostnameLine => {
    const t = line.trim();
    if (t === '') return { kind: 'text', line };
    const hash = t.indexOf('#');
    const head = hash < 0 ? t : t.slice(0, hash);
    if (head === '') return { kind: 'text', line };
    names.add(head);
    return { kind: 'hostname', name: head, tail: hash < 0 ? '' : t.slice(hash) };
  });
  // HostnameConf._parse raises on several names; the file is then treated as unreadable.
  return names.size > 1 ? undefined : out;
}

/** The name in an /etc/hostname text, or undefined (no name, or several). */
export function readHostnameConf(text: string): string | undefined {
  const lines = parse(text);
  const h = lines?.find((l): l is Extract<HostnameLine, { kind: 'hostname' }> => l.kind === 'hostname');
  return h?.name;
}

/** `text` (undefined: no file) with its name set to `hostname` (Debian _write_hostname). */
export function setHostnameConf(text: string | undefined, hostname: string): string {
  const name = hostname.trim();
  const lines = (text === undefined ? [] : parse(text)) ?? [];
  let replaced = false;
  const out = lines.map((l) => {
    if (l.kind !== 'hostname' || name === '') return l;
    replaced = true;
    return { ...l, name };
  });
  if (!replaced && name !== '') out.push({ kind: 'hostname', name, tail: '' });
  const s = out.map((l) => (l.kind === 'text' ? `${l.line}\n` : `${l.name}${l.tail}\n`)).join('');
  return s.endsWith('\n') ? s : `${s}\n`;
}
