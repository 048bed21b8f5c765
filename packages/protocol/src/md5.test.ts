import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { md5, md5Prefix48 } from './md5.js';
import { ringPosition } from './ring.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const reference = (data: string | Uint8Array) => createHash('md5').update(data).digest();

t.test('RFC 1321 appendix A.5 test suite', async (t) => {
  const vectors: Array<[string, string]> = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  for (const [input, digest] of vectors) {
    t.equal(hex(md5(input)), digest, JSON.stringify(input));
    t.equal(hex(md5(new TextEncoder().encode(input))), digest, `${JSON.stringify(input)} as bytes`);
  }
});

t.test('every padding boundary (lengths 0 to 200) and a long input match node:crypto', async (t) => {
  const bytes = Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff);
  for (let length = 0; length <= 200; length++) {
    const input = bytes.subarray(0, length);
    if (hex(md5(input)) !== reference(input).toString('hex')) t.fail(`length ${length}`);
  }
  const long = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 131) & 0xff);
  t.equal(hex(md5(long)), reference(long).toString('hex'), '70,000 bytes');
  t.equal(hex(md5('x'.repeat(5000))), reference('x'.repeat(5000)).toString('hex'), 'a 5,000-character string (grows the scratch)');
  t.pass('lengths 0–200');
});

t.test('random strings (non-ASCII and lone surrogates too) and bytes match node:crypto; ring positions are its first 48 bits (property)', async (t) => {
  const strings = fc.oneof(fc.string({ maxLength: 90 }), fc.string({ minLength: 250, maxLength: 900 }), fc.string({ unit: 'binary', maxLength: 90 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 90 }));
  fc.assert(
    fc.property(strings, fc.uint8Array({ maxLength: 300 }), (text, bytes) => {
      const expected = reference(text);
      return hex(md5(text)) === expected.toString('hex') && md5Prefix48(text) === expected.readUIntBE(0, 6) && ringPosition(text) === expected.readUIntBE(0, 6) && hex(md5(bytes)) === reference(bytes).toString('hex');
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 random inputs');
});

t.test('a digest is its own array: the next call does not change it', async (t) => {
  const first = md5('first');
  const copy = hex(first);
  md5('second');
  t.equal(hex(first), copy);
});
