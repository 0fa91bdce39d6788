// The link preview fetch against real local servers: a page that redirects to 127.0.0.1, a name that resolves to
// loopback (the resolver injected), a body of 1 GB, a server that stalls, hostile HTML. Each is refused or bounded
// with a clear reason, and the private server behind each trap is never contacted; a good page, served on a test
// address the test explicitly allows, yields a preview with a metadata-free thumbnail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { isPublicAddress } from '../../../core/engine/previews/address.ts';
import { PreviewRefused } from '../../../core/engine/previews/fetch.ts';
import { fetchLinkPreview, firstLink, PREVIEW_LIMITS, type PreviewOptions } from '../../../core/engine/previews/preview.ts';
import { cameraJpeg, SECRETS } from '../../support/camera-images.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Site {
  port: number;
  hits: IncomingMessage[];
  /** bytes the server managed to write before the client went away */
  written: { bytes: number };
  close(): Promise<void>;
}

async function site(host: string, routes: Record<string, Handler>): Promise<Site> {
  const hits: IncomingMessage[] = [];
  const written = { bytes: 0 };
  const server: Server = createServer((req, res) => {
    hits.push(req);
    const route = routes[req.url ?? '/'];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  (server as unknown as { written: typeof written }).written = written;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port, hits, written,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const html = (body: string): Handler => (_req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(body); };
const redirect = (to: string): Handler => (_req, res) => { res.writeHead(302, { location: to, 'set-cookie': 'session=tracking' }).end(); };

/** Tests run against loopback: 127.0.0.2 stands in for a public server (allowed here only), 127.0.0.1 for a private one. */
const PUBLIC = '127.0.0.2';
const names = (table: Record<string, string[]>) => async (host: string) => table[host] ?? [];
const guard = (extra: Partial<PreviewOptions> = {}): PreviewOptions => ({ allowAddresses: [PUBLIC], resolve: names({ 'good.test': [PUBLIC] }), ...extra });

async function refused(promise: Promise<unknown>, reason: PreviewRefused['reason']): Promise<PreviewRefused> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PreviewRefused, String(error));
    assert.equal(error.reason, reason, error.message);
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  return assert.fail(`expected a refusal (${reason})`);
}

test('the address table: public unicast only', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', '::ffff:127.0.0.1', '::ffff:8.8.8.8', '64:ff9b::7f00:1', 'fd00:ec2::254', 'fc00::1', 'fe80::1', 'ff02::1', '2001:db8::1', '2002:7f00:1::1', 'not-an-ip']) {
    assert.equal(isPublicAddress(a), false, a);
  }
  for (const a of ['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e']) assert.equal(isPublicAddress(a), true, a);
});

test('a good page on an allowed test address gives a preview, with a thumbnail made here that carries no metadata', async () => {
  const photo = await cameraJpeg();
  const good = await site(PUBLIC, {
    '/': html(`<!doctype html><html><head><title>ignored when og:title is set</title>
      <meta property="og:title" content="Quarterly report &amp; notes"><meta name="description" content="What we shipped.">
      <meta property="og:image" content="/photo.jpg"></head><body><p>hello</p></body></html>`),
    '/photo.jpg': (_req, res) => { res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(photo); },
  });
  try {
    const preview = await fetchLinkPreview(`http://good.test:${good.port}/`, guard());
    assert.equal(preview.title, 'Quarterly report & notes');
    assert.equal(preview.description, 'What we shipped.');
    assert.ok(preview.image && preview.image.bytes.length <= PREVIEW_LIMITS.thumbnailBytes);
    const thumb = Buffer.from(preview.image.bytes);
    const meta = await sharp(thumb).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.exif, undefined);
    assert.ok(!thumb.includes(SECRETS.serial));
    assert.deepEqual([meta.width, meta.height], [30, 40], 'the thumbnail is upright (Orientation 6 applied)');
    // no cookie, no referrer, no compression asked for, on either request
    for (const hit of good.hits) {
      assert.equal(hit.headers.cookie, undefined);
      assert.equal(hit.headers.referer, undefined);
      assert.equal(hit.headers['accept-encoding'], 'identity');
      assert.equal(hit.headers.host, `good.test:${good.port}`, 'the Host header names the site, though the connection went to its checked address');
    }
  } finally {
    await good.close();
  }
});

test('a redirect to 127.0.0.1, and a name that resolves to loopback, are refused and the private server is never contacted', async () => {
  const inside = await site('127.0.0.1', { '/admin': html('<title>router admin</title>') });
  const outside = await site(PUBLIC, {
    '/to-loopback': redirect(`http://127.0.0.1:${inside.port}/admin`),
    '/to-name': redirect(`http://intranet.test:${inside.port}/admin`),
    '/to-mapped': redirect(`http://[::ffff:127.0.0.1]:${inside.port}/admin`),
    '/to-decimal': redirect(`http://2130706433:${inside.port}/admin`),
    '/to-metadata': redirect('http://169.254.169.254/latest/meta-data/'),
    '/to-file': redirect('file:///etc/passwd'),
  });
  const options = guard({ resolve: names({ 'good.test': [PUBLIC], 'intranet.test': ['127.0.0.1'], 'both.test': [PUBLIC, '127.0.0.1'] }) });
  try {
    for (const path of ['/to-loopback', '/to-name', '/to-mapped', '/to-decimal', '/to-metadata']) {
      const error = await refused(fetchLinkPreview(`http://good.test:${outside.port}${path}`, options), 'address');
      assert.match(error.message, /private or special address/);
    }
    await refused(fetchLinkPreview(`http://good.test:${outside.port}/to-file`, options), 'scheme');
    await refused(fetchLinkPreview(`http://intranet.test:${inside.port}/admin`, options), 'address');
    // one bad address among several is enough to refuse: the check never picks the good one and hopes
    await refused(fetchLinkPreview(`http://both.test:${inside.port}/admin`, options), 'address');
    await refused(fetchLinkPreview(`http://127.0.0.1:${inside.port}/admin`, options), 'address');
    await refused(fetchLinkPreview(`http://localhost:${inside.port}/admin`, { ...options, resolve: undefined }), 'address');
    assert.equal(inside.hits.length, 0, 'the private server was contacted');
  } finally {
    await Promise.all([inside.close(), outside.close()]);
  }
});

test('the name is resolved once per hop and the connection goes to the address that was checked (no DNS rebinding)', async () => {
  const inside = await site('127.0.0.1', { '/': html('<title>inside</title>') });
  const outside = await site(PUBLIC, { '/': html('<title>outside</title>') });
  let calls = 0;
  // the rebinding trick: a public answer for the check, loopback for any later lookup
  const resolve = async () => (calls++ === 0 ? [PUBLIC] : ['127.0.0.1']);
  try {
    // both servers listen on the same port number only by chance; what matters is which address was dialled
    const preview = await fetchLinkPreview(`http://rebind.test:${outside.port}/`, { allowAddresses: [PUBLIC], resolve });
    assert.equal(preview.title, 'outside');
    assert.equal(calls, 1);
    assert.equal(inside.hits.length, 0);
  } finally {
    await Promise.all([inside.close(), outside.close()]);
  }
});

test('at most 3 redirects, and no cookie a hop set goes to the next', async () => {
  const hop = (n: number): Handler => (req, res) => redirect(`http://${req.headers.host}/${n}`)(req, res);
  const s = await site(PUBLIC, { '/0': hop(1), '/1': hop(2), '/2': hop(3), '/3': html('<title>after three</title>'), '/x': redirect('/0') });
  try {
    assert.equal((await fetchLinkPreview(`http://good.test:${s.port}/0`, guard())).title, 'after three');
    assert.deepEqual(s.hits.map((hit) => hit.headers.cookie), [undefined, undefined, undefined, undefined], 'each hop set a cookie; none was sent back');
    await refused(fetchLinkPreview(`http://good.test:${s.port}/x`, guard()), 'redirects');
  } finally {
    await s.close();
  }
});

test('a page of 1 GB is read only up to the limit; an image of 1 GB is refused and the card keeps its text', async () => {
  const endless = (type: string, head: string, declare: boolean): Handler => (req, res) => {
    res.writeHead(200, { 'content-type': type, ...(declare ? { 'content-length': String(2 ** 30) } : {}) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    res.write(head);
    const pump = () => {
      while (sent < 2 ** 30 && !res.destroyed) {
        sent += chunk.length;
        (s.written.bytes += chunk.length);
        if (!res.write(chunk)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    req.socket.on('close', () => res.destroy());
    pump();
  };
  const s: Site = await site(PUBLIC, {
    '/page': endless('text/html', '<html><head><title>big</title><meta property="og:image" content="/image"><meta property="og:description" content="', false),
    '/image': endless('image/png', '', false),
    '/declared': endless('image/png', '', true),
    '/page2': html('<title>declared</title><meta property="og:image" content="/declared">'),
  });
  try {
    const preview = await fetchLinkPreview(`http://good.test:${s.port}/page`, guard({ timeoutMs: 30_000 }));
    assert.equal(preview.title, 'big');
    assert.equal(preview.image, null);
    assert.ok(s.written.bytes < 32 * 1024 * 1024, `the server wrote ${s.written.bytes} bytes before the client stopped it`);
    const declared = await fetchLinkPreview(`http://good.test:${s.port}/page2`, guard({ timeoutMs: 30_000 }));
    assert.equal(declared.image, null);
  } finally {
    await s.close();
  }
});

test('a server that stalls, before or during its answer, is timed out', async () => {
  const s = await site(PUBLIC, {
    '/silent': () => undefined,
    '/slow': (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.write('<html><head><title>sl'); },
  });
  try {
    for (const path of ['/silent', '/slow']) {
      const error = await refused(fetchLinkPreview(`http://good.test:${s.port}${path}`, guard({ timeoutMs: 300 })), 'timeout');
      assert.match(error.message, /too long/);
    }
    // a resolver that never answers is bounded by the same deadline
    await refused(fetchLinkPreview('http://hang.test/', { resolve: () => new Promise(() => undefined), timeoutMs: 300 }), 'timeout');
  } finally {
    await s.close();
  }
});

test('hostile HTML: scripts, a huge attribute, deep nesting and disguising characters come out as plain bounded text', async () => {
  const nested = '<div>'.repeat(100_000);
  const s = await site(PUBLIC, {
    '/': html(`<html><head><script>document.title = "<title>from a script</title>"; fetch("http://evil")</script>
      <meta property="og:title" content="${'A'.repeat(400 * 1024)}">
      <meta property="og:description" content="line\u0000one\u202Eevil\u200B  two">
      <title>Real\u0007 title\u202E gnp.exe ${'x'.repeat(500)}</title><style>title { }</style></head>
      <body>${nested}<meta property="og:image" content="/never"><title>in the body</title></body></html>`),
    '/never': () => assert.fail('an image named in the body was fetched'),
    '/json': (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); },
    '/untitled': html('<html><head></head><body>no title</body></html>'),
  });
  try {
    const preview = await fetchLinkPreview(`http://good.test:${s.port}/`, guard());
    assert.ok(preview.title.startsWith('Real title gnp.exe xxx'), preview.title);
    assert.ok([...preview.title].length <= 200);
    assert.doesNotMatch(preview.title, /[\u0000-\u001f\u202e]/);
    assert.equal(preview.description, 'line one evil two');
    assert.equal(preview.image, null);
    await refused(fetchLinkPreview(`http://good.test:${s.port}/json`, guard()), 'type');
    await refused(fetchLinkPreview(`http://good.test:${s.port}/untitled`, guard()), 'empty');
  } finally {
    await s.close();
  }
});

test('only http and https, without credentials; links are found in text without trailing punctuation', async () => {
  for (const link of ['ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,<title>x</title>', 'gopher://x/']) {
    await refused(fetchLinkPreview(link, guard()), 'scheme');
  }
  await refused(fetchLinkPreview('http://user:pass@good.test/', guard()), 'scheme');
  assert.equal(firstLink('see https://example.com/a?b=1, then'), 'https://example.com/a?b=1');
  assert.equal(firstLink('(https://example.com/x).'), 'https://example.com/x');
  assert.equal(firstLink('no link here, example.com'), null);
});
