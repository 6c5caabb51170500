// cc_final_message: the message (the user's `final_message` or cloud-init's default) with its
// variables filled in, recorded for the orchestrator to print and log, and
// `<instance>/boot-finished` ("uptime - timestamp - v. version").
import type { InstanceData } from '../model.js';
import type { ModuleInput, ModulePlan } from '../module-input.js';

/**
 * cloud-init's FINAL_MESSAGE_DEF (a jinja template), naming atomicd: the version is ours, and a
 * console line saying "Cloud-init v. 0.1.0" would send people looking for the wrong program.
 */
export const FINAL_MESSAGE_DEFAULT = '## template: jinja\natomicd v. {{version}} finished at {{timestamp}}. Datasource {{datasource}}.  Up {{uptime}} seconds';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** util.time_rfc2822: `%a, %d %b %Y %H:%M:%S %z` in UTC. */
export function timeRfc2822(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()] ?? ''}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** str(datasource): `DataSourceNoCloud [seed=/dev/sr0]` (DataSourceNoCloud.__str__ without dsmode). */
export function datasourceDescription(instance: InstanceData): string {
  return instance.datasource === 'Ec2' ? 'DataSourceEc2' : `DataSource${instance.datasource} [seed=${instance.source}]`;
}

/**
 * templater.render_string: `## template: jinja` messages get their `{{ name }}` variables (the
 * only jinja a final message needs; anything else is reported), others cloud-init's basic
 * `$name` / `${name}` substitution. Unknown names are left as written and reported (cloud-init
 * fails to render and prints nothing).
 */
export function renderFinalMessage(template: string, subs: Readonly<Record<string, string>>): { text: string; problems: string[] } {
  const problems: string[] = [];
  const lookup = (name: string, written: string): string => {
    const v = subs[name];
    if (v !== undefined) return v;
    problems.push(`/final_message: unknown variable ${written}`);
    return written;
  };
  const nl = template.indexOf('\n');
  const ident = nl < 0 ? template : template.slice(0, nl);
  const kind = /^##\s*template:(.*)/i.exec(ident);
  if (kind === null) {
    return { text: template.replace(/\$\{([A-Za-z0-9_.]+)\}|\$([A-Za-z0-9_.]+)/g, (m: string, a?: string, b?: string) => lookup(a ?? b ?? '', m)), problems };
  }
  const engine = (kind[1] ?? '').trim().toLowerCase();
  const rest = nl < 0 ? '' : template.slice(nl + 1);
  if (engine !== 'jinja') {
    problems.push(`/final_message: template type '${engine}' is not supported; printed as written`);
    return { text: rest, problems };
  }
  if (/\{%|\{#/.test(rest)) problems.push('/final_message: jinja statements and comments are not rendered by atomicd, only {{ variables }}');
  return { text: rest.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m: string, name: string) => lookup(name, m)), problems };
}

export function planFinalMessage(input: ModuleInput): ModulePlan {
  const raw = input.config['final_message'];
  const given = typeof raw === 'string' ? raw.trim() : raw === undefined || raw === null ? '' : String(raw).trim();
  const template = given === '' ? FINAL_MESSAGE_DEFAULT : given;
  // util.uptime reads /proc/uptime's first field ("??" when it cannot).
  const uptime = input.now !== undefined && input.bootTime !== undefined ? ((input.now.getTime() - input.bootTime.getTime()) / 1000).toFixed(2) : '??';
  const timestamp = input.now !== undefined ? timeRfc2822(input.now) : '??';
  const version = input.version ?? 'unknown';
  const base = { uptime, timestamp, version, datasource: datasourceDescription(input.instance) };
  const subs: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(base)) subs[k.toUpperCase()] = v;
  const { text, problems } = renderFinalMessage(template, subs);
  const dir = input.instanceDir.replace(/\/+$/, '');
  return {
    steps: [
      { action: 'record', what: 'final-message', data: { message: text } },
      { action: 'write-file', path: `${dir}/boot-finished`, content: new TextEncoder().encode(`${uptime} - ${timestamp} - v. ${version}\n`), mode: 0o644, owner: 'root:root', append: false },
    ],
    problems,
  };
}
