// The yaml package, loaded when first needed: yaml-subset.ts reads most cloud-configs without it,
// and a short command (`atomic seed create`, a provisioning pass) should not pay for loading a
// complete YAML implementation it does not run. It is one CommonJS file (dist/vendor/yaml.cjs,
// scripts/vendor-deps.mjs), so require() loads it synchronously, from the bundles too (they do
// not contain it: scripts/bundle-entries.mjs).
import { createRequire } from 'node:module';

let loaded: typeof import('#yaml') | undefined;

export function yamlPackage(): typeof import('#yaml') {
  loaded ??= createRequire(import.meta.url)('#yaml') as typeof import('#yaml');
  return loaded;
}
