// atomic volume inspect NAME...
// The volumes as a JSON array (Docker's Volume objects). A name that is not found is reported and
// the others still print; the exit status is then 1, as with `docker volume inspect`.
import { inspectEach, type AgentOptions } from './agent-common.js';

export async function run(names: readonly string[], opts: AgentOptions & { debug?: boolean }): Promise<void> {
  await inspectEach(names, (n) => `/volumes/${encodeURIComponent(n)}`, opts);
}
