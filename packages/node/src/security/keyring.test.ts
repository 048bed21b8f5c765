import { hkdfSync } from 'node:crypto';
import t from 'tap';
import { deriveKeys, Keyring, KEY_LABELS, parseSecretFile, validateSecrets } from './keyring.js';

t.test('each purpose gets its own key: HKDF-SHA256 over the secret with a distinct label', async (t) => {
  const keys = deriveKeys('a-cluster-secret');
  t.equal(keys.context.length, 32);
  t.equal(keys.internal.length, 32);
  t.equal(keys.gossip.length, 32);
  t.not(keys.context.toString('hex'), keys.internal.toString('hex'));
  t.not(keys.context.toString('hex'), keys.gossip.toString('hex'));
  t.not(keys.internal.toString('hex'), keys.gossip.toString('hex'));
  t.not(keys.context.toString('hex'), Buffer.from('a-cluster-secret').toString('hex').padEnd(64, '0'), 'not the raw secret');
  const expected = Buffer.from(hkdfSync('sha256', 'a-cluster-secret', 'ringkv cluster secret v2', KEY_LABELS.gossip, 32));
  t.same(keys.gossip, expected, 'the documented derivation (docs/security.md)');
  t.same(deriveKeys('a-cluster-secret'), keys, 'deterministic: every node derives the same keys');
  t.not(deriveKeys('another-secret').context.toString('hex'), keys.context.toString('hex'));
  t.match(keys.fingerprint, /^[0-9a-f]{16}$/);
  t.equal(new Set(Object.values(KEY_LABELS)).size, 4, 'labels are distinct');
  t.equal(new Set([keys.context, keys.internal, keys.gossip, keys.stream].map((k) => k.toString('hex'))).size, 4, 'so are the four keys');
  t.same(keys.stream, Buffer.from(hkdfSync('sha256', 'a-cluster-secret', 'ringkv cluster secret v2', KEY_LABELS.stream, 32)), 'the stream key too');
});

t.test('a keyring signs with its first secret and lists every key, primary first', async (t) => {
  const ring = new Keyring(['new-secret-1', 'old-secret-2']);
  t.same(ring.primary, deriveKeys('new-secret-1'));
  t.same(ring.contextKeys, [deriveKeys('new-secret-1').context, deriveKeys('old-secret-2').context]);
  t.same(ring.internalKeys[1], deriveKeys('old-secret-2').internal);
  t.same(ring.gossipKeys[0], deriveKeys('new-secret-1').gossip);
  t.same(ring.streamKeys, [deriveKeys('new-secret-1').stream, deriveKeys('old-secret-2').stream]);
  t.same(ring.fingerprints(), [deriveKeys('new-secret-1').fingerprint, deriveKeys('old-secret-2').fingerprint]);
  ring.replace(['old-secret-2']);
  t.same(ring.contextKeys, [deriveKeys('old-secret-2').context], 'replaced as a whole');
  t.throws(() => ring.replace([]), { code: 'KV_ERR_CONFIG' });
  t.same(ring.contextKeys, [deriveKeys('old-secret-2').context], 'a bad list keeps the old keys');
});

t.test('bad secret lists are KV_ERR_CONFIG', async (t) => {
  const bad: Array<[string, string[]]> = [
    ['empty', []],
    ['too short', ['short']],
    ['a duplicate', ['secret-one', 'secret-one']],
    ['nine secrets', Array.from({ length: 9 }, (_, i) => `secret-${i}-xx`)],
    ['a line break', ['secret\nwith-break']],
    ['too long', ['x'.repeat(4097)]],
  ];
  for (const [what, secrets] of bad) t.throws(() => validateSecrets(secrets), { code: 'KV_ERR_CONFIG', details: { field: 'secret' } }, what);
  t.doesNotThrow(() => validateSecrets(['12345678']));
});

t.test('a secret file: one secret per line, first is primary; blanks and # comments skipped', async (t) => {
  t.same(parseSecretFile('# rotated 2025-01\n  new-secret-aaa  \n\nold-secret-bbb\r\n'), ['new-secret-aaa', 'old-secret-bbb']);
  t.throws(() => parseSecretFile('# nothing here\n\n'), { code: 'KV_ERR_CONFIG' });
  t.throws(() => parseSecretFile('short\n'), { code: 'KV_ERR_CONFIG' });
});
