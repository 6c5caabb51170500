// ostree refspecs: `REMOTE:REF` or a local `REF` (ostree_parse_refspec).
import { InvalidArgument } from '../../lib/errors.js';

export interface Refspec {
  readonly remote?: string;
  readonly ref: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const REF = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

export function parseRefspec(text: string): Refspec {
  const colon = text.indexOf(':');
  const remote = colon < 0 ? undefined : text.slice(0, colon);
  const ref = colon < 0 ? text : text.slice(colon + 1);
  if (remote !== undefined && !NAME.test(remote)) throw new InvalidArgument(`${JSON.stringify(text)}: ${JSON.stringify(remote)} is not a remote name`);
  if (!REF.test(ref)) throw new InvalidArgument(`${JSON.stringify(text)}: ${JSON.stringify(ref)} is not a ref like os/x86_64/stable`);
  return remote === undefined ? { ref } : { remote, ref };
}

export function formatRefspec(r: Refspec): string {
  return r.remote === undefined ? r.ref : `${r.remote}:${r.ref}`;
}
