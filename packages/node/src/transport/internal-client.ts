/**
 * Signed /internal/ requests for tools outside a node (the CLI's local ring, the fault harness,
 * tests): a hello to learn the node's id and boot epoch, then the headers of one request signed
 * for them (auth.ts). Nodes talk to each other through HttpTransport, which caches the hello.
 */
import { request, type Dispatcher } from 'undici';
import { KvError } from '../errors.js';
import { Keyring } from '../security/keyring.js';
import { HELLO_PATH, newNonce, readHelloAnswer, signHello, signRequest, type Receiver } from './auth.js';

/** How long a tool waits for a hello answer. */
const HELLO_TIMEOUT_MS = 5_000;

function keysOf(secret: string | Keyring): readonly Uint8Array[] {
  return (typeof secret === 'string' ? new Keyring([secret]) : secret).internalKeys;
}

/** Asks the node at `baseUrl` who it is and which boot epoch it runs (authenticated both ways). */
export async function helloNode(baseUrl: string, secret: string | Keyring, sender: string, nowMs = Date.now(), dispatcher?: Dispatcher): Promise<Receiver> {
  const keys = keysOf(secret);
  const nonce = newNonce();
  const response = await request(`${baseUrl}${HELLO_PATH}`, {
    ...(dispatcher === undefined ? {} : { dispatcher }),
    method: 'POST',
    headers: signHello(keys[0]!, sender, nowMs, nonce),
    body: '',
    // A one-off exchange: no idle keep-alive socket is left behind to go stale if the node
    // restarts (a later hello would be sent on it and fail with "other side closed").
    reset: true,
    headersTimeout: HELLO_TIMEOUT_MS,
    bodyTimeout: HELLO_TIMEOUT_MS,
  });
  const text = await response.body.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  const receiver = response.statusCode === 200 ? readHelloAnswer(answer, keys, nonce) : undefined;
  if (receiver === undefined) throw new KvError('KV_ERR_PEER_UNREACHABLE', `${baseUrl} did not answer the hello (${response.statusCode}): ${text.slice(0, 200)}`);
  return receiver;
}

/**
 * The authentication headers of a POST of `body` to `path` on the node at `baseUrl`, signed
 * for it (one hello first). The caller sends them with exactly `body`.
 */
export async function internalHeaders(baseUrl: string, secret: string | Keyring, sender: string, path: string, body: Uint8Array, nowMs = Date.now()): Promise<Record<string, string>> {
  const receiver = await helloNode(baseUrl, secret, sender, nowMs);
  return signRequest(keysOf(secret)[0]!, sender, receiver, path, body, nowMs);
}
