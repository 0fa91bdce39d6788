// The invite link an admin hands to a new member:
//   wardroom://join?server=<https url>&pin=<base64url SHA-256 of the server's SPKI>&org=<base64url org key fingerprint>&code=<invite code>
// Pure (no Node or server imports) so the client engine can reuse it to parse what the user pastes.

export interface InviteLink {
  /** Base URL of the relay, https: (http: only for loopback test servers). */
  server: string;
  /** base64url SHA-256 of the server certificate's SubjectPublicKeyInfo; null only for a plain-HTTP test server. */
  pin: string | null;
  /** base64url fingerprint of the org key, once the first admin registered one. */
  org: string | null;
  code: string;
}

export class InviteLinkError extends Error {
  override readonly name = 'InviteLinkError';
}

const PREFIX = 'wardroom://join?';
const MAX_LINK_LENGTH = 2048;
const B64URL = /^[A-Za-z0-9_-]+$/;
const SHA256_B64URL_LENGTH = 43;

export function formatInviteLink(link: InviteLink): string {
  const params = new URLSearchParams({ server: link.server });
  if (link.pin !== null) params.set('pin', link.pin);
  if (link.org !== null) params.set('org', link.org);
  params.set('code', link.code);
  return PREFIX + params.toString();
}

export function parseInviteLink(text: string): InviteLink {
  const trimmed = text.trim();
  if (trimmed.length > MAX_LINK_LENGTH) throw new InviteLinkError('invite link is too long');
  if (!trimmed.startsWith(PREFIX)) throw new InviteLinkError('not a wardroom://join link');
  const params = new URLSearchParams(trimmed.slice(PREFIX.length));
  for (const key of params.keys()) {
    if (!['server', 'pin', 'org', 'code'].includes(key)) throw new InviteLinkError(`unknown invite parameter "${key}"`);
    if (params.getAll(key).length > 1) throw new InviteLinkError(`invite parameter "${key}" appears twice`);
  }
  const server = params.get('server');
  const code = params.get('code');
  if (!server || !code) throw new InviteLinkError('invite link needs server and code');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new InviteLinkError('invite server is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InviteLinkError('invite server must be https');
  if (url.username || url.password || url.search || url.hash) throw new InviteLinkError('invite server URL must be a plain origin');
  const pin = params.get('pin');
  const org = params.get('org');
  if (url.protocol === 'https:' && pin === null) throw new InviteLinkError('an https invite must carry the certificate pin');
  if (pin !== null && (pin.length !== SHA256_B64URL_LENGTH || !B64URL.test(pin))) throw new InviteLinkError('invite pin is malformed');
  if (org !== null && (org.length !== SHA256_B64URL_LENGTH || !B64URL.test(org))) throw new InviteLinkError('invite org fingerprint is malformed');
  if (!B64URL.test(code) || code.length > 128) throw new InviteLinkError('invite code is malformed');
  return { server: url.origin, pin, org, code };
}
