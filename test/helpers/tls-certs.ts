/**
 * Throwaway TLS material for tests, made with the openssl CLI (3.x) exactly as
 * docs/security.md tells an operator to: a CA, and per node an EC key and a certificate signed
 * by it with a SAN for 127.0.0.1 and localhost and both serverAuth and clientAuth (a node's
 * certificate serves its port and identifies it to its peers). Keys are written 0600.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes `<dir>/<name>-ca.crt` and its key; returns the certificate's path. */
export function makeCa(dir: string, name = 'ringkv'): CertFiles {
  const cert = join(dir, `${name}-ca.crt`);
  const key = join(dir, `${name}-ca.key`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  chmodSync(key, 0o600);
  return { cert, key };
}

/** A node certificate for `name` signed by `ca`, valid for 127.0.0.1 and localhost. */
export function makeNodeCert(dir: string, ca: CertFiles, name: string, san = 'IP:127.0.0.1,DNS:localhost'): CertFiles {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], dir);
  chmodSync(key, 0o600);
  return { cert, key };
}
