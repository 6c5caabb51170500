// atomic volume create [-d local] [--label K=V]... [-o K=V]... [NAME]
// Create a named volume (a random 64-hex name without NAME) and print its name.
import { InvalidArgument } from '../../lib/errors.js';
import { connectAgent, wantsJson, type AgentOptions } from './agent-common.js';

export interface VolumeCreateOptions extends AgentOptions {
  readonly driver?: string;
  readonly label?: string[];
  readonly opt?: string[];
  readonly json?: boolean;
  readonly format?: string;
}

export async function run(name: string | undefined, opts: VolumeCreateOptions): Promise<void> {
  const json = wantsJson(opts);
  const body = {
    Name: name ?? '',
    Driver: opts.driver ?? 'local',
    Labels: keyValues(opts.label, '--label', true),
    DriverOpts: keyValues(opts.opt, '--opt', false),
  };
  const client = await connectAgent(opts);
  const v = await client.json<{ Name: string }>('POST', '/volumes/create', { body });
  process.stdout.write(json ? JSON.stringify(v, null, 2) + '\n' : `${v.Name}\n`);
}

/** `K=V` flags; a label may be a bare key (empty value), as docker's --label allows. */
export function keyValues(flags: readonly string[] | undefined, flag: string, bareKeyOk: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags ?? []) {
    const eq = f.indexOf('=');
    if (eq === 0 || (eq < 0 && !bareKeyOk)) throw new InvalidArgument(`${flag} ${JSON.stringify(f)}: expected KEY=VALUE`);
    if (eq < 0) out[f] = '';
    else out[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return out;
}
