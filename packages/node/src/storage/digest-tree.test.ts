import t from 'tap';
import { createHash } from 'node:crypto';
import { objectDigest } from './digest-tree.js';

/** The definition: md5(u32 big-endian key length in bytes, the key's UTF-8, the encoded object). */
function expected(key: string, encoded: Uint8Array): string {
  const keyBytes = Buffer.from(key, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(keyBytes.length);
  return createHash('md5').update(length).update(keyBytes).update(encoded).digest('hex');
}

t.test('object digests follow their definition on both sides of the JavaScript/OpenSSL switch and past the scratch buffer', async (t) => {
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) & 0xff);
  for (const key of ['k', 'node1/key-1', 'ключ-日本'])
    for (const size of [0, 1, 100, 238, 239, 240, 241, 244, 245, 252, 253, 256, 257, 600, 4096, 65_000, 65_536, 70_000]) {
      const encoded = bytes.subarray(0, size);
      const got = Buffer.from(objectDigest(key, encoded)).toString('hex');
      if (got !== expected(key, encoded)) t.fail(`${key} with ${size} bytes`);
    }
  t.pass('every size');
});

t.test('a digest is a plain 16-byte array of its own', async (t) => {
  const small = objectDigest('a', new Uint8Array(10));
  const large = objectDigest('a', new Uint8Array(5000));
  t.equal(small.length, 16);
  t.equal(large.length, 16);
  const before = Buffer.from(small).toString('hex');
  objectDigest('b', new Uint8Array(10));
  t.equal(Buffer.from(small).toString('hex'), before, 'the next digest does not change it');
});
