/**
 * A request's body, read under a size limit: the one part of a request the parser (parse.ts)
 * cannot judge from the headers and the URL alone. Every failure is a coded 413 or 400.
 */
import type { IncomingMessage } from 'node:http';
import { KvError } from '../errors.js';
import { declaredTooLarge, valueTooLarge } from './parse.js';
import { closeLingering, LINGER_BYTES_MAX } from './lingering-close.js';

// The parsers lived here before parse.ts; routes written against this module still find them.
export { headerOf, incomingOf, parseKey, parseQuorum, parseTimeout } from './parse.js';

/**
 * The request body, at most `limit` bytes. A Content-Length over the limit is refused before a
 * byte is read (parse.ts); a chunked body is counted while it streams and refused at the first
 * chunk past the limit, so an oversize body is never buffered whole. Behind the Node server the
 * body is read from the IncomingMessage itself (`incoming`, hono's `c.env.incoming`): asking the
 * Request for its body makes the adapter build a full web Request, ReadableStream and
 * AbortSignal per request, which took a third of a node's CPU under a PUT load (BENCHMARKS.md).
 * `app.request()` in tests has no IncomingMessage and reads the web stream; both paths enforce
 * the same limits.
 */
export async function readBody(request: Request, limit: number, incoming?: IncomingMessage): Promise<Uint8Array> {
  if (incoming !== undefined) return readIncoming(incoming, limit);
  const refused = declaredTooLarge(request.headers.get('content-length'), limit);
  if (refused !== undefined) throw refused;
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
      throw valueTooLarge(limit);
    }
    chunks.push(value);
  }
  return concatenated(chunks, total);
}

/**
 * After a body is refused, keeps reading and dropping what the client still sends, up to
 * LINGER_BYTES_MAX, while the 413 goes out, and makes the connection's close a lingering one
 * (lingering-close.ts): unread bytes would turn the close into a reset that can discard the 413.
 * Past the bound the stream is paused: a client still sending that much gets the reset.
 */
function linger(incoming: IncomingMessage): void {
  let dropped = 0;
  const drop = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES_MAX) {
      incoming.off('data', drop);
      incoming.pause();
    }
  };
  incoming.on('data', drop);
  incoming.resume();
  closeLingering(incoming.socket);
}

/**
 * The body from Node's request stream, by its events: an async iterator per request cost about
 * 3 % of a node's CPU under load. Past `limit` bytes the body is refused (the 413 goes out with
 * `connection: close`, app.ts) and what follows is dropped, within a bound (`linger`); a body cut off
 * before its end (the client went away) is a coded 400, never a 500.
 */
function readIncoming(incoming: IncomingMessage, limit: number): Promise<Uint8Array> {
  const refused = declaredTooLarge(incoming.headers['content-length'], limit);
  if (refused !== undefined) return Promise.reject(refused);
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
        linger(incoming);
        reject(valueTooLarge(limit));
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
