import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import {
  GO_MODE_CHAR_DEVICE, GO_MODE_DEVICE, GO_MODE_DIR, GO_MODE_NAMED_PIPE, GO_MODE_SETUID, GO_MODE_STICKY, GO_MODE_SYMLINK, goFileMode, goFileModeString, hasGoModeBit,
} from '../../../../src/formats/docker/go-file-mode.js';
import { tempDir } from '../../../helpers.js';

test('st_mode becomes Go FileMode bits: type and special bits high, permissions low', () => {
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o040755), GO_MODE_DIR + 0o755);
  assert.equal(goFileMode(0o120777), GO_MODE_SYMLINK + 0o777);
  assert.equal(goFileMode(0o020666), GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE + 0o666);
  assert.equal(goFileMode(0o060660), GO_MODE_DEVICE + 0o660);
  assert.equal(goFileMode(0o010600), GO_MODE_NAMED_PIPE + 0o600);
  assert.equal(goFileMode(0o104755), GO_MODE_SETUID + 0o755);
  assert.equal(goFileMode(0o041777), GO_MODE_DIR + GO_MODE_STICKY + 0o777);
  // Above 2^31: must stay a positive number (JSON for the docker CLI's uint32).
  assert.equal(goFileMode(0o040755), 2147484141);
});

test('Go FileMode strings match Go\'s FileMode.String for real files', () => {
  const dir = tempDir(undefined);
  mkdirSync(join(dir, 'd'));
  chmodSync(join(dir, 'd'), 0o750);
  writeFileSync(join(dir, 'f'), 'x', { mode: 0o640 });
  chmodSync(join(dir, 'f'), 0o640);
  symlinkSync('f', join(dir, 'l'));
  assert.equal(goFileModeString(goFileMode(lstatSync(join(dir, 'd')).mode)), 'drwxr-x---');
  assert.equal(goFileModeString(goFileMode(lstatSync(join(dir, 'f')).mode)), '-rw-r-----');
  assert.equal(goFileModeString(goFileMode(lstatSync(join(dir, 'l')).mode)), 'Lrwxrwxrwx');
  assert.equal(goFileModeString(goFileMode(0o020620)), 'Dcrw--w----');
  assert.ok(hasGoModeBit(goFileMode(0o040755), GO_MODE_DIR));
  assert.ok(!hasGoModeBit(goFileMode(0o100755), GO_MODE_DIR));
});
