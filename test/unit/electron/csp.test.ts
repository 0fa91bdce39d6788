// The Content-Security-Policy and the app protocol that sets it. The CSP is checked by the same evaluator
// electronegativity's CSP check runs (Google's CSP evaluator, shipped inside it), which the scan itself cannot
// apply here: it finds a CSP only as a literal in a webRequest callback or an HTML <meta>, and ours is a header
// the protocol handler builds. The handler is run for real, on real files and real Request/Response objects
// (what Electron's protocol.handle passes and expects); only Electron's runtime, which cannot run here, is absent.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { appProtocolHandler, APP_SCHEME_PRIVILEGES, fileForUrl } from '../../../electron/app-protocol.ts';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../../../electron/csp.ts';
import { APP_SCHEME } from '../../../electron/origin.ts';
import { tempDir } from '../../support/server-client.ts';

const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => {
  const [name, ...sources] = d.split(' ');
  return [name!, sources];
}));

describe('electron: the Content-Security-Policy', () => {
  it('allows only our own origin for code and nothing from the network', () => {
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('style-src'), ["'self'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    for (const none of ['object-src', 'frame-src', 'frame-ancestors', 'base-uri', 'form-action']) assert.deepEqual(directives.get(none), ["'none'"], none);
    for (const [name, sources] of directives) {
      for (const loose of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", '*', 'http:', 'https:', 'ws:', 'wss:', 'file:', 'filesystem:']) {
        assert.ok(!sources.includes(loose), `${name} must not allow ${loose}`);
      }
      if (name === 'script-src' || name === 'worker-src') assert.ok(!sources.includes('data:') && !sources.includes('blob:'), `${name} runs no data: or blob: code`);
    }
  });

  it("passes Google's CSP evaluator (the one electronegativity uses) with nothing but the note on 'self'", () => {
    const require = createRequire(import.meta.resolve('@doyensec/electronegativity/package.json'));
    const csp = require('@doyensec/csp-evaluator') as {
      CspParser: new (text: string) => { csp: unknown };
      CspEvaluator: new (policy: unknown, version: unknown) => { evaluate(): { severity: number; directive: string; description: string }[] };
      Version: { CSP3: unknown };
      severities: Record<string, number>;
    };
    const findings = new csp.CspEvaluator(new csp.CspParser(CONTENT_SECURITY_POLICY).csp, csp.Version.CSP3).evaluate();
    const serious = findings.filter((f) => f.severity <= csp.severities.HIGH_MAYBE!);
    assert.deepEqual(serious, [], 'no high, medium or syntax findings');
    // 'self' is risky where an origin also serves JSONP or user uploads; ours serves only the renderer's build
    assert.deepEqual(findings.filter((f) => !(f.directive === 'script-src' && f.description.includes("'self'"))).map((f) => f.description), []);
  });
});

describe('electron: the app protocol', () => {
  let root = '';
  let outside = '';
  const handler = () => appProtocolHandler({ root });
  const get = (url: string, method = 'GET') => handler()(new Request(url, { method }));

  before(() => {
    const dir = tempDir('wardroom-app-protocol-');
    root = path.join(dir, 'dist');
    outside = path.join(dir, 'secret.txt');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(root, 'assets', 'app.css'), 'body{}');
    writeFileSync(outside, 'not for the page');
    symlinkSync(outside, path.join(root, 'assets', 'link.txt'));
  });

  it('is registered standard and secure, and never bypasses the CSP', () => {
    assert.equal(APP_SCHEME_PRIVILEGES.scheme, APP_SCHEME);
    assert.equal(APP_SCHEME_PRIVILEGES.privileges!.standard, true);
    assert.equal(APP_SCHEME_PRIVILEGES.privileges!.secure, true);
    assert.equal(APP_SCHEME_PRIVILEGES.privileges!.bypassCSP, false);
    assert.equal(APP_SCHEME_PRIVILEGES.privileges!.allowServiceWorkers, false);
    assert.equal(APP_SCHEME_PRIVILEGES.privileges!.corsEnabled, false);
  });

  it('serves the build with its type and every security header', async () => {
    const page = await get('wardroom-app://app/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module"/);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(page.headers.get(name), value, name);
    const script = await get('wardroom-app://app/assets/app.js');
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await script.text(), 'console.log(1)');
    assert.equal((await get('wardroom-app://app/assets/app.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    const head = await get('wardroom-app://app/index.html', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('answers everything else with 404 or 405, still under the CSP', async () => {
    const refused: Array<[string, string, number]> = [
      ['wardroom-app://app/missing.js', 'GET', 404],
      ['wardroom-app://app/assets', 'GET', 404], // a directory
      ['wardroom-app://other/index.html', 'GET', 404],
      ['wardroom-app://app:8080/index.html', 'GET', 404],
      ['wardroom-app://app/index.html', 'POST', 405],
      ['wardroom-app://app/assets/link.txt', 'GET', 404], // a symlink out of the build
    ];
    for (const [url, method, status] of refused) {
      const response = await get(url, method);
      assert.equal(response.status, status, `${method} ${url}`);
      assert.equal(response.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, url);
      assert.doesNotMatch(await response.text(), /not for the page/);
    }
  });

  it('never names a file outside the build, however the path is spelled', () => {
    for (const url of [
      'wardroom-app://app/../secret.txt', 'wardroom-app://app/%2e%2e/secret.txt', 'wardroom-app://app/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'wardroom-app://app/..%5csecret.txt', 'wardroom-app://app/assets%00/app.js', 'wardroom-app://app/%E0%A4%A', 'wardroom-app://user@app/index.html', 'https://app/index.html', 'file:///etc/passwd', 'not a url',
    ]) {
      const file = fileForUrl(root, url);
      assert.ok(file === null || file.startsWith(root + path.sep), `${url} -> ${file}`);
      assert.notEqual(file, outside, url);
    }
    for (const url of ['wardroom-app://app/..%5csecret.txt', 'wardroom-app://app/assets%00/app.js', 'wardroom-app://app/%E0%A4%A', 'wardroom-app://user@app/index.html', 'https://app/index.html', 'file:///etc/passwd', 'not a url']) {
      assert.equal(fileForUrl(root, url), null, url);
    }
    assert.equal(fileForUrl(root, 'wardroom-app://app/'), path.join(root, 'index.html'));
    assert.equal(fileForUrl(root, 'wardroom-app://app/assets/app.js?v=1#x'), path.join(root, 'assets', 'app.js'));
  });
});
