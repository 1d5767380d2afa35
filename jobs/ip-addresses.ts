import { isIP } from 'node:net';

/**
 * Which addresses a webhook may reach, by range: the outbound checks (./outbound-checks.ts) refuse
 * reserved ones always and non-public ones unless private networks are allowed.
 */

interface Cidr {
  bytes: number[];
  prefix: number;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** 16 bytes of an address that `net.isIP` already accepted as IPv6 (zone id removed). */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

function cidr(text: string): Cidr {
  const [address = '', prefix = ''] = text.split('/');
  return { bytes: isIP(address) === 4 ? ipv4Bytes(address) : ipv6Bytes(address), prefix: Number(prefix) };
}

function inRange(bytes: number[], range: Cidr): boolean {
  if (bytes.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const mask = (0xff << (8 - Math.min(8, range.prefix - bit))) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((range.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** Reachable only from inside an organisation (or this machine): allowed with allowPrivateNetworks. */
const NON_PUBLIC = [
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT: the provider's side of the network, not the internet
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, home of cloud metadata endpoints (169.254.169.254)
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  '64:ff9b:1::/48', // NAT64 for local use
].map(cidr);

/** Never a web server: refused even when private networks are allowed. */
const RESERVED = [
  '0.0.0.0/8', // "this network": connecting to 0.0.0.0 reaches this machine on Linux
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4', // includes 255.255.255.255
  '::/96', // unspecified, and the deprecated IPv4-compatible form
  '100::/64',
  '2001::/32', // Teredo hides an arbitrary IPv4 address in obfuscated form
  '2001:db8::/32',
  'ff00::/8',
].map(cidr);

/**
 * IPv6 forms that carry an IPv4 address the packet really goes to; the embedded address is what
 * gets checked, otherwise `::ffff:127.0.0.1` would pass as "public IPv6".
 */
const EMBEDDING_IPV4: { range: Cidr; offset: number }[] = [
  { range: cidr('::ffff:0:0/96'), offset: 12 }, // IPv4-mapped
  { range: cidr('::ffff:0:0:0/96'), offset: 12 }, // IPv4-translated (SIIT)
  { range: cidr('64:ff9b::/96'), offset: 12 }, // NAT64 well-known prefix
  { range: cidr('2002::/16'), offset: 2 }, // 6to4
];

/** `public`: anyone's; `non_public`: an organisation's or this machine's; `reserved`: never a web server's. */
export type AddressClass = 'public' | 'non_public' | 'reserved';

function classifyBytes(bytes: number[]): AddressClass {
  if (bytes.length === 16) {
    const embedding = EMBEDDING_IPV4.find(({ range }) => inRange(bytes, range));
    if (embedding) return classifyBytes(bytes.slice(embedding.offset, embedding.offset + 4));
  }
  if (NON_PUBLIC.some((range) => inRange(bytes, range))) return 'non_public';
  if (RESERVED.some((range) => inRange(bytes, range))) return 'reserved';
  return 'public';
}

/** What kind of address `address` (IPv4 or IPv6, as `net.isIP` accepts it) is, looking through IPv6 forms that carry IPv4. */
export function classifyAddress(address: string): AddressClass {
  return classifyBytes(isIP(address) === 4 ? ipv4Bytes(address) : ipv6Bytes(address));
}
