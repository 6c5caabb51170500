import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlainObject } from '../../../../src/core/cloud-config/merge-cloud-config.js';
import type { InstanceData } from '../../../../src/core/provision/model.js';
import { readHostnameConf, setHostnameConf } from '../../../../src/core/provision/hostname-conf.js';
import { getHostnameFqdn } from '../../../../src/core/provision/modules/plan-hostname.js';
import { planModule } from '../../../../src/core/provision/plan-module.js';
import { renderEtcHostsTemplate, updateEtcHostsLocalhost } from '../../../../src/core/provision/render-etc-hosts.js';
import { runOk } from '../../../helpers.js';
import { input } from './fixture-input.js';

const names = (config: PlainObject, instance: Partial<InstanceData> = {}): [string, string] | undefined => {
  const h = getHostnameFqdn(input(config, { instance }));
  return h === undefined ? undefined : [h.hostname, h.fqdn];
};

test('hostname and fqdn follow util.get_hostname_fqdn', () => {
  assert.deepEqual(names({ fqdn: 'web.example.com' }), ['web', 'web.example.com']);
  assert.deepEqual(names({ fqdn: 'web.example.com', hostname: 'other' }), ['other', 'web.example.com']);
  assert.deepEqual(names({ hostname: 'db.example.org' }), ['db', 'db.example.org']);
  assert.deepEqual(names({ hostname: 'db' }), ['db', 'db']);
  assert.deepEqual(names({ hostname: 'db' }, { localHostname: 'meta.example.net' }), ['db', 'meta.example.net']);
  assert.deepEqual(names({}, { localHostname: 'meta.example.net' }), ['meta', 'meta.example.net']);
  assert.deepEqual(names({}, { metadata: { 'local-hostname': 'md-only' } }), ['md-only', 'md-only']);
  assert.deepEqual(names({}, { localHostname: 'box.localdomain' }), ['box', 'box']);
  assert.deepEqual(names({}, { localHostname: '10.1.2.3' }), ['ip-10-1-2-3', 'ip-10-1-2-3']);
  assert.equal(names({}), undefined);
});

test('set_hostname and update_hostname: preserve_hostname, prefer_fqdn_over_hostname, the previous-hostname file', () => {
  assert.deepEqual(planModule('set_hostname', input({ hostname: 'web', fqdn: 'web.example.com' })).steps, [{ action: 'set-hostname', hostname: 'web' }]);
  assert.deepEqual(planModule('set_hostname', input({ fqdn: 'web.example.com', prefer_fqdn_over_hostname: true })).steps, [{ action: 'set-hostname', hostname: 'web.example.com' }]);
  assert.deepEqual(planModule('set_hostname', input({ hostname: 'web', preserve_hostname: true })).steps, []);
  assert.deepEqual(planModule('set_hostname', input({})).steps, []);
  assert.deepEqual(planModule('update_hostname', input({ hostname: 'web' })).steps, [{ action: 'set-hostname', hostname: 'web', previousHostnameFile: '/var/lib/atomicd/cloud/data/previous-hostname' }]);
  assert.deepEqual(planModule('update_hostname', input({ hostname: 'web' }, { cloudDir: '/srv/cloud/' })).steps, [{ action: 'set-hostname', hostname: 'web', previousHostnameFile: '/srv/cloud/data/previous-hostname' }]);
});

test('manage_etc_hosts: true and template render, localhost edits, false and absent do nothing', () => {
  const step = (manage: PlainObject['x']): unknown => planModule('update_etc_hosts', input({ manage_etc_hosts: manage, fqdn: 'web.example.com' })).steps;
  const expected = (mode: string): unknown => [{ action: 'write-etc-hosts', mode, hostname: 'web', fqdn: 'web.example.com' }];
  assert.deepEqual(step(true), expected('template'));
  assert.deepEqual(step('template'), expected('template'));
  assert.deepEqual(step('localhost'), expected('localhost'));
  assert.deepEqual(step(false), []);
  assert.deepEqual(planModule('update_etc_hosts', input({ fqdn: 'x.y' })).steps, []);
  assert.match(planModule('update_etc_hosts', input({ manage_etc_hosts: true })).problems[0] ?? '', /no hostname/);
});

// cloud-init's templater on Debian's own template file, and its HostsConf editing.
const ORACLE = `
import json, sys
from io import StringIO
from cloudinit import templater, util
from cloudinit.distros.parsers.hosts import HostsConf
args = json.load(sys.stdin)
out = {'template': templater.render_from_file('/etc/cloud/templates/hosts.debian.tmpl', {'hostname': 'web', 'fqdn': 'web.example.com'})}
edits = []
for text in args:
    eh = HostsConf(text)
    prev = eh.get_entry('127.0.1.1')
    need = True
    if not prev:
        eh.add_entry('127.0.1.1', 'web.example.com', 'web')
    else:
        for e in prev:
            if e and e[0] == 'web.example.com' and 'web' in e[1:]:
                need = False
        if need:
            new = list(prev) + [['web.example.com', 'web']]
            eh.del_entries('127.0.1.1')
            for e in new:
                if len(e) == 1: eh.add_entry('127.0.1.1', e[0])
                elif len(e) >= 2: eh.add_entry('127.0.1.1', *e)
    edits.append(('%s\\n' % eh) if need else None)
out['edits'] = edits
print(json.dumps(out))
`;

test("/etc/hosts matches cloud-init's rendering of hosts.debian.tmpl and its localhost edits", () => {
  const texts = [
    '127.0.0.1 localhost # loopback\n\n# comment\n127.0.1.1 old.example old\n',
    '127.0.0.1\tlocalhost\n127.0.1.1 web.example.com web\n',
    '127.0.0.1 localhost\n127.0.1.1\n::1 ip6-localhost\n',
    '',
  ];
  const py = JSON.parse(runOk('/usr/bin/python3', ['-c', ORACLE], { input: JSON.stringify(texts) }).stdout) as { template: string; edits: (string | null)[] };
  assert.equal(renderEtcHostsTemplate('web', 'web.example.com'), py.template);
  texts.forEach((t, i) => assert.equal(updateEtcHostsLocalhost(t, 'web', 'web.example.com', '# header') ?? null, py.edits[i] ?? null, JSON.stringify(t)));
  // No file: the header line first.
  assert.equal(updateEtcHostsLocalhost(undefined, 'web', 'web.example.com', '# Added by test'), '# Added by test\n127.0.1.1\tweb.example.com\tweb\n\n');
});

test('/etc/hostname keeps comments, replaces the name, treats several names as unreadable', () => {
  assert.equal(setHostnameConf(undefined, 'web'), 'web\n');
  assert.equal(setHostnameConf('# managed\nold # was\n\n', 'web'), '# managed\nweb# was\n\n');
  assert.equal(setHostnameConf('one\ntwo\n', 'web'), 'web\n');
  assert.equal(readHostnameConf('# c\nbox\n'), 'box');
  assert.equal(readHostnameConf('one\ntwo\n'), undefined);
  assert.equal(readHostnameConf(''), undefined);
});
