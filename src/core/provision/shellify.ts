// util.shellify: how cloud-init turns bootcmd and runcmd lists into one shell script. A string
// item is a line of shell as it is; a list item is an argv, each word single-quoted; null items
// (a YAML comment-only entry) are skipped.
import type { PlainValue } from '../cloud-config/yaml-document.js';
import { scalarText } from '../cloud-config/yaml-document.js';

/** Python's str() of a YAML scalar inside an argv list. */
function word(v: PlainValue): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null) return 'None';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (v instanceof Date || v instanceof Uint8Array) return scalarText(v);
  return JSON.stringify(v);
}

export type ShellifyResult = { readonly ok: true; readonly script: string; readonly commands: number } | { readonly ok: false; readonly message: string };

/** `#!/bin/sh` and one line per command; a non-list input or an item of another type is an error. */
export function shellify(cmds: PlainValue | undefined): ShellifyResult {
  if (!Array.isArray(cmds)) return { ok: false, message: `expected a list of commands, got ${cmds === null ? 'null' : typeof cmds}` };
  let script = '#!/bin/sh\n';
  let commands = 0;
  for (const [i, c] of cmds.entries()) {
    if (Array.isArray(c)) {
      script += `${c.map((w) => `'${word(w).replace(/'/g, "'\\''")}'`).join(' ')}\n`;
      commands += 1;
    } else if (typeof c === 'string') {
      script += `${c}\n`;
      commands += 1;
    } else if (c !== null) {
      return { ok: false, message: `item ${i} is ${typeof c === 'object' ? 'a mapping' : `the ${typeof c} ${String(c)}`}: a command is a string or a list of strings` };
    }
  }
  return { ok: true, script, commands };
}
