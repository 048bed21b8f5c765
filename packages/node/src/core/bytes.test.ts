import t from 'tap';
import fc from 'fast-check';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';

const encodeVarint = (value: number): Uint8Array => new ByteWriter().varint(value).finish();
function decodeVarint(bytes: Uint8Array | number[]): number {
  const reader = new ByteReader(Uint8Array.from(bytes));
  const value = reader.varint();
  if (!reader.done) throw new Error('varint decode left bytes behind');
  return value;
}

t.test('varint boundaries round-trip with the expected encoded length', async (t) => {
  const cases: [number, number[] | number][] = [
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [16383, [0xff, 0x7f]],
    [16384, [0x80, 0x80, 0x01]],
    [2 ** 32 - 1, 5],
    [2 ** 32, 5],
    [2 ** 49 - 1, 7],
    [2 ** 49, 8],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [value, expected] of cases) {
    const bytes = encodeVarint(value);
    if (typeof expected === 'number') t.equal(bytes.length, expected, `${value} takes ${expected} bytes`);
    else t.same([...bytes], expected, `${value} encodes as ${expected.map((b) => b.toString(16)).join(' ')}`);
    t.equal(decodeVarint(bytes), value, `${value} round-trips`);
  }
});

t.test('varint round-trips every safe integer (property)', async (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.maxSafeNat()), (value) => decodeVarint(encodeVarint(value)) === value),
    { numRuns: 2000 },
  );
  t.pass('2000 random values');
});

t.test('the writer refuses values outside 0..2^53-1', async (t) => {
  for (const bad of [2 ** 53, 2 ** 53 + 2, 2 ** 64, -1, -0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new ByteWriter().varint(bad), RangeError, `${bad} refused`);
  }
  // Nothing was written by the refused call.
  const writer = new ByteWriter();
  t.throws(() => writer.varint(2 ** 53));
  t.equal(writer.finish().length, 0);
});

t.test('the reader refuses overlong (non-canonical) varints', async (t) => {
  const overlong = [
    [0x80, 0x00], // 0 in two bytes
    [0x81, 0x00], // 1 in two bytes
    [0xff, 0x00], // 127 in two bytes
    [0x80, 0x81, 0x00], // 128 in three bytes
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // 0 in eight bytes
  ];
  for (const bytes of overlong) {
    t.throws(() => decodeVarint(bytes), DecodeError, `${bytes.map((b) => b.toString(16)).join(' ')} refused`);
  }
});

t.test('the reader refuses varints beyond 2^53-1 and longer than eight bytes', async (t) => {
  // 2^53 exactly: seven 0x80 bytes then 0x10.
  t.throws(() => decodeVarint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), DecodeError, '2^53 refused');
  t.throws(() => decodeVarint([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), DecodeError, '2^56-1 refused');
  t.throws(() => decodeVarint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), DecodeError, 'nine bytes refused');
  t.throws(() => decodeVarint([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), DecodeError, 'ten bytes refused');
});

t.test('the reader refuses truncated varints and reads nothing past its input', async (t) => {
  t.throws(() => new ByteReader(new Uint8Array(0)).varint(), DecodeError);
  t.throws(() => new ByteReader(Uint8Array.of(0x80)).varint(), DecodeError);
  t.throws(() => new ByteReader(Uint8Array.of(0xff, 0xff)).varint(), DecodeError);
  // A subarray view: the reader must not see the bytes after the view's end.
  const backing = Uint8Array.of(0x80, 0x01, 0x02);
  t.throws(() => new ByteReader(backing.subarray(0, 1)).varint(), DecodeError);
  const reader = new ByteReader(Uint8Array.of(0x05));
  t.equal(reader.u8(), 5);
  t.ok(reader.done);
  t.throws(() => reader.u8(), DecodeError);
});

t.test('strings and byte fields round-trip, including all byte values and non-ASCII text', async (t) => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = 'héllo ✓ 𝄞 \u0000 end';
  const big = new Uint8Array(1000).fill(7); // forces the writer to grow past its initial buffer
  const writer = new ByteWriter(4).bytes(all).string(text).string('').bytes(big).varint(42);
  const reader = new ByteReader(writer.finish());
  t.same([...reader.bytes(256)], [...all]);
  t.equal(reader.string(64), text);
  t.equal(reader.string(0), '');
  t.same([...reader.bytes(1000)], [...big]);
  t.equal(reader.varint(), 42);
  t.ok(reader.done);
});

t.test('byte fields: the length limit is checked, and a length past the input is truncation', async (t) => {
  const encoded = new ByteWriter().bytes(new Uint8Array(10)).finish();
  t.throws(() => new ByteReader(encoded).bytes(9), DecodeError, 'longer than maxBytes');
  t.equal(new ByteReader(encoded).bytes(10).length, 10, 'exactly maxBytes is fine');
  t.throws(() => new ByteReader(encoded.subarray(0, encoded.length - 1)).bytes(100), DecodeError, 'truncated');
  // A huge declared length is refused before any allocation or read.
  const huge = new ByteWriter().varint(Number.MAX_SAFE_INTEGER).finish();
  t.throws(() => new ByteReader(huge).bytes(Number.MAX_SAFE_INTEGER), DecodeError);
  t.throws(() => new ByteReader(huge).bytes(1024), DecodeError);
});

t.test('invalid UTF-8 in a string field is a DecodeError', async (t) => {
  for (const raw of [[0xff], [0xc3], [0xed, 0xa0, 0x80] /* encoded surrogate */, [0xe2, 0x82]]) {
    const encoded = new ByteWriter().bytes(Uint8Array.from(raw)).finish();
    t.throws(() => new ByteReader(encoded).string(64), DecodeError, `${raw.map((b) => b.toString(16)).join(' ')} refused`);
  }
});

t.test('random input never throws anything but DecodeError', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const reader = new ByteReader(bytes);
      try {
        while (!reader.done) {
          reader.varint();
          reader.string(32);
        }
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
      }
      return true;
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 random inputs');
});

t.test('strings are written as TextEncoder would: the ASCII fast path, non-ASCII, lone surrogates, long strings (property)', async (t) => {
  const encoder = new TextEncoder();
  const expected = (value: string): number[] => {
    const bytes = encoder.encode(value);
    return [...new ByteWriter().varint(bytes.length).finish(), ...bytes];
  };
  const cases = ['', 'a', 'node1~abc', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(200), 'é', `${'a'.repeat(63)}é`, 'a\uD800b', '\uDC00', '日本語のキー', '😀'];
  for (const value of cases) t.same([...new ByteWriter(1).string(value).finish()], expected(value), `${JSON.stringify(value).slice(0, 40)} (${value.length} chars)`);
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 70 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 70 })), { maxLength: 5 }), (values) => {
      const writer = new ByteWriter(2).u8(7);
      for (const value of values) writer.string(value);
      const got = [...writer.finish()];
      const want = [7, ...values.flatMap(expected)];
      if (got.length !== want.length || got.some((byte, i) => byte !== want[i])) return false;
      // And they read back (well-formed ones exactly; lone surrogates as U+FFFD, as TextDecoder would).
      const reader = new ByteReader(writer.finish());
      reader.u8();
      return values.every((value) => reader.string(1 << 20) === new TextDecoder().decode(encoder.encode(value)));
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 random lists of strings');
});

t.test('a finished writer gives a plain Uint8Array whose slice copies', async (t) => {
  const bytes = new ByteWriter(4).u8(1).string('key').bytes(Uint8Array.of(9, 9)).finish();
  t.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
  const copy = bytes.slice();
  copy[0] = 42;
  t.equal(bytes[0], 1, 'slice is a copy');
  t.same([...bytes], [1, 3, 107, 101, 121, 2, 9, 9]);
});
