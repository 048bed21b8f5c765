/**
 * Turns a key's reconciled object into the response of the fixed contract (SPEC.md):
 * one live sibling → 200 with the value and its content type; several siblings (tombstones
 * included) → 300 with every sibling; only tombstones → 404 with the context; nothing → 404.
 * Every answer about an existing history carries `X-Ringkv-Context`.
 */
import { CONTEXT_HEADER, type SiblingJson, type SiblingsBody } from '@ringkv/protocol';
import { KvError } from '../errors.js';
import { isDeleted, type VersionedObject } from '../core/versioned.js';

export function siblingsBody(object: VersionedObject, context: string): SiblingsBody {
  const siblings: SiblingJson[] = object.siblings.map((sibling) =>
    sibling.deleted
      ? { deleted: true }
      : { value: Buffer.from(sibling.value).toString('base64'), contentType: sibling.contentType },
  );
  return { context, siblings };
}

function errorResponse(error: KvError, headers: Record<string, string> = {}): Response {
  return Response.json(error.toBody(), { status: error.status, headers });
}

export function renderRead(key: string, object: VersionedObject | undefined, encodeContext: (o: VersionedObject, key: string) => string): Response {
  if (object === undefined || object.siblings.length === 0) {
    return errorResponse(new KvError('KV_ERR_NOT_FOUND', 'no value for this key', { key }));
  }
  const context = encodeContext(object, key);
  if (isDeleted(object)) {
    return errorResponse(new KvError('KV_ERR_NOT_FOUND', 'the key is deleted', { key, deleted: true }), {
      [CONTEXT_HEADER]: context,
    });
  }
  if (object.siblings.length === 1) {
    const [only] = object.siblings;
    return new Response(only!.value, {
      status: 200,
      headers: { 'content-type': only!.contentType, [CONTEXT_HEADER]: context },
    });
  }
  return Response.json(siblingsBody(object, context), { status: 300, headers: { [CONTEXT_HEADER]: context } });
}

