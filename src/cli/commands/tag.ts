// atomic tag SOURCE TARGET
// Make TARGET (default tag latest) name the image SOURCE names, as `docker tag`.
import { InvalidArgument } from '../../lib/errors.js';
import { parseNormalizedReference } from '../../formats/oci/reference.js';
import { connectAgent, pathName, type AgentOptions } from './agent-common.js';

export async function run(source: string, target: string, opts: AgentOptions): Promise<void> {
  const ref = parseNormalizedReference(target);
  if (ref.digest !== undefined) throw new InvalidArgument(`refusing to create a tag with a digest reference: ${target}`, { subject: target });
  const client = await connectAgent(opts);
  await client.request('POST', `/images/${pathName(source)}/tag`, { query: { repo: `${ref.domain}/${ref.path}`, tag: ref.tag ?? 'latest' } });
}
