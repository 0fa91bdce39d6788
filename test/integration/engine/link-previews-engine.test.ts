// Link previews end to end through real engines and the real relay: the sender's device fetches the page (through
// the guard, with the test's loopback site allowed) and sends the card inside the encrypted message; the recipient
// gets it without contacting the site, and the relay's storage never holds the link. The setting and the request
// turn it off; a card a peer sent for a link its text does not contain is dropped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { MessageViewT } from '../../../core/api/contract.ts';
import type { EngineContext } from '../../../core/engine/context.ts';
import { LinkPreviews } from '../../../core/engine/previews/link-previews.ts';
import { storedPreview } from '../../../core/engine/previews/view.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';

const SITE = '127.0.0.2';

describe('engine: link previews', () => {
  let org: TestOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  let site: Server;
  const hits: IncomingMessage[] = [];
  let port = 0;

  before(async () => {
    const thumb = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366aa' } }).png().toBuffer();
    site = createServer((req, res) => {
      hits.push(req);
      if (req.url === '/logo.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(thumb); return; }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<head><meta property="og:title" content="Wardroom release notes"><meta property="og:description" content="Files and previews">'
        + '<meta property="og:image" content="/logo.png"></head>');
    });
    await new Promise<void>((resolve) => site.listen(0, SITE, resolve));
    port = (site.address() as AddressInfo).port;
    org = await startOrg({ linkPreviews: { allowAddresses: [SITE], resolve: async (host) => (host === 'notes.test' ? [SITE] : []) } });
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
  });
  after(async () => {
    await org.close();
    site.closeAllConnections();
    site.close();
  });

  const arrived = (e: TestEngine, id: string) => e.waitFor(() => e.received().find((m) => m.id === id), 15_000, `message ${id}`);

  it('the sender fetches, the card travels encrypted, the recipient never contacts the site', async () => {
    const link = `http://notes.test:${port}/release`;
    const sent: MessageViewT = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: `news: ${link} !` });
    assert.equal(sent.preview?.title, 'Wardroom release notes');
    const got = await arrived(ben, sent.id);
    assert.deepEqual(got.preview, sent.preview);
    assert.equal(got.preview!.url, link);
    assert.equal(got.preview!.description, 'Files and previews');
    const jpeg = Buffer.from(got.preview!.image!.jpeg, 'base64');
    assert.deepEqual((await sharp(jpeg).metadata()).format, 'jpeg');
    assert.equal(hits.length, 2, 'the page and its image, fetched once, by the sender only');
    // history reads it back from the vault the same way
    const page = await ben.engine.api.call('messages.list', { conversation: got.conversation });
    assert.deepEqual(page.messages.find((m) => m.id === sent.id)?.preview, got.preview);
    const relayFiles = readdirSync(org.server.dataDir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(org.server.dataDir, f));
    for (const file of relayFiles) {
      try {
        assert.ok(!readFileSync(file).includes('notes.test'), `the relay's ${file} holds the link`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EISDIR') throw error;
      }
    }
  });

  it('off in the settings, or for one message: no fetch, no card', async () => {
    const before = hits.length;
    const direct = await idOf(ann.engine.api, '@ben');
    const once = await ann.engine.api.call('messages.send', { conversation: direct, text: `http://notes.test:${port}/a`, linkPreview: false });
    assert.equal(once.preview, undefined);
    assert.equal((await ann.engine.api.call('settings.set', { linkPreviews: false })).linkPreviews, false);
    const off = await ann.engine.api.call('messages.send', { conversation: direct, text: `http://notes.test:${port}/b` });
    assert.equal(off.preview, undefined);
    assert.equal(hits.length, before);
    await ann.engine.api.call('settings.set', { linkPreviews: true });
    assert.equal((await arrived(ben, off.id)).preview, undefined);
  });

  it('an org policy that turns previews off wins over the user\'s setting', async () => {
    const before = hits.length;
    const ctx = { profile: { linkPreviews: true }, log: () => {}, problem: (e: Error) => assert.fail(e) } as unknown as EngineContext;
    const options = { allowAddresses: [SITE], resolve: async () => [SITE] };
    assert.equal(await new LinkPreviews(ctx, options, () => false).forOutgoing(`http://notes.test:${port}/c`, undefined), null);
    assert.equal(hits.length, before, 'nothing was fetched');
    assert.equal((await new LinkPreviews(ctx, options, () => true).forOutgoing(`http://notes.test:${port}/c`, undefined))?.payload.title, 'Wardroom release notes');
  });

  it('the signed org policy turns previews off for everyone as soon as the relay announces it, and back on', async () => {
    const before = hits.length;
    const direct = await idOf(ann.engine.api, '@ben');
    const adopted = (version: number) => ann.waitFor(() => ann.events.some((e) => e.name === 'policy.changed' && (e.payload as { version: number }).version === version), 10_000, `policy ${version}`);
    const off = await org.admin.engine.api.call('policy.set', { linkPreviews: false });
    await adopted(off.version);
    assert.equal((await ann.engine.api.call('messages.send', { conversation: direct, text: `http://notes.test:${port}/d` })).preview, undefined);
    assert.equal(hits.length, before, 'the site was never contacted');
    assert.equal((await ann.engine.api.call('settings.get', {})).linkPreviews, true, 'ann\'s own setting is untouched');
    const on = await org.admin.engine.api.call('policy.set', { linkPreviews: null });
    await adopted(on.version);
    assert.equal((await ann.engine.api.call('messages.send', { conversation: direct, text: `http://notes.test:${port}/e` })).preview?.title, 'Wardroom release notes');
  });

  it('a card for a link the text does not contain, or with a thumbnail that is not a JPEG, is cleaned on receipt', () => {
    const card = { url: 'https://evil.example/', title: 'PayPal', description: null, image: null };
    assert.equal(storedPreview(card, 'see https://paypal.com/'), null);
    assert.equal(storedPreview({ ...card, url: 'javascript:alert(1)' }, 'javascript:alert(1)'), null);
    const png = { ...card, image: { jpeg: Uint8Array.of(0x89, 0x50, 0x4e, 0x47), width: 1, height: 1 } };
    assert.deepEqual(JSON.parse(storedPreview(png, 'at https://evil.example/ now')!), { url: 'https://evil.example/', title: 'PayPal' });
    assert.equal(JSON.parse(storedPreview({ ...card, title: 'Pay\u202EPal\u0000' }, 'https://evil.example/')!).title, 'Pay Pal');
  });
});
