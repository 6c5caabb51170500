// isIanaTimeZone answers the common names without building a DateTimeFormat (start-up time); it
// must agree with ICU's own answer (a DateTimeFormat with that zone) on every name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIanaTimeZone } from '../../../../src/core/cloud-config/schema.js';

function icuKnows(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

test('isIanaTimeZone agrees with ICU: canonical zones, etcetera zones and links, aliases, invalid names', () => {
  const etcetera = ['UTC', 'UCT', 'GMT', 'GMT0', 'GMT+0', 'GMT-0', 'Universal', 'Zulu', 'Greenwich', 'GMT+1', 'GMT-1'];
  const names = [
    ...Intl.supportedValuesOf('timeZone'),
    ...etcetera, ...etcetera.map((n) => `Etc/${n}`),
    ...Array.from({ length: 16 }, (_, i) => `Etc/GMT+${i}`), ...Array.from({ length: 16 }, (_, i) => `Etc/GMT-${i}`),
    'US/Eastern', 'Asia/Kolkata', 'Asia/Calcutta', 'Europe/Kiev', 'Mars/Olympus', 'Europe/Nowhere', '', 'utc', 'Etc/', 'Etc/GMT+', 'UTC ',
  ];
  const disagreements = names.filter((n) => isIanaTimeZone(n) !== icuKnows(n));
  assert.deepEqual(disagreements, []);
  // Both answers occur: the check is not vacuous.
  assert.ok(names.some((n) => isIanaTimeZone(n)) && names.some((n) => !isIanaTimeZone(n)));
});
