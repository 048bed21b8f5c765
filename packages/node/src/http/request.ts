/**
 * Parsing and validation of client request parts: the key in the path, the quorum and timeout
 * query parameters, and the body under a size limit. Every failure is a coded 400/413, raised
 * before any state is touched.
 */
import type { IncomingMessage } from 'node:http';
import { KvError } from '../errors.js';

/**
 * The key from the raw request URL after `prefix` (for example `/kv/`). Parsed from the
 * undecoded path, so an encoded `/` (%2F) stays part of the key and malformed escapes are
 * caught here instead of by the router.
 */
export function parseKey(url: string, prefix: string, keyBytesMax: number): string {
  const pathStart = url.indexOf('/', url.indexOf('://') + 3);
  const queryStart = url.indexOf('?', pathStart);
  const path = url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
  const encoded = path.slice(prefix.length);
  if (encoded.length === 0) throw new KvError('KV_ERR_BAD_KEY', 'the key is empty', { reason: 'empty' });
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new KvError('KV_ERR_BAD_KEY', 'the key is not valid percent-encoded UTF-8', { reason: 'encoding' });
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > keyBytesMax) {
    throw new KvError('KV_ERR_BAD_KEY', `the key is ${bytes} bytes; the limit is ${keyBytesMax}`, {
      reason: 'too-long',
      bytes,
      limit: keyBytesMax,
    });
  }
  return key;
}

/** Parses a strictly decimal integer parameter, or returns `fallback` when it is absent. */
function intParam(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback;
  return /^[0-9]{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/** `r` or `w`: 1 ≤ value ≤ n, default a majority of n. */
export function parseQuorum(raw: string | undefined, name: 'r' | 'w', n: number): number {
  const value = intParam(raw, Math.floor(n / 2) + 1);
  if (value === undefined || value < 1 || value > n) {
    throw new KvError('KV_ERR_BAD_QUORUM', `${name} must be an integer from 1 to N=${n} (got ${JSON.stringify(raw)})`, {
      parameter: name,
      n,
    });
  }
  return value;
}

/** `timeout_ms`: 1 ≤ value ≤ max, default `fallback`. */
export function parseTimeout(raw: string | undefined, fallback: number, max: number): number {
  const value = intParam(raw, fallback);
  if (value === undefined || value < 1 || value > max) {
    throw new KvError('KV_ERR_BAD_TIMEOUT', `timeout_ms must be an integer from 1 to ${max} (got ${JSON.stringify(raw)})`, {
      max,
    });
  }
  return value;
}

function tooLarge(limit: number, bytes?: number): KvError {
  return new KvError('KV_ERR_VALUE_TOO_LARGE', `the value exceeds the limit of ${limit} bytes`, {
    limit,
    ...(bytes === undefined ? {} : { bytes }),
  });
}

/**
 * Reads a request body of at most `limit` bytes. A Content-Length over the limit is refused
 * before a byte is read; a chunked body is counted while it streams and refused at the first
 * chunk past the limit, so an oversize body is never buffered whole.
 */
/**
 * The request body, at most `limit` bytes. Behind the Node server the body is read from the
 * IncomingMessage itself (`incoming`, hono's `c.env.incoming`): asking the Request for its
 * body makes the adapter build a full web Request, ReadableStream and AbortSignal per request,
 * which took a third of a node's CPU under a PUT load (BENCHMARKS.md). `app.request()` in
 * tests has no IncomingMessage and reads the web stream; both paths enforce the same limits.
 */
/** The Node IncomingMessage behind a request, when the Node server adapter passed it (`c.env.incoming`). */
export function incomingOf(c: { env: unknown }): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * A request header (`name` in lower case), read from Node's already parsed headers when the
 * request came through the Node adapter: asking the web Request builds a whole Headers object
 * per request (about 1 % of a node's CPU under load). Repeated headers join with ", " either way.
 */
export function headerOf(c: { env: unknown; req: { header(name: string): string | undefined } }, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (incoming === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export async function readBody(request: Request, limit: number, incoming?: IncomingMessage): Promise<Uint8Array> {
  if (incoming !== undefined) return readIncoming(incoming, limit);
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const bytes = Number(declared);
    if (Number.isFinite(bytes) && bytes > limit) throw tooLarge(limit, bytes);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return concatenated(chunks, total);
}

/**
 * The body from Node's request stream, by its events: an async iterator per request cost about
 * 3 % of a node's CPU under load. Past `limit` bytes reading stops (the 413 goes out with
 * `connection: close`, app.ts, which closes the socket with the rest unread); a body cut off
 * before its end (the client went away) is a coded 400, never a 500.
 */
function readIncoming(incoming: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined) {
    const bytes = Number(declared);
    if (Number.isFinite(bytes) && bytes > limit) return Promise.reject(tooLarge(limit, bytes));
  }
  if (incoming.readableEnded) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onCut);
      incoming.off('close', onCut);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        done();
        incoming.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(concatenated(chunks, total));
    };
    const onCut = () => {
      done();
      reject(new KvError('KV_ERR_BAD_REQUEST', `the request body ended after ${total} bytes, before its end (the connection closed)`));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onCut);
    incoming.on('close', onCut);
  });
}

function concatenated(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(0);
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}
