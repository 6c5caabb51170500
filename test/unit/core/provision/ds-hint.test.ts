// Examples from cloud-init's NoCloud documentation and the behaviour of its parse_cmdline_data
// (DataSourceNoCloud.py); test/integration/datasources.test.ts compares with cloud-init itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dmiVariablesIn, hintSeedfrom, mergeDsHints, parseDsHint, seedfromKind, substituteDmiVariables,
} from '../../../../src/core/provision/ds-hint.js';

test('ds=nocloud alone: the local dsmode and nothing else', () => {
  assert.deepEqual(parseDsHint('root=LABEL=uec-rootfs ro ds=nocloud'), { dsname: 'nocloud', metadata: { dsmode: 'local' } });
});

test('short keys expand to seedfrom, instance-id and local-hostname', () => {
  assert.deepEqual(parseDsHint('ro ds=nocloud;s=file:///var/tmp/seed/;i=iid-01;h=myhost quiet')?.metadata, {
    seedfrom: 'file:///var/tmp/seed/', 'instance-id': 'iid-01', 'local-hostname': 'myhost', dsmode: 'local',
  });
  assert.deepEqual(parseDsHint('ds=nocloud;seedfrom=/srv/seed/;local-hostname=h1')?.metadata, { seedfrom: '/srv/seed/', 'local-hostname': 'h1', dsmode: 'local' });
});

test('ds=nocloud-net implies the net dsmode; a URL keeps its = and :', () => {
  assert.deepEqual(parseDsHint('console=ttyS0 ds=nocloud-net;s=http://10.0.2.2:8000/seed/?a=b'), {
    dsname: 'nocloud-net', metadata: { seedfrom: 'http://10.0.2.2:8000/seed/?a=b', dsmode: 'net' },
  });
  // The SMBIOS serial form from the docs: -smbios type=1,serial=ds=nocloud-net;s=http://10.10.0.1:8000/
  assert.equal(hintSeedfrom(parseDsHint('ds=nocloud-net;s=http://10.10.0.1:8000/')), 'http://10.10.0.1:8000/');
});

test('an explicit dsmode wins; a key without = is null; empty items are skipped; later keys win', () => {
  assert.deepEqual(parseDsHint('ds=nocloud;i=IID;dsmode=net;;flag;i=IID2')?.metadata, { 'instance-id': 'IID2', dsmode: 'net', flag: null });
  assert.equal(hintSeedfrom(parseDsHint('ds=nocloud;s')), undefined);
  assert.equal(hintSeedfrom(parseDsHint('ds=nocloud;s=')), undefined);
});

test('only the id standing alone or followed by ; counts', () => {
  for (const c of ['', 'ro quiet', 'ds=nocloudx', 'xds=nocloud', 'ds=nocloud-netx;s=http://h/', 'ds=NoCloud', 'ds=ec2', 'ds="nocloud;s=/x/"']) {
    assert.equal(parseDsHint(c), undefined, c);
  }
  assert.equal(parseDsHint('ds=nocloud')?.dsname, 'nocloud');
  assert.equal(parseDsHint('a ds=nocloud-net b')?.dsname, 'nocloud-net');
});

test("cloud-init's quirk: the last token starting with the id is the one read", () => {
  // ds=nocloud matches, but the loop keeps the later ds=nocloud-net token's pairs.
  assert.deepEqual(parseDsHint('ds=nocloud;i=a ds=nocloud-net;s=http://h/'), { dsname: 'nocloud', metadata: { seedfrom: 'http://h/', dsmode: 'local' } });
  assert.deepEqual(parseDsHint('ds=nocloud;i=first ds=nocloud;i=second')?.metadata, { 'instance-id': 'second', dsmode: 'local' });
});

test('keys are plain data: __proto__ does not reach the prototype', () => {
  const h = parseDsHint('ds=nocloud;__proto__=x;constructor=y');
  assert.ok(h !== undefined);
  assert.equal(Object.getPrototypeOf(h.metadata), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(h.metadata, '__proto__')?.value, 'x');
  assert.equal(h.metadata.constructor, 'y');
});

test('mergeDsHints: the first (the DMI serial, read first by cloud-init) wins a key', () => {
  const serial = parseDsHint('ds=nocloud;i=from-serial');
  const cmdline = parseDsHint('ds=nocloud-net;i=from-cmdline;h=cmdline-host');
  assert.deepEqual(mergeDsHints(serial, cmdline), { dsname: 'nocloud', metadata: { 'instance-id': 'from-serial', 'local-hostname': 'cmdline-host', dsmode: 'local' } });
  assert.equal(mergeDsHints(undefined, cmdline), cmdline);
  assert.equal(mergeDsHints(serial, undefined), serial);
});

test('seedfromKind follows supported_seed_starts', () => {
  assert.equal(seedfromKind('http://h/'), 'http');
  assert.equal(seedfromKind('https://h/'), 'http');
  assert.equal(seedfromKind('/srv/seed/'), 'local');
  assert.equal(seedfromKind('file:///srv/seed/'), 'local');
  assert.equal(seedfromKind('ftp://h/'), undefined);
  assert.equal(seedfromKind('HTTP://h/'), undefined);
  assert.equal(seedfromKind('srv/seed'), undefined);
});

test('__dmi variables: dmidecode names are replaced, unknown names stay, missing values vanish', () => {
  const src = 'http://10.0.0.1/__dmi.system-uuid__/__dmi.chassis-serial-number__/__dmi.bogus__/__dmi.system-uuid__/';
  assert.deepEqual(dmiVariablesIn(src), ['system-uuid', 'chassis-serial-number', 'bogus']);
  const r = substituteDmiVariables(src, new Map([['system-uuid', 'ab12'], ['chassis-serial-number', undefined]]));
  assert.equal(r.value, 'http://10.0.0.1/ab12//__dmi.bogus__/ab12/');
  assert.deepEqual(r.ignored, ['bogus']);
  // `[^_]+`: a sysfs-style name with '_' is not a variable at all.
  assert.deepEqual(dmiVariablesIn('http://h/__dmi.product_uuid__/'), []);
  assert.equal(substituteDmiVariables('http://h/', new Map()).value, 'http://h/');
});
