// The link checks the renderer runs before opening a link (renderer/src/lib/links.ts), on real look-alike cases:
// the registrable domain comes from the public suffix list (tldts), look-alike letters and mixed alphabets are
// caught in Unicode and in punycode, and text that names another site than the target is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLink } from '../../../renderer/src/lib/links.ts';

const check = (href: string, text = href) => checkLink(href, text)!;

test('ordinary links: the real host and registrable domain, no warning', () => {
  for (const [href, domain] of [
    ['https://www.apple.com/iphone', 'apple.com'],
    ['https://docs.example.co.uk/a?b', 'example.co.uk'],
    ['https://alice.github.io/blog', 'alice.github.io'], // a private suffix: alice and bob own different sites
    ['https://münchen.de/', 'münchen.de'], // one alphabet: an international name, not a look-alike
    ['https://例え.テスト/', '例え.テスト'],
  ] as const) {
    const c = check(href);
    assert.equal(c.domain, domain, href);
    assert.deepEqual(c.warnings, [], href);
  }
  assert.equal(check('https://münchen.de/').asciiHost, 'xn--mnchen-3ya.de');
  assert.deepEqual(check('https://www.paypal.com/signin', 'paypal.com').warnings, [], 'text naming the same site is fine');
  assert.deepEqual(check('https://example.com/', 'our page').warnings, []);
  assert.equal(checkLink('javascript:alert(1)'), null);
  assert.equal(checkLink('not a url'), null);
});

test('a Cyrillic "а" in apple.com, written in Unicode or in punycode, is caught and shown as what it is', () => {
  for (const href of ['https://аpple.com/', 'https://xn--pple-43d.com/']) {
    const c = check(href);
    assert.equal(c.asciiHost, 'xn--pple-43d.com');
    assert.equal(c.host, 'аpple.com');
    assert.equal(c.domain, 'аpple.com');
    assert.equal(c.warnings.length, 1, href);
    assert.match(c.warnings[0]!, /mixes letters from different alphabets \(Cyrillic and Latin\)/);
  }
});

test('whole-script look-alikes and Greek mixes are caught; undecodable punycode too', () => {
  // "аррӏе": every letter Cyrillic, together reading as "apple"
  assert.match(check('https://xn--80ak6aa92e.com/').warnings.join(), /Cyrillic letters that look like Latin/);
  assert.equal(check('https://xn--80ak6aa92e.com/').host, 'аррӏе.com');
  assert.match(check('https://gοogle.com/').warnings.join(), /Greek and Latin|Latin and Greek/); // Greek omicron
  assert.match(check('https://xn--zz-zzzzzzzzzz.com/').warnings.join(), /hides its real letters/);
});

test('text that names one site while the link goes to another', () => {
  const c = check('https://evil.example/login', 'paypal.com');
  assert.deepEqual(c.warnings, ['the link says paypal.com but goes to evil.example']);
  assert.match(check('https://paypal.com.evil.example/', 'https://www.paypal.com/').warnings.join(), /says paypal.com but goes to evil.example/);
  assert.match(check('https://login-paypal.co/', 'Log in at paypal.com now').warnings.join(), /says paypal.com but goes to login-paypal.co/);
});

test('a user name that reads like a host, and a bare IP address, are warned about', () => {
  const c = check('https://paypal.com@evil.example/', 'https://paypal.com@evil.example/');
  assert.equal(c.host, 'evil.example');
  assert.ok(c.warnings.some((w) => /before "@" \("paypal.com"\) is not where it goes: it goes to evil.example/.test(w)), c.warnings.join());
  assert.match(check('http://192.0.2.7/bank').warnings.join(), /bare network address \(192.0.2.7\)/);
});
