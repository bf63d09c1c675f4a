import { addressText, addressWords } from '../verify/networks';

/**
 * The one key every per-address limit counts under (sign-in throttle, leak reports): an IPv4 address
 * as itself, an IPv6 address as the network it belongs to (its first `ipv6PrefixLength` bits, /64 by
 * default: one customer line or host gets a whole /64, so counting single IPv6 addresses would give
 * it 2^64 budgets), an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as its IPv4 address. However an
 * address is written (case, `::` compression, leading zeros, a zone, brackets), it gets one key.
 *
 * @example
 * addressKey('2001:db8:1:2::7', 64)     // '2001:db8:1:2::/64'
 * addressKey('::ffff:192.0.2.1', 64)    // '192.0.2.1'
 * addressKey(null, 64)                  // 'unknown': requests without an address share one budget
 */
export function addressKey(address: string | null, ipv6PrefixLength: number): string {
  if (address === null) return 'unknown';
  const words = addressWords(address, { leadingZeros: true });
  // Not an address (a misconfigured header): counted as the text it is, bounded by the header reader.
  if (!words) return address.trim().toLowerCase();
  if (words.length === 2) return addressText(words);
  const masked = words.map((word, index) => {
    const bits = Math.min(16, Math.max(0, ipv6PrefixLength - index * 16));
    return bits === 0 ? 0 : word & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${addressText(masked)}/${ipv6PrefixLength}`;
}
