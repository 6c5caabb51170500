// The random part of a temp file's name (`.NAME.<12 hex digits>.tmp` beside its target). The
// file is always created with O_CREAT|O_EXCL (and O_NOFOLLOW where the directory may be
// someone else's), so the name needs to be unlikely to collide, not secret: a name already taken
// makes the create fail, it can never redirect the write. Math.random (per-process seeded by V8
// from the OS's entropy) serves that without loading node:crypto on every start (lib/builtin.ts).
export function tempSuffix(): string {
  const part = (): string => Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0');
  return part() + part();
}
