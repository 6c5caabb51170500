// The modules that run commands: cc_bootcmd (every boot, early), cc_runcmd (writes the script
// that cc_scripts_user runs later) and cc_scripts_per_once / per_boot / per_instance / user
// (util.runparts over a scripts directory). Everything runs inside the root (chroot).
import type { PlainValue } from '../../cloud-config/yaml-document.js';
import { cloudDirOf, type ModuleInput, type ModulePlan } from '../module-input.js';
import { shellify } from '../shellify.js';
import type { RunPurpose } from '../steps.js';

/** Linux MAX_ARG_STRLEN: no single argv string may be longer (32 pages, with its NUL). */
const MAX_ARG_BYTES = 32 * 4096 - 1;

function join(dir: string, ...names: string[]): string {
  return [dir.replace(/\/+$/, ''), ...names].join('/');
}

/**
 * cc_bootcmd: the shellified list runs as one /bin/sh script with INSTANCE_ID in the
 * environment, so that lines share shell state (cd, variables) as they do in cloud-init. cloud-
 * init writes a temp file and runs `/bin/sh FILE`; we give the script to `sh -c` instead, which
 * needs no file in the root and behaves the same apart from $0.
 */
export function planBootcmd(input: ModuleInput): ModulePlan {
  if (!Object.hasOwn(input.config, 'bootcmd')) return { steps: [], problems: [] };
  const r = shellify(input.config['bootcmd']);
  if (!r.ok) return { steps: [], problems: [`/bootcmd: ${r.message}; bootcmd not run`] };
  if (new TextEncoder().encode(r.script).length > MAX_ARG_BYTES) return { steps: [], problems: [`/bootcmd: the script is longer than ${MAX_ARG_BYTES} bytes; put it in write_files and run that`] };
  return {
    steps: [{ action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/sh', '-c', r.script, 'bootcmd'] }, env: { INSTANCE_ID: input.instance.instanceId } }],
    problems: [],
  };
}

/** cc_runcmd: `<instance>/scripts/runcmd`, mode 0700; cc_scripts_user runs it. */
export function planRuncmd(input: ModuleInput): ModulePlan {
  if (!Object.hasOwn(input.config, 'runcmd')) return { steps: [], problems: [] };
  const cmds: PlainValue | undefined = input.config['runcmd'];
  const r = shellify(cmds);
  if (!r.ok) return { steps: [], problems: [`/runcmd: ${r.message}; runcmd not written`] };
  return {
    steps: [{ action: 'write-file', path: join(input.instanceDir, 'scripts', 'runcmd'), content: new TextEncoder().encode(r.script), mode: 0o700, owner: 'root:root', append: false }],
    problems: [],
  };
}

/** The directory each scripts_* module runs (cloud-init's paths: cpath scripts/per-*, ipath scripts). */
export function scriptsDir(input: ModuleInput, purpose: Exclude<RunPurpose, 'bootcmd'>): string {
  switch (purpose) {
    case 'scripts_user':
      return join(input.instanceDir, 'scripts');
    case 'scripts_per_instance':
      return join(cloudDirOf(input), 'scripts', 'per-instance');
    case 'scripts_per_boot':
      return join(cloudDirOf(input), 'scripts', 'per-boot');
    case 'scripts_per_once':
      return join(cloudDirOf(input), 'scripts', 'per-once');
  }
}

export function planScripts(input: ModuleInput, purpose: Exclude<RunPurpose, 'bootcmd'>): ModulePlan {
  return { steps: [{ action: 'run', purpose, command: { kind: 'run-parts', dir: scriptsDir(input, purpose) }, env: {} }], problems: [] };
}
