// wardroom:// deep links: join links parse exactly as the join flow parses them and reach the page once; anything
// else is refused. Electron's runtime (which delivers them through argv and open-url) cannot run here: the shell's
// parsing and its inbox are tested directly, with command lines shaped as Chromium passes them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatInviteLink } from '../../../core/relay/invite-link.ts';
import { deepLinkInArgv, parseDeepLink } from '../../../electron/deep-links.ts';
import { JoinLinkInbox } from '../../../electron/shell-commands.ts';

const PIN = 'A'.repeat(43);
const valid = formatInviteLink({ server: 'https://relay.example.org', pin: PIN, org: 'B'.repeat(43), code: 'abcDEF123_-' });

describe('electron: deep links', () => {
  it('accepts join links, as the join flow will read them', () => {
    assert.deepEqual(parseDeepLink(valid), { ok: true, value: { kind: 'join', link: valid } });
    assert.deepEqual(parseDeepLink(`  ${valid}\n`), { ok: true, value: { kind: 'join', link: valid } });
    const loopback = formatInviteLink({ server: 'http://127.0.0.1:8080', pin: null, org: null, code: 'c0de' });
    assert.equal(parseDeepLink(loopback).ok, true);
  });

  it('refuses everything else, saying why', () => {
    const refused: Array<[unknown, RegExp]> = [
      ['wardroom://evil?server=https://x', /not a wardroom:\/\/join link/],
      ['wardroom://join?server=https://relay.example.org&code=abc', /certificate pin/],
      [`${valid}&extra=1`, /unknown invite parameter "extra"/],
      [`${valid}&code=again`, /appears twice/],
      ['wardroom://join?server=javascript:alert(1)&code=abc', /must be https|not a URL/],
      ['wardroom://join?server=https://u:p@relay.example.org&pin=' + PIN + '&code=abc', /plain origin/],
      ['wardroom://join?code=abc', /needs server and code/],
      [`wardroom://join?server=https://relay.example.org&pin=${PIN}&code=${'x'.repeat(3000)}`, /too long/],
      ['https://relay.example.org/join?code=abc', /not a wardroom: link/],
      ['javascript:alert(1)', /not a wardroom: link/],
      ['file:///etc/passwd', /not a wardroom: link/],
      [42, /not a link/],
      [undefined, /not a link/],
    ];
    for (const [text, reason] of refused) {
      const result = parseDeepLink(text);
      assert.equal(result.ok, false, String(text));
      assert.match((result as { reason: string }).reason, reason, String(text));
    }
  });

  it('finds the link in a command line, never in a switch', () => {
    assert.equal(deepLinkInArgv(['/opt/Wardroom/wardroom', '--no-sandbox', valid]), valid);
    assert.equal(deepLinkInArgv(['C:\\Wardroom.exe', '--allow-file-access-from-files', '--', valid]), valid);
    assert.equal(deepLinkInArgv(['wardroom', `--gpu-launcher=${valid}`]), undefined);
    assert.equal(deepLinkInArgv(['wardroom', '--inspect']), undefined);
    assert.equal(deepLinkInArgv([]), undefined);
  });
});

describe('electron: the join-link inbox', () => {
  it('announces a valid link at once and hands it to the join flow once', () => {
    const announced: string[] = [];
    const logged: string[] = [];
    const inbox = new JoinLinkInbox((link) => announced.push(link), (line) => logged.push(line));
    assert.equal(inbox.offer(valid), true);
    assert.deepEqual(announced, [valid]);
    assert.equal(inbox.take(), valid);
    assert.equal(inbox.take(), undefined, 'taken once');
    assert.deepEqual(logged, []);
  });

  it('drops an invalid link with a log line, keeping the one already waiting', () => {
    const announced: string[] = [];
    const logged: string[] = [];
    const inbox = new JoinLinkInbox((link) => announced.push(link), (line) => logged.push(line));
    inbox.offer(valid);
    assert.equal(inbox.offer('wardroom://join?code=x'), false);
    assert.equal(inbox.offer('javascript:alert(1)'), false);
    assert.deepEqual(announced, [valid]);
    assert.equal(inbox.take(), valid);
    assert.equal(logged.length, 2);
    assert.match(logged[0]!, /^deep link refused: /);
  });
});
