// atomic image validate RECIPE [--offline] [--json]: the recipe's located report, and with the
// network the package list checked against the Debian archive (what `image build` does first).
import { formatProblem } from '../../core/cloud-config/problem.js';
import { defaultCacheDir, loadRecipe } from './image-common.js';

export async function run(file: string, opts: { offline?: boolean; json?: boolean; cacheDir?: string }): Promise<void> {
  const { recipe, warnings } = await loadRecipe(file, { offline: opts.offline === true, cacheDir: opts.cacheDir ?? defaultCacheDir() });
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify({ file, valid: true, recipe, problems: warnings }, null, 2)}\n`);
    return;
  }
  for (const w of warnings) process.stderr.write(`${w.severity}: ${formatProblem(w)}\n`);
  process.stdout.write(`${file}: valid (${recipe.name} ${recipe.version}, ${recipe.arch}, ${recipe.base.packages.length} packages${opts.offline === true ? ', package names not checked: --offline' : ''})\n`);
}
