// What `atomic image validate` and `atomic image build` share: reading a recipe into a validated
// ImageRecipe (with the Debian package index unless offline) and the build cache's place.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fetchArchiveFacts } from '../../adapters/debian-archive/package-index.js';
import { formatProblem, hasErrors, type Problem } from '../../core/cloud-config/problem.js';
import { validateRecipe, type ImageRecipe } from '../../core/image/recipe.js';
import { fromSystemError, InvalidArgument } from '../../lib/errors.js';

/** $ATOMIC_CACHE_DIR, else $XDG_CACHE_HOME/atomic, else ~/.cache/atomic. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['ATOMIC_CACHE_DIR'] !== undefined && env['ATOMIC_CACHE_DIR'] !== '') return resolve(env['ATOMIC_CACHE_DIR']);
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'atomic');
}

export interface LoadedRecipe {
  readonly recipe: ImageRecipe;
  readonly warnings: readonly Problem[];
}

/**
 * The recipe at `path`, validated; every error at once as an InvalidArgument (exit 2). Online, the
 * package list is checked against the mirror's index first (seconds), so a typo never reaches the
 * bootstrap (minutes).
 */
export async function loadRecipe(path: string, opts: { offline?: boolean; cacheDir: string; signal?: AbortSignal }): Promise<LoadedRecipe> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    throw fromSystemError(e, path, 'reading the recipe');
  }
  const first = validateRecipe(data, path);
  if (first.recipe === undefined || opts.offline === true) return finish(path, first.problems, first.recipe);
  const { base, arch } = first.recipe;
  const archive = await fetchArchiveFacts({ mirror: base.mirror, suite: base.suite, arch, cacheDir: opts.cacheDir, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) });
  const full = validateRecipe(data, path, archive);
  return finish(path, full.problems, full.recipe);
}

function finish(path: string, problems: readonly Problem[], recipe: ImageRecipe | undefined): LoadedRecipe {
  if (recipe === undefined || hasErrors(problems)) {
    const errors = problems.filter((p) => p.severity === 'error');
    throw new InvalidArgument(`${path}: ${errors.length} problem${errors.length === 1 ? '' : 's'} in the recipe`, { subject: path, problems: problems.map((p) => `${p.severity}: ${formatProblem(p)}`) });
  }
  return { recipe, warnings: problems };
}
