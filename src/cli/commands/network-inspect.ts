// atomic network inspect NETWORK...
// The networks as a JSON array (Docker's NetworkResource). A network that is not found is
// reported and the others still print; the exit status is then 1, as with `docker network inspect`.
import { inspectEach, type AgentOptions } from './agent-common.js';

export async function run(names: readonly string[], opts: AgentOptions & { debug?: boolean }): Promise<void> {
  await inspectEach(names, (n) => `/networks/${encodeURIComponent(n)}`, opts);
}
