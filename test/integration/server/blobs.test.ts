// Encrypted blobs: chunked resumable upload, ranged download, quota, ownership, expiry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { blobPath } from '../../../server/routes/blobs.ts';
import { createOrg, http, startTestServer } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';

describe('blobs', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let owner: TestUser;
  let reader: TestUser;

  before(async () => {
    server = await startTestServer({ blobQuotaBytes: 300_000, maxBlobBytes: 250_000 });
    const org = await createOrg(server);
    owner = await org.addUser('owner');
    reader = await org.addUser('reader');
  });
  after(() => server.close());

  const download = async (blobId: string, token: string, range?: string) => {
    const response = await fetch(`${server.url}/v1/blobs/${blobId}`, {
      headers: { authorization: `Bearer ${token}`, ...(range ? { range } : {}) },
    });
    return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()), headers: response.headers };
  };

  it('resumes an interrupted upload from the offset the server reports, then serves whole and ranged downloads', async () => {
    const content = randomBytes(200_000);
    const created = await http<{ blobId: string; maxChunkBytes: number }>(server.url, 'POST', '/v1/blobs', { token: owner.token, json: { size: content.length } });
    assert.equal(created.status, 201);
    const { blobId } = created.body;
    const put = (offset: number, end: number) => http(server.url, 'PUT', `/v1/blobs/${blobId}/data?offset=${offset}`, {
      token: owner.token, raw: content.subarray(offset, end),
    });
    assert.equal((await put(0, 64_000)).status, 200);
    // The client "crashes" and asks where to resume.
    const status = await http<{ uploaded: number; complete: boolean }>(server.url, 'GET', `/v1/blobs/${blobId}/status`, { token: owner.token });
    assert.deepEqual([status.body.uploaded, status.body.complete], [64_000, false]);
    const wrongOffset = await put(10, 64_000);
    assert.equal(wrongOffset.status, 409);
    assert.equal(wrongOffset.body.error?.code, 'wrong_offset');
    assert.equal((await download(blobId, reader.token)).status, 409, 'an incomplete blob is not served');
    assert.equal((await put(64_000, 150_000)).status, 200);
    const last = await put(150_000, 200_000);
    assert.equal(last.body.complete, true);
    const past = await http(server.url, 'PUT', `/v1/blobs/${blobId}/data?offset=200000`, { token: owner.token, raw: new Uint8Array(5) });
    assert.equal(past.status, 400, 'nothing may be written past the declared size');

    const whole = await download(blobId, reader.token);
    assert.equal(whole.status, 200);
    assert.deepEqual(Buffer.from(whole.bytes), Buffer.from(content));
    const tail = await download(blobId, reader.token, 'bytes=150000-');
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), 'bytes 150000-199999/200000');
    assert.deepEqual(Buffer.from(tail.bytes), Buffer.from(content.subarray(150_000)));
    assert.equal((await download(blobId, reader.token, 'bytes=999999-')).status, 416);
  });

  it('enforces size limits, the per-account quota and ownership of uploads and deletes', async () => {
    const tooBig = await http(server.url, 'POST', '/v1/blobs', { token: owner.token, json: { size: 250_001 } });
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.error?.code, 'file_too_large');
    // 200 000 bytes are used by the previous test; 150 000 more would pass the 300 000 quota.
    const overQuota = await http(server.url, 'POST', '/v1/blobs', { token: owner.token, json: { size: 150_000 } });
    assert.equal(overQuota.status, 413);
    assert.equal(overQuota.body.error?.code, 'quota_exceeded');
    const created = await http<{ blobId: string }>(server.url, 'POST', '/v1/blobs', { token: owner.token, json: { size: 10 } });
    const { blobId } = created.body;
    const foreign = await http(server.url, 'PUT', `/v1/blobs/${blobId}/data?offset=0`, { token: reader.token, raw: new Uint8Array(10) });
    assert.equal(foreign.status, 404, "another account cannot write into someone's blob");
    assert.equal((await http(server.url, 'DELETE', `/v1/blobs/${blobId}`, { token: reader.token })).status, 404);
    const chunkTooBig = await http(server.url, 'PUT', `/v1/blobs/${blobId}/data?offset=0`, { token: owner.token, raw: new Uint8Array(1024 * 1024 + 1) });
    assert.equal(chunkTooBig.status, 413);
    assert.equal((await http(server.url, 'DELETE', `/v1/blobs/${blobId}`, { token: owner.token })).status, 200);
    assert.equal(existsSync(blobPath(`${server.dataDir}/blobs`, blobId)), false, 'the file is removed');
  });

  it('expires blobs: an expired blob is not served and the sweep deletes its file', async () => {
    const created = await http<{ blobId: string }>(server.url, 'POST', '/v1/blobs', { token: reader.token, json: { size: 4, ttlSeconds: 60 } });
    const { blobId } = created.body;
    await http(server.url, 'PUT', `/v1/blobs/${blobId}/data?offset=0`, { token: reader.token, raw: new Uint8Array(4) });
    assert.equal((await download(blobId, owner.token)).status, 200);
    assert.ok(existsSync(blobPath(`${server.dataDir}/blobs`, blobId)));
    await server.sweep(Date.now() + 61_000);
    assert.equal(existsSync(blobPath(`${server.dataDir}/blobs`, blobId)), false, 'the sweep deleted the file');
    assert.equal((await download(blobId, owner.token)).status, 404);
  });
});
