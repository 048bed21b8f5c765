/**
 * What the multi-host tier needs from the machine: root (network namespaces, veth pairs and
 * nftables need CAP_NET_ADMIN), `ip` (iproute2), `nft` (nftables) and libfaketime, the
 * packages installed from Debian's archive when missing (test/helpers/debian-package.ts). CI
 * runs as root on Linux, so this should always hold there; when it does not, the tier fails
 * with the reason. It is never skipped: a skipped tier would pass without testing anything.
 */
import { execFileSync } from 'node:child_process';
import { ensureDebianPackage, which } from '../helpers/debian-package.js';
import { ensureFaketime } from '../helpers/faketime.js';

export interface Tools {
  readonly ip: string;
  readonly nft: string;
  readonly libfaketime: string;
}

/** Installs what is missing and checks that namespaces can be made; throws with the reason. */
export function ensurePrerequisites(): Tools {
  if (process.platform !== 'linux') throw new Error(`the multi-host tier needs Linux network namespaces; this is ${process.platform}`);
  if (process.getuid?.() !== 0) {
    throw new Error('the multi-host tier needs root (CAP_NET_ADMIN for ip netns, veth pairs, a bridge and nftables); CI runs as root: run it as root (sudo npm run test:netns)');
  }
  const ip = ensureDebianPackage('iproute2', () => which('ip'));
  const nft = ensureDebianPackage('nftables', () => which('nft'));
  const libfaketime = ensureFaketime();
  try {
    execFileSync(ip, ['netns', 'list'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`root, but "ip netns list" fails (${(error as Error).message}): the kernel or the container does not allow network namespaces here`);
  }
  return { ip, nft, libfaketime };
}
