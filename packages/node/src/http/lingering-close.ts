/**
 * How the client port closes a connection whose request body it refused while the client is
 * still sending it (413 KV_ERR_VALUE_TOO_LARGE of a chunked body): a lingering close, as Apache
 * and nginx do. Node's server destroys the socket as soon as the `connection: close` response
 * is flushed (socket.destroySoon), and a socket closed with unread bytes in its receive buffer
 * is reset (RST) instead of closed; a reset that reaches the client before it read the response
 * can make its kernel drop the response, so the client saw a reset instead of the coded error
 * (bad-input.test.ts's chunked case failed that way in CI under load, twice).
 *
 * For such a connection our side is half-closed after the response (FIN), what the client still
 * sends is read and dropped (the HTTP parser keeps reading; the refused body's stream is drained,
 * request.ts), and the socket is destroyed when the client closes its side, after LINGER_MS, or
 * once it sent about LINGER_BYTES_MAX more bytes, whichever comes first: a client that keeps
 * sending past that gets the reset. Requests refused before authentication (/internal/ without a
 * valid signature) are not lingered on: nothing of theirs is read, and they are reset at once.
 */
import type { Socket } from 'node:net';

/** Longest a closing connection waits for the client to close its side. */
export const LINGER_MS = 2_000;
/** Most bytes read and dropped from a closing connection (also the refused body's bound in request.ts). */
export const LINGER_BYTES_MAX = 4 * 1024 * 1024;
/** How often the bytes bound is checked (the HTTP parser reads the socket in C++, so no event counts them): the bound holds to within what arrives in this time. */
const LINGER_CHECK_MS = 100;

/**
 * Makes the close that follows this connection's response a lingering one: replaces the socket's
 * destroySoon, which Node's HTTP server calls to close a connection after a response.
 */
export function closeLingering(socket: Socket): void {
  socket.destroySoon = () => linger(socket);
}

function linger(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  if (socket.readableEnded) {
    socket.destroy();
    return;
  }
  const from = socket.bytesRead;
  const deadline = setTimeout(() => socket.destroy(), LINGER_MS);
  const bound = setInterval(() => {
    if (socket.bytesRead - from > LINGER_BYTES_MAX) socket.destroy();
  }, LINGER_CHECK_MS);
  deadline.unref();
  bound.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => {
    clearTimeout(deadline);
    clearInterval(bound);
  });
}
