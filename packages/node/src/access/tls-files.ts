/**
 * TLS material of a node (`--tls-cert`, `--tls-key`, `--tls-ca`), loaded once at start-up and
 * checked by building a secure context, so a key that does not match its certificate or a file
 * that is not PEM stops the node with KV_ERR_CONFIG instead of failing every handshake later.
 *
 * The same certificate serves the port and is presented to peers as a client certificate, so
 * node certificates carry both extendedKeyUsage serverAuth and clientAuth, and a subjectAltName
 * for every address peers and clients use (IP:… for nodes addressed by IP: Node.js checks IP
 * addresses against IP SANs). docs/security.md "TLS" has the openssl commands.
 */
import { createSecureContext } from 'node:tls';
import type { ServerOptions } from 'node:https';
import { KvError } from '../errors.js';
import { readPrivateFile, readPublicFile } from './private-file.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The ring's CA: peers must chain to it (mutual TLS). */
  readonly ca?: Buffer;
}

/** Reads and checks the files, or returns undefined when TLS is off (no --tls-cert). */
export function loadTls(files: { tlsCert: string; tlsKey: string; tlsCa: string }): TlsMaterial | undefined {
  if (files.tlsCert === '') return undefined;
  const material: TlsMaterial = {
    cert: readPublicFile(files.tlsCert, 'tlsCert'),
    key: readPrivateFile(files.tlsKey, 'tlsKey'),
    ...(files.tlsCa === '' ? {} : { ca: readPublicFile(files.tlsCa, 'tlsCa') }),
  };
  try {
    createSecureContext({ cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) });
  } catch (error) {
    throw new KvError('KV_ERR_CONFIG', `the TLS files do not form a usable identity (${files.tlsCert}, ${files.tlsKey}): ${(error as Error).message}`, { field: 'tlsCert' });
  }
  return material;
}

/**
 * Options of the HTTPS server. With a CA, every connection is asked for a client certificate,
 * but one without (a client, curl) is still served: the certificate is required only by the
 * /internal/ routes (http/access.ts), because clients and peers share the port.
 */
export function serverTlsOptions(material: TlsMaterial, handshakeTimeoutMs: number): ServerOptions {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
    ...(material.ca ? { ca: material.ca, requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** What a node's connections to its peers use: verify them against the CA, present our certificate. */
export function peerConnectOptions(material: TlsMaterial): { ca?: Buffer; cert: Buffer; key: Buffer; rejectUnauthorized: true } {
  return { cert: material.cert, key: material.key, rejectUnauthorized: true, ...(material.ca ? { ca: material.ca } : {}) };
}
