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
  const text = address.trim().toLowerCase();
  const v4 = ipv4Words(text);
  if (v4) return ipv4Text(v4);
  const v6 = ipv6Words(text);
  // Not an address (a misconfigured header): counted as the text it is, bounded by the header reader.
  if (!v6) return text;
  if (v6.slice(0, 5).every((word) => word === 0) && v6[5] === 0xffff) return ipv4Text([v6[6]!, v6[7]!]);
  const masked = v6.map((word, index) => {
    const bits = Math.min(16, Math.max(0, ipv6PrefixLength - index * 16));
    return bits === 0 ? 0 : word & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${compress(masked)}/${ipv6PrefixLength}`;
}

/** Dotted-quad IPv4 (decimal, 0-255 each) as two 16-bit words, else null. */
function ipv4Words(text: string): [number, number] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255))
    return null;
  const [a, b, c, d] = parts.map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
}

const ipv4Text = ([high, low]: readonly number[]) =>
  [high! >> 8, high! & 255, low! >> 8, low! & 255].join('.');

/** An IPv6 address (RFC 4291 text forms; brackets and a zone allowed) as eight 16-bit words, else null. */
function ipv6Words(input: string): number[] | null {
  const text = input.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const parts = half.split(':');
    const words: number[] = [];
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = ipv4Words(part);
        if (!v4) return null;
        words.push(...v4);
      } else if (/^[0-9a-f]{1,4}$/.test(part)) words.push(Number.parseInt(part, 16));
      else return null;
    }
    return words;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : null;
}

/** RFC 5952 text: the longest run of two or more zero words becomes `::`. */
function compress(words: readonly number[]): string {
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && words[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
  }
  const hex = words.map((word) => word.toString(16));
  if (best.start === -1) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}
