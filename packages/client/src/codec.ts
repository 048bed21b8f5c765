/**
 * Codecs turn the store's opaque bytes into application values and back, for getJson/putJson
 * and update(). The store keeps bytes and a content type; a codec decides both on write and
 * reads the bytes back, whatever content type another writer (curl, the CLI) gave them.
 */
import { RingkvError } from './errors.js';
import type { Sibling } from './sibling.js';

export interface Codec<T> {
  /** The content type written with every encoded value. */
  readonly contentType: string;
  encode(value: T): Uint8Array;
  /** Throws on bytes that are not a value of this codec. */
  decode(bytes: Uint8Array, contentType: string): T;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** JSON values as UTF-8 with `application/json`. `undefined` (not a JSON value) is refused. */
export const jsonCodec: Codec<unknown> = {
  contentType: 'application/json',
  encode(value: unknown): Uint8Array {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('jsonCodec: the value has no JSON form (undefined, a function or a symbol)');
    return utf8.encode(text);
  },
  decode(bytes: Uint8Array): unknown {
    return JSON.parse(utf8Strict.decode(bytes)) as unknown;
  },
};

/** One decoded sibling: a value, or a tombstone from a concurrent delete. */
export type DecodedSibling<T> = { deleted: false; value: T; contentType: string } | { deleted: true };

/** Decodes every live sibling; a value the codec refuses is a KV_ERR_BAD_VALUE naming the key. */
export function decodeSiblings<T>(key: string, siblings: readonly Sibling[], codec: Codec<T>): DecodedSibling<T>[] {
  return siblings.map((sibling) => {
    if (sibling.deleted) return { deleted: true };
    try {
      return { deleted: false, value: codec.decode(sibling.value, sibling.contentType), contentType: sibling.contentType };
    } catch (error) {
      throw new RingkvError('KV_ERR_BAD_VALUE', `the value of "${key}" (${sibling.contentType}, ${sibling.value.byteLength} bytes) does not decode: ${(error as Error).message}`, 0, { key }, { cause: error });
    }
  });
}

/** The live values of decoded siblings, in the order the node listed them. */
export function liveValues<T>(siblings: readonly DecodedSibling<T>[]): T[] {
  return siblings.flatMap((sibling) => (sibling.deleted ? [] : [sibling.value]));
}
