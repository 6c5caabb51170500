import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSalt, sha512Crypt } from '../../../../src/core/provision/sha512-crypt.js';
import { runOk } from '../../../helpers.js';

// Drepper's reference vectors (SHA-crypt.txt, "Test vectors").
const VECTORS: [string, string, number | undefined, string][] = [
  ['Hello world!', 'saltstring', undefined, '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['Hello world!', 'saltstringsaltstring', 10000, '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['This is just a test', 'toolongsaltstring', 5000, '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
  ['a very much longer text to encrypt.  This one even stretches over morethan one line.', 'anotherlongsaltstring', 1400, '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1'],
  ['we have a short salt string but not a short password', 'short', 77777, '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
  ['a short string', 'asaltof16chars..', 123456, '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1'],
  ['the minimum number is still observed', 'roundstoolow', 10, '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
];

test('matches the reference vectors of the SHA-crypt specification', () => {
  for (const [password, salt, rounds, expected] of VECTORS) {
    assert.equal(sha512Crypt(password, { salt, ...(rounds === undefined ? {} : { rounds }) }), expected, `${password} / ${salt}`);
  }
});

test('agrees with openssl passwd -6 -salt for assorted passwords and salts', () => {
  const cases: [string, string][] = [
    ['Hello', 'saltstring'],
    ['pässwörd ünïcode', 'x'],
    ['p'.repeat(64), 'exactly16chars..'],
    ['q'.repeat(200), 'AbCdEfGh12345678'],
    ['with spaces and $dollar', 'a.b/c'],
  ];
  for (const [password, salt] of cases) {
    // -stdin: openssl takes an empty argument as no password at all.
    const expected = runOk('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n` }).stdout.trim();
    assert.equal(sha512Crypt(password, { salt }), expected, `${JSON.stringify(password)} / ${salt}`);
  }
});

test("the empty password agrees with glibc's crypt (openssl passwd refuses an empty one)", () => {
  const expected = runOk('/usr/bin/python3', ['-W', 'ignore', '-c', "import crypt; print(crypt.crypt('', '$6$abc'))"]).stdout.trim();
  assert.equal(sha512Crypt('', { salt: 'abc' }), expected);
  assert.match(expected, /^\$6\$abc\$.{86}$/);
});

test('random salts are 16 characters of the crypt alphabet and come from the given source', () => {
  const fixed = randomSalt((n) => Uint8Array.from({ length: n }, (_v, i) => i));
  assert.equal(fixed, './0123456789ABCD');
  assert.match(randomSalt(), /^[./0-9A-Za-z]{16}$/);
  assert.notEqual(randomSalt(), randomSalt());
});
