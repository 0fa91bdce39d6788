// A relay that lies: a proxy in front of the real server that passes HTTP through untouched and lets a test
// rewrite what the server pushes to a device over the WebSocket (drop, duplicate, reorder, replay, tamper,
// inject). It stands for a compromised or buggy server; the engine must reject what is forged, never show a
// duplicate, report what it cannot decrypt, and keep working.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Decoder } from 'cbor-x';
import WebSocket, { WebSocketServer } from 'ws';
import { fromBase64Url, sign, signingKeyPair, toBase64Url } from '../../core/crypto/sodium.ts';
import { certifyDevice, decodeDeviceCertificate, signDeviceList } from '../../core/protocol/identity.ts';
import { encodeFrame, type ServerFrame } from '../../core/relay/frames.ts';
import { formatInviteLink, parseInviteLink } from '../../core/relay/invite-link.ts';

/** The same invite link, pointing at another address of the same relay (a proxy in front of it), its pin unchanged. */
export const inviteVia = (invite: string, server: string) => formatInviteLink({ ...parseInviteLink(invite), server });

type Deliver = Extract<ServerFrame, { t: 'deliver' }>;
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** What to do with one frame on its way to a device: the frames to send instead (none drops it). */
export type Rewrite = (frame: ServerFrame, device: string) => ServerFrame[];

export interface HostileRelay {
  url: string;
  /** Applied to every server-to-client frame; the default passes everything through. */
  rewrite: Rewrite;
  /**
   * Applied to the body of every JSON reply (by path: GETs, and POSTs such as prekey claims), with the device that
   * asked (null when signed out); the default passes it through.
   */
  rewriteReply: (path: string, body: unknown, device: string | null) => unknown;
  /** Every JSON request body a device sent (a signed membership entry the relay may keep and show elsewhere). */
  requests: { method: string; path: string; body: unknown }[];
  /** Every deliver frame the server pushed, per device, as the server sent it. */
  delivered: Map<string, Deliver[]>;
  /** Every seq each device acknowledged (it acknowledges a batch after committing it). */
  acked: Map<string, Set<number>>;
  /** Pushes a frame to a device's socket as if the server sent it. */
  inject(device: string, frame: ServerFrame): boolean;
  /** Deliveries this relay made up: their acks are swallowed so the real server never sees unknown seqs. */
  close(): Promise<void>;
}

export async function startHostileRelay(upstream: string): Promise<HostileRelay> {
  const sockets = new Map<string, WebSocket>();
  const fakeSeqs = new Set<number>();
  // which device a session token belongs to, asked of the real server once per token
  const devices = new Map<string, Promise<string | null>>();
  const deviceOf = (authorization: string | undefined): Promise<string | null> => {
    if (!authorization) return Promise.resolve(null);
    if (!devices.has(authorization)) {
      devices.set(authorization, fetch(new URL('/v1/me', upstream), { headers: { authorization } })
        .then(async (me) => (me.status === 200 ? ((await me.json()) as { deviceId: string }).deviceId : null), () => null));
    }
    return devices.get(authorization)!;
  };
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', upstream);
    const sent: Buffer[] = [];
    const forward = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (reply) => {
      const json = String(reply.headers['content-type'] ?? '').startsWith('application/json');
      if (!json) {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      reply.on('data', (chunk: Buffer) => chunks.push(chunk));
      reply.on('end', () => void deviceOf(req.headers.authorization).then((device) => {
        const body = JSON.stringify(relay.rewriteReply(target.pathname, JSON.parse(Buffer.concat(chunks).toString('utf8')), device));
        const { 'content-length': _length, ...headers } = reply.headers;
        res.writeHead(reply.statusCode ?? 502, { ...headers, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }));
    });
    forward.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      sent.push(chunk);
      forward.write(chunk);
    });
    req.on('end', () => {
      forward.end();
      if (String(req.headers['content-type'] ?? '').startsWith('application/json') && sent.length) {
        relay.requests.push({ method: req.method ?? 'GET', path: target.pathname, body: JSON.parse(Buffer.concat(sent).toString('utf8')) as unknown });
      }
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  const relay: HostileRelay = {
    url: '',
    rewrite: (frame) => [frame],
    rewriteReply: (_path, body) => body,
    requests: [],
    delivered: new Map(),
    acked: new Map(),
    inject(device, frame) {
      const socket = sockets.get(device);
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      if (frame.t === 'deliver') fakeSeqs.add(frame.seq);
      socket.send(encodeFrame(frame));
      return true;
    },
    async close() {
      for (const socket of sockets.values()) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  server.on('upgrade', (req, socket, head) => {
    const authorization = req.headers.authorization ?? '';
    void fetch(new URL('/v1/me', upstream), { headers: { authorization } }).then(async (me) => {
      if (me.status !== 200) {
        socket.end(`HTTP/1.1 ${me.status} Unauthorized\r\n\r\n`);
        return;
      }
      const { deviceId } = await me.json() as { deviceId: string };
      const up = new WebSocket(`${upstream.replace(/^http/, 'ws')}/v1/ws`, { headers: { authorization } });
      up.binaryType = 'nodebuffer';
      up.once('open', () => wss.handleUpgrade(req, socket, head, (client) => {
        sockets.set(deviceId, client);
        up.on('message', (data: Buffer) => {
          const frame = decoder.decode(data) as ServerFrame;
          if (frame.t === 'deliver') relay.delivered.set(deviceId, [...(relay.delivered.get(deviceId) ?? []), frame]);
          for (const out of relay.rewrite(frame, deviceId)) {
            if (out.t === 'deliver' && out !== frame) fakeSeqs.add(out.seq);
            client.send(encodeFrame(out));
          }
        });
        client.on('message', (data: Buffer) => {
          const frame = decoder.decode(data) as { t: string; rid: number; seqs?: number[] };
          if (frame.t === 'ack' && frame.seqs) {
            for (const seq of frame.seqs) relay.acked.set(deviceId, (relay.acked.get(deviceId) ?? new Set()).add(seq));
            const real = frame.seqs.filter((s) => !fakeSeqs.has(s));
            if (real.length === 0) {
              client.send(encodeFrame({ t: 'acked', rid: frame.rid, removed: 0 }));
              return;
            }
            if (real.length !== frame.seqs.length) {
              up.send(encodeFrame({ t: 'ack', rid: frame.rid, seqs: real }));
              return;
            }
          }
          up.send(data);
        });
        const end = () => {
          if (sockets.get(deviceId) === client) sockets.delete(deviceId);
          client.close();
          up.close();
        };
        client.on('close', end);
        up.on('close', end);
      }));
      up.once('error', () => socket.destroy());
    }, () => socket.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return relay;
}

/**
 * The relay's lie about who someone is: `person`'s identity under an account key of its own, vouching for their
 * real device (so what a client accepts really goes out, and the real device cannot read it): a device list and a
 * device certificate signed by that key, the rest as the relay holds it. Other replies pass through `hostile`'s
 * rewrite as before. A client hears of it when it next fetches the person's device list.
 */
export function serveForgedIdentity(hostile: HostileRelay, person: { username: string; accountId: string; deviceId: string }, version: number): void {
  const forged = signingKeyPair();
  const list = signDeviceList(forged, { userId: person.username, version, devices: [person.deviceId], issuedAt: Date.now() });
  const wire = (blob: Uint8Array) => ({ data: toBase64Url(blob), signature: toBase64Url(sign(blob, forged.secretKey)) });
  type Devices = { devices: { deviceId: string; certificate: { data: string } | null }[] };
  const previous = hostile.rewriteReply;
  hostile.rewriteReply = (path, body, device) => {
    if (path !== `/v1/accounts/${person.accountId}/devices`) return previous(path, body, device);
    const devices = (body as Devices).devices.map((d) => {
      if (d.deviceId !== person.deviceId || !d.certificate) return d;
      const real = decodeDeviceCertificate(fromBase64Url(d.certificate.data));
      return { ...d, certificate: wire(certifyDevice(forged, person.username, real.deviceId, real.signingPublicKey, real.dhPublicKey, real.createdAt)) };
    });
    return { ...(body as object), devices, accountPublicKey: toBase64Url(forged.publicKey), deviceList: wire(list), deviceListVersion: version };
  };
}
