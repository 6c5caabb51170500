// The merged cloud-config atomicd acts on equals what Debian's cloud-init makes of the same seed:
// every example under cloud-init/examples/, and multipart user-data built with `atomic cloud-init
// mime` (parts with and without merge_how, in different orders). Ours comes from `atomic cloud-init
// render`, which shares its code path with `atomicd provision`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nocloudOracle } from '../oracles/nocloud.js';
import { REPO, runCli, tempDir } from '../helpers.js';

const EXAMPLES = join(REPO, 'cloud-init', 'examples');

function oursOf(seed: string): { cloudConfig: unknown; instanceId: string } {
  const r = runCli(['cloud-init', 'render', '--json', '--seed', seed]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { cloudConfig: unknown; instanceId: string };
}

function compare(seed: string, work: string, what: string): void {
  const theirs = nocloudOracle(seed, work);
  assert.equal(theirs.found, true, `${what}: cloud-init found the seed`);
  const ours = oursOf(seed);
  assert.equal(ours.instanceId, theirs.instance_id, `${what}: instance-id`);
  // JSON round trip: both sides as plain data (cloud-init's YAML dates and ints included).
  assert.deepEqual(JSON.parse(JSON.stringify(ours.cloudConfig)), JSON.parse(JSON.stringify(theirs.cloud_config ?? {})), `${what}: merged cloud-config`);
}

test('every example seed: our merged cloud-config equals cloud-init\'s', (t) => {
  const dir = tempDir(t);
  const examples = readdirSync(EXAMPLES).filter((e) => existsSync(join(EXAMPLES, e, 'user-data')));
  assert.ok(examples.length >= 2, `examples with user-data: ${examples.join(', ')}`);
  for (const e of examples) {
    const seed = join(dir, e);
    mkdirSync(seed);
    writeFileSync(join(seed, 'user-data'), readFileSync(join(EXAMPLES, e, 'user-data')));
    const md = join(EXAMPLES, e, 'meta-data');
    writeFileSync(join(seed, 'meta-data'), existsSync(md) ? readFileSync(md) : `instance-id: iid-${e}\n`);
    compare(seed, join(dir, `oracle-${e}`), e);
  }
});

test('multipart user-data from atomic cloud-init mime: parts merged as cloud-init merges them', (t) => {
  const dir = tempDir(t);
  const mp = join(EXAMPLES, 'multipart');
  const extra = join(dir, 'lists.yaml');
  // A third part with no merge_how: the default dict(replace) lets it replace earlier keys.
  writeFileSync(extra, '#cloud-config\nruncmd:\n  - echo from the third part\nhostname: replaced-by-part-3\n');
  const cases: { name: string; parts: string[] }[] = [
    { name: 'example parts', parts: [`${mp}/base.yaml:cloud-config`, `${mp}/extra.yaml:cloud-config`, `${mp}/setup.sh:x-shellscript`] },
    { name: 'reversed', parts: [`${mp}/extra.yaml:cloud-config`, `${mp}/base.yaml:cloud-config`] },
    { name: 'three parts', parts: [`${mp}/base.yaml:cloud-config`, `${mp}/extra.yaml:cloud-config`, `${extra}:cloud-config`] },
  ];
  for (const c of cases) {
    const seed = join(dir, c.name.replace(/ /g, '-'));
    mkdirSync(seed);
    const r = runCli(['cloud-init', 'mime', '-o', join(seed, 'user-data'), ...c.parts]);
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(join(seed, 'meta-data'), 'instance-id: iid-mime\n');
    compare(seed, join(dir, `oracle-${c.name.replace(/ /g, '-')}`), c.name);
  }
});
