import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, helpText, loadConfig } from '../../../server/config.ts';
import { tempDir } from '../../support/server-client.ts';

describe('server configuration', () => {
  it('layers defaults < config file < environment < flags', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ port: 9001, logLevel: 'warn', blobQuotaBytes: 5 }));
    const fromFile = loadConfig(['--data', dir], {});
    assert.deepEqual([fromFile.port, fromFile.logLevel, fromFile.blobQuotaBytes, fromFile.host], [9001, 'warn', 5, '127.0.0.1']);
    const fromEnv = loadConfig(['--data', dir], { WARDROOM_PORT: '9002', WARDROOM_BLOB_QUOTA_BYTES: '7' });
    assert.deepEqual([fromEnv.port, fromEnv.blobQuotaBytes, fromEnv.logLevel], [9002, 7, 'warn']);
    const fromFlags = loadConfig(['--data', dir, '--port', '9003', '--insecure-http'], { WARDROOM_PORT: '9002' });
    assert.deepEqual([fromFlags.port, fromFlags.insecureHttp], [9003, true]);
  });

  it('refuses bad values with the flag named', () => {
    assert.throws(() => loadConfig(['--port', '70000'], {}), (e: Error) => e instanceof ConfigError && e.message.includes('--port'));
    assert.throws(() => loadConfig(['--bogus'], {}), ConfigError);
    assert.throws(() => loadConfig(['--tls-cert', 'a.pem'], {}), /--tls-cert and --tls-key/);
    assert.throws(() => loadConfig(['--turn-urls', 'turn:a.example:3478'], {}), /--turn-urls and --turn-secret/);
    assert.throws(() => loadConfig(['--turn-urls', 'http://x', '--turn-secret', 'x'.repeat(20)], {}), /turn:/);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'config.json'), '{ not json');
    assert.throws(() => loadConfig(['--data', dir], {}), /config file/);
  });

  it('documents every option with its environment variable in --help', () => {
    const help = helpText();
    for (const text of ['--data', 'WARDROOM_DATA_DIR', '--insecure-http', '--tls-cert', '--turn-secret', 'WARDROOM_MAX_ENVELOPE_TTL_SECONDS', 'invite']) {
      assert.ok(help.includes(text), text);
    }
  });
});
