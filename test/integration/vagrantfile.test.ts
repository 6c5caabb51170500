// The top-level Vagrantfile (boots the vagrant-libvirt box of `atomic image build` with a seed ISO
// attached) and the one inside the box both pass `vagrant validate` with the vagrant-libvirt
// plugin loaded; a broken one does not (so the check can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderVagrantfile } from '../../src/core/image/vagrant-box.js';
import { REPO, run, tempDir } from '../helpers.js';

/** Vagrant's home and the project's .vagrant dir go to `scratch`, never into the checkout. */
const validate = (dir: string, file: string, scratch: string): ReturnType<typeof run> =>
  run('vagrant', ['validate'], { cwd: dir, env: { VAGRANT_VAGRANTFILE: file, VAGRANT_HOME: join(scratch, 'vagrant.d'), VAGRANT_DOTFILE_PATH: join(scratch, 'dot-vagrant'), VAGRANT_CHECKPOINT_DISABLE: '1' } });

test('vagrant validate: the repository Vagrantfile and the box Vagrantfile pass; a broken one fails', (t) => {
  const home = tempDir(t);
  const top = validate(REPO, 'Vagrantfile', home);
  assert.equal(top.status, 0, top.stderr + top.stdout);
  assert.match(top.stdout, /validated successfully/);
  writeFileSync(join(home, 'Vagrantfile.box'), renderVagrantfile('x86_64'));
  const box = validate(home, 'Vagrantfile.box', home);
  assert.equal(box.status, 0, box.stderr + box.stdout);
  writeFileSync(join(home, 'Vagrantfile.bad'), 'Vagrant.configure("2") do |config|\n  config.vm.provider :libvirt do |libvirt|\n    libvirt.no_such_setting = 1\n  end\nend\n');
  const bad = validate(home, 'Vagrantfile.bad', home);
  assert.notEqual(bad.status, 0, 'an unknown provider setting is an error');
});
