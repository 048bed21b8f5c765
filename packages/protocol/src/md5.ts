/**
 * MD5 (RFC 1321) in plain JavaScript, for ring positions and replica digests: spread and change
 * detection, never security (ring.ts says why MD5).
 *
 * Why not node:crypto: its one-shot `crypto.hash('md5', …)` costs about 2 CPU-µs per call on
 * this project's machine whatever the input's size (OpenSSL 3 looks the digest up and builds a
 * context per call), and a replicated PUT hashes six times (the key's position at the
 * coordinator and at both replicas, the stored object's digest at all three). This costs
 * 0.3 µs for a short key and about 1 µs for a 300-byte object (BENCHMARKS.md, "Side by side
 * with etcd, 2026-12-04", item 3), gives the same bytes (md5.test.ts checks RFC 1321's vectors
 * and random inputs against node:crypto), and needs no Node built-in, so the protocol package
 * runs anywhere. Past about 300 bytes OpenSSL's loop is faster (~1.5 against ~5 ns a byte):
 * the node's object digests of more than 256 bytes use node:crypto (storage/digest-tree.ts).
 *
 * The scratch memory below is shared by every call: safe because a call never yields.
 */

/** K[i] = floor(|sin(i + 1)| · 2^32) (RFC 1321 §3.4), as a table: no float rounding to trust. */
const K = new Int32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

/** The message words of the block being compressed, and the running state (A, B, C, D). */
const words = new Int32Array(16);
const state = new Int32Array(4);
/** The last one or two blocks: the input's tail, the 0x80 byte, zeros and the bit length. */
const tail = new Uint8Array(128);
/** UTF-8 of a string input; grows to the longest string hashed. */
let text = new Uint8Array(256);
const encoder = new TextEncoder();

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** One 64-byte block of `words` into `state` (RFC 1321 §3.4: four rounds of sixteen steps). */
function compress(): void {
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  for (let i = 0; i < 16; i++) {
    const f = (a + ((b & c) | (~b & d)) + K[i]! + words[i]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + rotl(f, i % 4 === 0 ? 7 : i % 4 === 1 ? 12 : i % 4 === 2 ? 17 : 22)) | 0;
  }
  for (let i = 16; i < 32; i++) {
    const f = (a + ((d & b) | (~d & c)) + K[i]! + words[(5 * i + 1) & 15]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + rotl(f, i % 4 === 0 ? 5 : i % 4 === 1 ? 9 : i % 4 === 2 ? 14 : 20)) | 0;
  }
  for (let i = 32; i < 48; i++) {
    const f = (a + (b ^ c ^ d) + K[i]! + words[(3 * i + 5) & 15]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + rotl(f, i % 4 === 0 ? 4 : i % 4 === 1 ? 11 : i % 4 === 2 ? 16 : 23)) | 0;
  }
  for (let i = 48; i < 64; i++) {
    const f = (a + (c ^ (b | ~d)) + K[i]! + words[(7 * i) & 15]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + rotl(f, i % 4 === 0 ? 6 : i % 4 === 1 ? 10 : i % 4 === 2 ? 15 : 21)) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

function load(bytes: Uint8Array, at: number): void {
  for (let w = 0; w < 16; w++, at += 4) words[w] = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/** Hashes the first `length` bytes of `bytes` into `state`. */
function digest(bytes: Uint8Array, length: number): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89;
  state[2] = 0x98badcfe;
  state[3] = 0x10325476;
  const whole = length & ~63;
  for (let at = 0; at < whole; at += 64) {
    load(bytes, at);
    compress();
  }
  // Padding (§3.1, §3.2): 0x80, zeros to 56 mod 64, then the length in bits, little-endian.
  const rest = length - whole;
  const blocks = rest < 56 ? 1 : 2;
  tail.fill(0, 0, blocks * 64);
  for (let i = 0; i < rest; i++) tail[i] = bytes[whole + i]!;
  tail[rest] = 0x80;
  const end = blocks * 64 - 8;
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 0x20000000);
  for (let i = 0; i < 4; i++) {
    tail[end + i] = (bitsLow >>> (8 * i)) & 0xff;
    tail[end + 4 + i] = (bitsHigh >>> (8 * i)) & 0xff;
  }
  for (let at = 0; at < blocks * 64; at += 64) {
    load(tail, at);
    compress();
  }
}

/** UTF-8 of `value` into `text`; returns its length in bytes (as TextEncoder would encode it). */
function encode(value: string): number {
  // Keys are mostly short ASCII: a loop, no encoder call.
  if (value.length <= text.length) {
    let i = 0;
    for (; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      text[i] = code;
    }
    if (i === value.length) return i;
  }
  if (text.length < value.length * 3) text = new Uint8Array(value.length * 3);
  return encoder.encodeInto(value, text).written;
}

/** Hashes the UTF-8 of `value` into `state`. */
function digestString(value: string): void {
  const length = encode(value); // first: it may replace `text`
  digest(text, length);
}

/** The MD5 digest of `data` (16 bytes; a string is hashed as its UTF-8). */
export function md5(data: string | Uint8Array): Uint8Array {
  if (typeof data === 'string') digestString(data);
  else digest(data, data.length);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (state[i >> 2]! >>> (8 * (i & 3))) & 0xff;
  return out;
}

/** The first 48 bits of MD5(UTF-8 of `value`), big-endian, as a number: a ring position. */
export function md5Prefix48(value: string): number {
  digestString(value);
  const a = state[0]!;
  const b = state[1]!;
  // Digest bytes 0–3 are A little-endian, 4–5 the low two bytes of B.
  const high = ((a & 0xff) << 16) | (((a >>> 8) & 0xff) << 8) | ((a >>> 16) & 0xff);
  const low = ((a >>> 24) << 16) | ((b & 0xff) << 8) | ((b >>> 8) & 0xff);
  return high * 0x1000000 + low;
}
