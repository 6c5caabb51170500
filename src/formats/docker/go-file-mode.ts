// Go's os.FileMode, what the Engine API carries in ContainerPathStat.mode (the
// X-Docker-Container-Path-Stat header of /containers/{id}/archive): the permission bits in the low
// nine bits, the file type and the setuid/setgid/sticky bits as single high bits (Go io/fs
// FileMode constants), not the st_mode layout of stat(2). The docker CLI tests them
// (`mode&os.ModeSymlink != 0`, `mode.IsDir()`), so the bits must be Go's.

export const GO_MODE_DIR = 2 ** 31;
export const GO_MODE_SYMLINK = 2 ** 27;
export const GO_MODE_DEVICE = 2 ** 26;
export const GO_MODE_NAMED_PIPE = 2 ** 25;
export const GO_MODE_SOCKET = 2 ** 24;
export const GO_MODE_SETUID = 2 ** 23;
export const GO_MODE_SETGID = 2 ** 22;
export const GO_MODE_CHAR_DEVICE = 2 ** 21;
export const GO_MODE_STICKY = 2 ** 20;
export const GO_MODE_PERM = 0o777;

const S_IFMT = 0o170000;

/** stat(2)'s st_mode as Go's os.FileMode (syscall fillFileStatFromSys). Arithmetic, not bitwise: the result exceeds 2^31. */
export function goFileMode(stMode: number): number {
  let mode = stMode & GO_MODE_PERM;
  switch (stMode & S_IFMT) {
    case 0o040000:
      mode += GO_MODE_DIR;
      break;
    case 0o120000:
      mode += GO_MODE_SYMLINK;
      break;
    case 0o020000:
      mode += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE;
      break;
    case 0o060000:
      mode += GO_MODE_DEVICE;
      break;
    case 0o010000:
      mode += GO_MODE_NAMED_PIPE;
      break;
    case 0o140000:
      mode += GO_MODE_SOCKET;
      break;
  }
  if ((stMode & 0o4000) !== 0) mode += GO_MODE_SETUID;
  if ((stMode & 0o2000) !== 0) mode += GO_MODE_SETGID;
  if ((stMode & 0o1000) !== 0) mode += GO_MODE_STICKY;
  return mode;
}

/** Whether a Go FileMode has `bit` (one of the GO_MODE_* type bits) set. */
export function hasGoModeBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/** Go's FileMode.String() ("drwxr-xr-x", "Lrwxrwxrwx", "-rw-r--r--"), for messages and tests. */
export function goFileModeString(mode: number): string {
  const types: [number, string][] = [
    [GO_MODE_DIR, 'd'], [2 ** 30, 'a'], [2 ** 29, 'l'], [2 ** 28, 'T'], [GO_MODE_SYMLINK, 'L'], [GO_MODE_DEVICE, 'D'], [GO_MODE_NAMED_PIPE, 'p'],
    [GO_MODE_SOCKET, 'S'], [GO_MODE_SETUID, 'u'], [GO_MODE_SETGID, 'g'], [GO_MODE_CHAR_DEVICE, 'c'], [GO_MODE_STICKY, 't'], [2 ** 19, '?'],
  ];
  let out = '';
  for (const [bit, c] of types) if (hasGoModeBit(mode, bit)) out += c;
  if (out === '') out = '-';
  const rwx = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) out += (mode & (1 << (8 - i))) !== 0 ? rwx[i] : '-';
  return out;
}
