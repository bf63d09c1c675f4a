/**
 * Client networks (IP allowlists), shared by the server (an API-Token's `allowed_networks`, checked at
 * the exchange) and the verifier (a Base-Token's `cidr` claim). Pure and dependency-free.
 *
 * Canonical form, which the server stores and signs and the verifier insists on:
 * - IPv4 `a.b.c.d/n` in decimal without leading zeros; IPv6 in RFC 5952 text (lower case, the longest
 *   run of zero words as `::`) followed by `/n`; always with the prefix length.
 * - A bare address is a one-address network (`/32`, `/128`).
 * - IPv4-mapped IPv6 (`::ffff:192.0.2.0/120`) is the IPv4 network it maps (`192.0.2.0/24`), as a
 *   client address `::ffff:192.0.2.1` is `192.0.2.1` (as src/throttle/address-key.ts counts it).
 * - Host bits must be zero: `203.0.113.7/24` is refused rather than silently widened to
 *   `203.0.113.0/24` (a typo would otherwise grant a whole network).
 *
 * @example
 * canonicalNetwork('2001:DB8:0:0::/48')  // '2001:db8::/48'
 * canonicalNetwork('198.51.100.7')       // '198.51.100.7/32'
 * networksContain(['203.0.113.0/24'], '::ffff:203.0.113.9') // true
 */

/** At most this many networks on one token (and in one `cidr` claim). */
export const MAX_NETWORKS = 20;

interface Parsed {
  /** 2 words (IPv4) or 8 words (IPv6), 16 bits each. */
  words: number[];
}

/** Dotted-quad IPv4 (decimal 0-255; leading zeros only when allowed) as two 16-bit words, else null. */
function ipv4Words(text: string, leadingZeros = false): number[] | null {
  const parts = text.split('.');
  const decimal = leadingZeros ? /^\d{1,3}$/ : /^(0|[1-9]\d{0,2})$/;
  if (parts.length !== 4 || !parts.every((part) => decimal.test(part) && Number(part) <= 255)) return null;
  const [a, b, c, d] = parts.map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
}

/** An IPv6 address (RFC 4291 text forms, an embedded IPv4 tail allowed) as eight 16-bit words, else null. */
function ipv6Words(text: string, leadingZeros = false): number[] | null {
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const parts = half.split(':');
    const words: number[] = [];
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = ipv4Words(part, leadingZeros);
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

const isMapped = (words: readonly number[]) =>
  words.length === 8 && words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff;

/**
 * An address as 16-bit words: 2 for IPv4, 8 for IPv6; IPv4-mapped IPv6 as its IPv4 address. Case,
 * brackets and a zone are allowed; `leadingZeros` also reads `010.0.0.1` as `10.0.0.1` (the throttle's
 * address key does; networks refuse them). Null for anything that is no address.
 *
 * @example
 * addressWords('::ffff:192.0.2.1') // [0xc000, 0x0201]
 */
export function addressWords(input: string, options: { leadingZeros?: boolean } = {}): number[] | null {
  const text = input
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const v4 = ipv4Words(text, options.leadingZeros);
  if (v4) return v4;
  const v6 = ipv6Words(text, options.leadingZeros);
  if (!v6) return null;
  return isMapped(v6) ? v6.slice(6) : v6;
}

function parseAddress(input: string): Parsed | null {
  const words = addressWords(input);
  return words ? { words } : null;
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

/**
 * Words as text: dotted-quad IPv4, RFC 5952 IPv6.
 *
 * @example
 * addressText([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]) // '2001:db8::1'
 */
export const addressText = (words: readonly number[]) =>
  words.length === 2
    ? [words[0]! >> 8, words[0]! & 255, words[1]! >> 8, words[1]! & 255].join('.')
    : compress(words);

/** Whether the first `bits` bits of `a` and `b` (same length) agree. */
function samePrefix(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let index = 0; index < a.length; index++) {
    const take = Math.min(16, Math.max(0, bits - index * 16));
    if (take === 0) return true;
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((a[index]! & mask) !== (b[index]! & mask)) return false;
  }
  return true;
}

/**
 * The canonical text of one network entry (an address, or address/prefix), or a reason it is not one.
 *
 * @example
 * canonicalNetwork('2001:db8::/48')   // { network: '2001:db8::/48' }
 * canonicalNetwork('10.0.0.1/8')      // { error: 'host bits are set (10.0.0.0/8 is the network)' }
 */
export function canonicalNetwork(entry: string): { network: string } | { error: string } {
  const slash = entry.indexOf('/');
  const addressPart = slash === -1 ? entry : entry.slice(0, slash);
  const lengthText = slash === -1 ? undefined : entry.slice(slash + 1);
  const text = addressPart.trim().toLowerCase();
  const v4 = ipv4Words(text);
  const v6 = v4 ? null : ipv6Words(text);
  if (!v4 && !v6) return { error: 'not an IPv4 or IPv6 address' };
  let words = (v4 ?? v6)!;
  const maxBits = words.length * 16;
  let bits = maxBits;
  if (lengthText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(lengthText) || Number(lengthText) > maxBits)
      return { error: `the prefix length must be 0-${maxBits}` };
    bits = Number(lengthText);
  }
  if (v6 && isMapped(v6) && bits >= 96) {
    words = v6.slice(6);
    bits -= 96;
  }
  const network = words.map((word, index) => {
    const take = Math.min(16, Math.max(0, bits - index * 16));
    return take === 0 ? 0 : word & ((0xffff << (16 - take)) & 0xffff);
  });
  if (network.some((word, index) => word !== words[index]))
    return { error: `host bits are set (${addressText(network)}/${bits} is the network)` };
  return { network: `${addressText(network)}/${bits}` };
}

/** Whether `entry` is a network in canonical form (what a `cidr` claim must hold). */
export function isCanonicalNetwork(entry: string): boolean {
  const result = canonicalNetwork(entry);
  return 'network' in result && result.network === entry;
}

/** The words and prefix length of a canonical entry (null if it is not one). */
function entryOf(entry: string): { words: number[]; bits: number } | null {
  const slash = entry.lastIndexOf('/');
  const text = entry.slice(0, slash);
  const words = ipv4Words(text) ?? ipv6Words(text);
  return words && slash !== -1 ? { words, bits: Number(entry.slice(slash + 1)) } : null;
}

/**
 * Whether every address of `inner` lies in `outer` (both lists canonical): each inner network is
 * inside some outer one. A list change that does not cover the old list takes addresses away.
 *
 * @example
 * networksCover(['10.0.0.0/8'], ['10.1.0.0/16']) // true
 * networksCover(['10.1.0.0/16'], ['10.0.0.0/8']) // false
 */
export function networksCover(outer: readonly string[], inner: readonly string[]): boolean {
  const outers = outer.map(entryOf);
  return inner.every((entry) => {
    const network = entryOf(entry);
    return (
      network !== null &&
      outers.some(
        (candidate) =>
          candidate !== null &&
          candidate.words.length === network.words.length &&
          candidate.bits <= network.bits &&
          samePrefix(candidate.words, network.words, candidate.bits),
      )
    );
  });
}

/**
 * Whether `address` lies in one of `networks` (canonical entries). An address that does not parse is
 * in none of them; an IPv4-mapped IPv6 address is matched as its IPv4 address, so IPv4 clients match
 * IPv4 networks only (not `::/0`).
 *
 * @example
 * networksContain(['2001:db8::/48'], '2001:db8:0:1::5') // true
 * networksContain(['2001:db8::/48'], 'not an address')  // false
 */
export function networksContain(networks: readonly string[], address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  return networks.some((entry) => {
    const network = entryOf(entry);
    return (
      network !== null &&
      network.words.length === parsed.words.length &&
      samePrefix(network.words, parsed.words, network.bits)
    );
  });
}
