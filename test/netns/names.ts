/**
 * Names and addresses of one run of the multi-host tier (issue 16, point 6). Every kernel
 * object a run makes carries the prefix `rkn` and the run's tag, the test process's PID in
 * base 36 padded to 5 characters, so that runs in parallel never share a name and a later run
 * can tell a leftover of a crashed run (its PID is gone) from a run still going (network.ts).
 * Interface names stay within Linux's 15 characters: `rkn` + tag + `b` (the bridge), `v<i>`
 * (host side of host i's veth pair) and `p<i>` (its peer before it is moved into the
 * namespace and renamed eth0). Namespaces are `rkn-<tag>-h<i>`.
 *
 * Pure: the caller supplies the PID and the routes already in use.
 */

export const PREFIX = 'rkn';
const TAG_LENGTH = 5;

export interface RunNames {
  readonly tag: string;
  readonly bridge: string;
  /** The /24's first three octets, e.g. "10.151.23". */
  readonly subnet: string;
  /** The root namespace's address on the bridge: the clients' (never cut by the nemesis). */
  readonly clientAddress: string;
  readonly namespace: (host: number) => string;
  readonly hostVeth: (host: number) => string;
  readonly peerVeth: (host: number) => string;
  /** Host i (1-based) is .10+i. */
  readonly hostAddress: (host: number) => string;
}

export function tagOf(pid: number): string {
  return pid.toString(36).padStart(TAG_LENGTH, '0');
}

export function runNames(pid: number, subnet: string): RunNames {
  const tag = tagOf(pid);
  return {
    tag,
    subnet,
    bridge: `${PREFIX}${tag}b`,
    clientAddress: `${subnet}.1`,
    namespace: (host) => `${PREFIX}-${tag}-h${host}`,
    hostVeth: (host) => `${PREFIX}${tag}v${host}`,
    peerVeth: (host) => `${PREFIX}${tag}p${host}`,
    hostAddress: (host) => `${subnet}.${10 + host}`,
  };
}

/** The run tag a namespace or link name of this tier carries, or undefined for other names. */
export function tagInName(name: string): string | undefined {
  const namespace = new RegExp(`^${PREFIX}-([0-9a-z]{${TAG_LENGTH}})-h\\d+$`).exec(name);
  if (namespace) return namespace[1];
  const link = new RegExp(`^${PREFIX}([0-9a-z]{${TAG_LENGTH}})(b|v\\d+|p\\d+)$`).exec(name);
  return link?.[1];
}

export function pidOfTag(tag: string): number {
  return parseInt(tag, 36);
}

function toNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** True when the IPv4 prefixes `a` and `b` ("10.1.2.0/24", "default") share an address. */
export function overlaps(a: string, b: string): boolean {
  const parse = (cidr: string): [number, number] => {
    if (cidr === 'default') return [0, 0];
    const [address, bits] = cidr.split('/');
    const length = bits === undefined ? 32 : Number(bits);
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return [(toNumber(address!) & mask) >>> 0, mask];
  };
  const [netA, maskA] = parse(a);
  const [netB, maskB] = parse(b);
  const mask = (maskA & maskB) >>> 0; // the shorter prefix decides
  return (netA & mask) >>> 0 === (netB & mask) >>> 0;
}

/**
 * A private /24 (10.150.1.0 to 10.189.250.0) that no route in `routes` overlaps, starting from
 * one derived from the PID so parallel runs start apart. The default route is ignored (it
 * overlaps everything). Throws when every candidate is taken.
 */
export function chooseSubnet(pid: number, routes: readonly string[]): string {
  const taken = routes.filter((route) => route !== 'default');
  for (let k = 0; k < 10_000; k++) {
    const n = (pid + k) % 10_000;
    const subnet = `10.${150 + Math.floor(n / 250)}.${(n % 250) + 1}`;
    if (!taken.some((route) => overlaps(route, `${subnet}.0/24`))) return subnet;
  }
  throw new Error('no free 10.150–189.x.0/24 subnet for the namespaces: every candidate overlaps a route');
}
