// networks.json: the network state of the agent, written atomically (temp, fsync, rename, fsync
// dir) so a crash leaves either the old or the new state, never half of one.
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { fromSystemError } from '../../lib/errors.js';
import { EMPTY_NETWORK_STATE, parseNetworkState, type NetworkState } from '../../core/containers/network-state.js';

export async function readNetworkState(file: string): Promise<NetworkState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_NETWORK_STATE;
    throw fromSystemError(e, file, 'reading the network state');
  }
  return parseNetworkState(text, file);
}

export async function writeNetworkState(file: string, state: NetworkState): Promise<void> {
  await writeFileAtomically(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}
