// External links: only http(s), never with credentials, each opened only after the user confirmed the real host
// in main's dialog; hosts that may pose as another site are flagged. The dialog (Electron's) is the one stand-in:
// a function that records what it was shown and answers as a user would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { confirmationText, inspectLink, LINK_MAX, LinkRefused, openLinkAfterConfirm } from '../../../electron/links.ts';

describe('electron: link inspection', () => {
  it('accepts web links and reports the real host', () => {
    assert.deepEqual(inspectLink('https://example.com/a?b=c#d'), { url: 'https://example.com/a?b=c#d', host: 'example.com', warnings: [] });
    assert.deepEqual(inspectLink('HTTPS://Example.COM:8443/x'), { url: 'https://example.com:8443/x', host: 'example.com:8443', warnings: [] });
    assert.deepEqual(inspectLink('http://example.com/').warnings, ['insecure']);
    assert.deepEqual(inspectLink('https://192.168.1.1/').warnings, ['ip-address']);
    assert.deepEqual(inspectLink('https://[::1]/').warnings, ['ip-address']);
  });

  it('refuses every other scheme, credentials, and overlong links', () => {
    for (const text of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x', 'mailto:a@b.c', 'wardroom://join?x', 'smb://host/share', 'ms-msdt:/id', 'vbscript:x', 'ftp://host/', 'chrome://settings']) {
      assert.throws(() => inspectLink(text), (error: Error) => error instanceof LinkRefused && /only web links \(http, https\)/.test(error.message), text);
    }
    assert.throws(() => inspectLink('https://paypal.com@evil.example/'), /user name or password/);
    assert.throws(() => inspectLink('https://user:pass@example.com/'), /user name or password/);
    assert.throws(() => inspectLink(`https://example.com/${'a'.repeat(LINK_MAX)}`), /longer than/);
    for (const text of ['', 'not a link', 42, null, undefined]) assert.throws(() => inspectLink(text), LinkRefused);
  });

  it('shows an international host both ways, and flags the ones that imitate Latin names', () => {
    const german = inspectLink('https://bücher.de/');
    assert.equal(german.host, 'xn--bcher-kva.de');
    assert.equal(german.unicodeHost, 'bücher.de');
    assert.deepEqual(german.warnings, ['international'], 'a real German name is international, not a look-alike');
    // "аpple.com" with a Cyrillic а: two scripts in one label
    const mixed = inspectLink('https://xn--pple-43d.com/');
    assert.equal(mixed.unicodeHost, 'аpple.com');
    assert.deepEqual(mixed.warnings, ['international', 'lookalike']);
    // "аррӏе.com": every letter Cyrillic, and every one a Latin look-alike
    const whole = inspectLink('https://xn--80ak6aa92e.com/');
    assert.deepEqual(whole.warnings, ['international', 'lookalike']);
    // ordinary Russian is not flagged
    assert.deepEqual(inspectLink('https://пример.рф/').warnings, ['international']);
  });

  it('writes the real host first in the dialog, then the link, then each warning', () => {
    const text = confirmationText(inspectLink('http://xn--pple-43d.com/login'));
    const lines = text.detail.split('\n');
    assert.equal(lines[0], 'It goes to: xn--pple-43d.com');
    assert.equal(lines[2], 'http://xn--pple-43d.com/login');
    assert.match(text.detail, /not encrypted/);
    assert.match(text.detail, /reads аpple\.com, and really is xn--pple-43d\.com/);
    assert.match(text.detail, /posing as another site/);
  });
});

describe('electron: opening a link', () => {
  const opener = (answer: boolean) => {
    const shown: string[] = [];
    const opened: string[] = [];
    return {
      shown, opened,
      confirm: async (_link: unknown, text: { detail: string }) => {
        shown.push(text.detail);
        return answer;
      },
      open: async (url: string) => {
        opened.push(url);
      },
    };
  };

  it('opens exactly the inspected URL, after the user confirmed', async () => {
    const yes = opener(true);
    assert.deepEqual(await openLinkAfterConfirm('HTTPS://Example.com/a b', yes), { opened: true });
    assert.deepEqual(yes.opened, ['https://example.com/a%20b']);
    assert.match(yes.shown[0]!, /^It goes to: example\.com/);
  });

  it('opens nothing when the user declines', async () => {
    const no = opener(false);
    assert.deepEqual(await openLinkAfterConfirm('https://example.com/', no), { opened: false });
    assert.deepEqual(no.opened, []);
  });

  it('never asks about, or opens, a link that is not http(s)', async () => {
    const yes = opener(true);
    await assert.rejects(openLinkAfterConfirm('file:///etc/passwd', yes), LinkRefused);
    await assert.rejects(openLinkAfterConfirm('https://a@b.example/', yes), LinkRefused);
    assert.deepEqual([yes.shown, yes.opened], [[], []]);
  });
});
