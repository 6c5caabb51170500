// Where user-data's script parts go, as cloud-init's part handlers put them
// (handlers/shell_script.py, shell_script_by_frequency.py, boot_hook.py): x-shellscript parts
// into the instance's scripts/ (run once per instance by scripts_user), x-shellscript-per-boot /
// -per-instance / -per-once into the shared scripts/per-*/ directories, boothooks into
// boothooks/ (run at once, every boot, with INSTANCE_ID in the environment).
import type { UserDataPart } from '../cloud-config/validate.js';

export interface ScriptLayout {
  /** In-root directories. */
  readonly instanceScripts: string;
  readonly perBoot: string;
  readonly perInstance: string;
  readonly perOnce: string;
  readonly boothooks: string;
}

export interface PartScript {
  /** In-root path of the script file. */
  readonly path: string;
  readonly content: Uint8Array;
  readonly kind: 'script' | 'boothook';
  /** The part it came from, for status messages. */
  readonly label: string;
}

/** cloud-init's util.clean_filename: '/' becomes '_', anything outside [A-Za-z0-9_.()-] is dropped. */
export function cleanFilename(name: string): string {
  return name.replace(/\//g, '_').replace(/[^A-Za-z0-9_.()-]/g, '');
}

/** Parts without a filename are named part-NNN by their position (handlers/__init__.py PART_FN_TPL). */
function fileNameOf(part: UserDataPart): string {
  const clean = part.filename === undefined ? '' : cleanFilename(part.filename);
  // '.' and '..' survive clean_filename; a part must not name the directory itself.
  return clean === '' || clean === '.' || clean === '..' ? `part-${String(part.index - 1).padStart(3, '0')}` : clean;
}

export function partScripts(parts: readonly UserDataPart[], layout: ScriptLayout): PartScript[] {
  const out: PartScript[] = [];
  for (const p of parts) {
    const dir =
      p.kind === 'x-shellscript' ? layout.instanceScripts
        : p.kind === 'x-shellscript-per-boot' ? layout.perBoot
          : p.kind === 'x-shellscript-per-instance' ? layout.perInstance
            : p.kind === 'x-shellscript-per-once' ? layout.perOnce
              : p.kind === 'cloud-boothook' ? layout.boothooks
                : undefined;
    if (dir === undefined) continue;
    let content = p.data;
    if (p.kind === 'cloud-boothook') {
      // boot_hook.py: the "#cloud-boothook" line is cut, CRLF becomes LF, leading space goes.
      const text = Buffer.from(p.data).toString('utf8');
      const body = (text.startsWith('#cloud-boothook') ? text.slice('#cloud-boothook'.length) : text).replace(/\r\n/g, '\n').replace(/^\s+/, '');
      content = Buffer.from(body, 'utf8');
    }
    out.push({ path: `${dir}/${fileNameOf(p)}`, content, kind: p.kind === 'cloud-boothook' ? 'boothook' : 'script', label: p.label });
  }
  return out;
}
