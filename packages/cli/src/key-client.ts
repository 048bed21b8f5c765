/**
 * The client a key command (get, put, del, dt …) talks through: `--url` (else `RINGKV_URL`,
 * else the local ring's first node), `--token` (else `RINGKV_TOKEN`) and `--cacert` (else
 * `RINGKV_CACERT`), as credentials.ts finds them.
 */
import { RingkvClient } from '@ringkv/client';
import { DEFAULT_URL, UsageError } from './args.js';
import { caCert, clientToken } from './credentials.js';

export function clientFor(values: Record<string, string | undefined>): RingkvClient {
  const token = clientToken(values);
  const ca = caCert(values);
  try {
    return new RingkvClient({ urls: [values.url ?? process.env.RINGKV_URL ?? DEFAULT_URL], ...(token ? { token } : {}), ...(ca ? { ca } : {}) });
  } catch (error) {
    // A malformed --url (or RINGKV_URL) is a usage error (exit 64), like any other bad flag.
    if (error instanceof TypeError) throw new UsageError(`--url: ${error.message.replace(/^RingkvClient: /, '')}`);
    throw error;
  }
}
