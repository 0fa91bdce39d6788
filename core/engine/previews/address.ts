// Which addresses a link preview may connect to: public unicast only. A preview is fetched because someone pasted a
// link, which may be a trap aimed at this device's network (a router's admin page, a cloud metadata service, a
// service on localhost), so everything that is not plainly on the public internet is refused. Node's BlockList
// does the matching; the table is the IANA special-purpose registries for IPv4 and IPv6.
import { BlockList, isIP } from 'node:net';

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, and the cloud metadata service at 169.254.169.254
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24], // protocol assignments, documentation
  ['192.88.99.0', 24], ['198.18.0.0', 15], // 6to4 relay anycast, benchmarking
  ['224.0.0.0', 4], ['240.0.0.0', 4], // multicast, reserved and broadcast
];

const BLOCKED_V6: [string, number][] = [
  ['::', 128], ['::1', 128], // unspecified, loopback
  ['::ffff:0:0', 96], ['::', 96], // IPv4-mapped and IPv4-compatible: an IPv4 address in disguise
  ['64:ff9b::', 96], ['64:ff9b:1::', 48], // NAT64: reaches IPv4 addresses through a translator
  ['100::', 64], // discard
  ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], // protocol assignments (Teredo among them), documentation, 6to4
  ['fc00::', 7], // unique local, and AWS's metadata service at fd00:ec2::254
  ['fe80::', 10], ['fec0::', 10], // link-local, old site-local
  ['ff00::', 8], // multicast
];

// one list per family: a BlockList also matches IPv4 addresses against IPv6 rules (as ::ffff:a.b.c.d), and the
// mapped range below would then block every IPv4 address
const blockedV4 = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blockedV4.addSubnet(net, prefix, 'ipv4');
const blockedV6 = new BlockList();
for (const [net, prefix] of BLOCKED_V6) blockedV6.addSubnet(net, prefix, 'ipv6');
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/** True only for a public unicast address (IPv6: inside 2000::/3 and outside every special range). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blockedV4.check(address, 'ipv4');
  if (family === 6) return globalUnicast.check(address, 'ipv6') && !blockedV6.check(address, 'ipv6');
  return false;
}
