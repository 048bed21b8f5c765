/**
 * The cluster secret, turned into purpose-specific keys, and the keyring that lets an operator
 * rotate it on a running ring.
 *
 * One secret used to key three things at once: the tags of client contexts, the signatures of
 * /internal/ requests and the gossip packets. Every GET hands a client a (payload, tag) pair
 * keyed with it, so a weakness in one use was a weakness in all three. Now each use has its own
 * 256-bit key, derived with HKDF-SHA256 (RFC 5869) from the secret under a distinct `info`
 * label (KEY_LABELS): a context tag tells nothing about the internal or gossip keys, and a
 * message of one kind can never verify as another.
 *
 * A keyring is an ordered list of secrets. The first (the primary) signs and encrypts; every
 * one of them is accepted when verifying or decrypting. Rotation is memberlist's three steps
 * (hashicorp/memberlist keyring.go: AddKey, UseKey, RemoveKey), done on every node before the
 * next step starts: add the new secret (second line), make it primary (first line), drop the
 * old one. At no moment does one node send something another cannot read. docs/security.md
 * has the procedure.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { KvError } from '../errors.js';

/** Shortest accepted secret, in characters (the flag's documented floor). */
export const SECRET_CHARS_MIN = 8;
/** Most secrets a keyring holds: a rotation needs two; more only costs trial decryptions. */
export const KEYRING_SECRETS_MAX = 8;
/** Longest accepted secret, in bytes. */
export const SECRET_BYTES_MAX = 4096;

/**
 * HKDF `info` labels, one per purpose. Changing a label changes every key derived with it:
 * that is a wire-format change (contexts already handed to clients stop verifying).
 */
export const KEY_LABELS = Object.freeze({
  context: 'ringkv/v2 context tag (HMAC-SHA256)',
  internal: 'ringkv/v2 internal request (HMAC-SHA256)',
  gossip: 'ringkv/v2 gossip packet (AES-256-GCM)',
  /** The node-to-node stream's handshake (transport/stream-auth.ts). */
  stream: 'ringkv/v2 peer stream handshake (HMAC-SHA256)',
});

/** A fixed salt: HKDF's extract step then works as a keyed hash over the secret. */
const SALT = Buffer.from('ringkv cluster secret v2');
const KEY_BYTES = 32;

/** The keys derived from one cluster secret. */
export interface DerivedKeys {
  /** First 8 bytes of SHA-256 of the context key, hex: names the secret in logs, reveals nothing. */
  readonly fingerprint: string;
  readonly context: Buffer;
  readonly internal: Buffer;
  readonly gossip: Buffer;
  readonly stream: Buffer;
}

/** Derives the purpose keys of `secret`. Pure and deterministic. */
export function deriveKeys(secret: string): DerivedKeys {
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, Buffer.from(label, 'utf8'), KEY_BYTES));
  const context = derive(KEY_LABELS.context);
  return {
    fingerprint: createHash('sha256').update(context).digest('hex').slice(0, 16),
    context,
    internal: derive(KEY_LABELS.internal),
    gossip: derive(KEY_LABELS.gossip),
    stream: derive(KEY_LABELS.stream),
  };
}

function badKeyring(message: string): KvError {
  return new KvError('KV_ERR_CONFIG', `invalid config: secret ${message}`, { field: 'secret' });
}

/** Checks a list of secrets (primary first); throws KV_ERR_CONFIG. */
export function validateSecrets(secrets: readonly string[]): void {
  if (secrets.length === 0) throw badKeyring('list is empty (give at least one secret)');
  if (secrets.length > KEYRING_SECRETS_MAX) throw badKeyring(`list holds ${secrets.length} secrets; at most ${KEYRING_SECRETS_MAX}`);
  for (const [i, secret] of secrets.entries()) {
    if (secret.length < SECRET_CHARS_MIN) throw badKeyring(`number ${i + 1} must be at least ${SECRET_CHARS_MIN} characters`);
    if (Buffer.byteLength(secret) > SECRET_BYTES_MAX) throw badKeyring(`number ${i + 1} is longer than ${SECRET_BYTES_MAX} bytes`);
    if (/[\r\n]/.test(secret)) throw badKeyring(`number ${i + 1} contains a line break`);
  }
  if (new Set(secrets).size !== secrets.length) throw badKeyring('list names the same secret twice');
}

/**
 * The secrets of a secret file: one per line, the first is the primary; blank lines and lines
 * starting with `#` are skipped, surrounding spaces trimmed. Validated (KV_ERR_CONFIG).
 */
export function parseSecretFile(text: string): string[] {
  const secrets = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  validateSecrets(secrets);
  return secrets;
}

/**
 * The keys a node signs and verifies with: derived once per secret, replaced as a whole on
 * reload (SIGHUP), so a reader always sees one consistent list. `primary` signs and encrypts;
 * `all` (primary first) is what verification and decryption try.
 */
export class Keyring {
  private keys!: readonly DerivedKeys[];
  /** Per purpose, primary first (kept alongside `keys` so hot paths do not map per call). */
  private byPurpose!: {
    readonly context: readonly Buffer[];
    readonly internal: readonly Buffer[];
    readonly gossip: readonly Buffer[];
    readonly stream: readonly Buffer[];
  };

  constructor(secrets: readonly string[]) {
    this.replace(secrets);
  }

  /** Replaces every key at once (a reload). Throws KV_ERR_CONFIG and keeps the old keys on a bad list. */
  replace(secrets: readonly string[]): void {
    validateSecrets(secrets);
    const keys = Object.freeze(secrets.map(deriveKeys));
    this.keys = keys;
    this.byPurpose = Object.freeze({
      context: Object.freeze(keys.map((k) => k.context)),
      internal: Object.freeze(keys.map((k) => k.internal)),
      gossip: Object.freeze(keys.map((k) => k.gossip)),
      stream: Object.freeze(keys.map((k) => k.stream)),
    });
  }

  /** Context tag keys, primary first. */
  get contextKeys(): readonly Buffer[] {
    return this.byPurpose.context;
  }

  /** Internal request keys, primary first. */
  get internalKeys(): readonly Buffer[] {
    return this.byPurpose.internal;
  }

  /** Gossip encryption keys, primary first. */
  get gossipKeys(): readonly Buffer[] {
    return this.byPurpose.gossip;
  }

  /** Peer stream handshake keys, primary first. */
  get streamKeys(): readonly Buffer[] {
    return this.byPurpose.stream;
  }

  get primary(): DerivedKeys {
    return this.keys[0]!;
  }

  /** Every key set, primary first. */
  get all(): readonly DerivedKeys[] {
    return this.keys;
  }

  /** Fingerprints, primary first (for logs and /admin/status; they reveal no key). */
  fingerprints(): string[] {
    return this.keys.map((k) => k.fingerprint);
  }
}
