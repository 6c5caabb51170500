// Docker's memory sizes ("512m", "1g", "1.5GiB", "1048576"): binary units, as go-units' RAMInBytes.
// A module of its own so that `atomic run` (run flags) and cloud-config's schema share it without
// the run path loading the cloud-config schema (its YAML and gzip readers).

/** "512m" -> 536870912; undefined for text that is not a size. */
export function memoryBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (m === null) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  const power = unit === '' ? 0 : 'kmgtp'.indexOf(unit) + 1;
  return Math.floor(Number(m[1]) * 1024 ** power);
}
