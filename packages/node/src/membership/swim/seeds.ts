/**
 * Seeds given by name (issue 16): a seed `host:port` whose host is a DNS name is resolved again
 * at every join attempt, and every address it resolves to is a seed, so a Kubernetes headless
 * service name (one A/AAAA record per ready pod) or a round-robin DNS name works as a seed
 * list, and a seed that moved or appeared later is found on the next attempt. A name that does
 * not resolve now is logged and skipped; the driver tries again a second later (never fatal).
 * IP literals are used as they are. The resolver is injected so a test can change its answers.
 *
 * Source: Consul's and Serf's `retry_join` (names resolved again at every attempt).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';

/** Addresses of a host name in one family: what `dns.lookup(host, { all: true })` gives. */
export type SeedResolver = (host: string, family: 4 | 6) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), all addresses of the family. */
export const systemResolver: SeedResolver = async (host, family) => (await lookup(host, { all: true, family })).map((entry) => entry.address);

/** Most addresses taken from one name (a headless service of a huge StatefulSet). */
export const SEED_ADDRESSES_MAX = 64;

/** `host:port` with an IPv6 address in brackets. */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Every seed as `address:port`, names resolved (in the socket's family), duplicates and
 * `exclude` (this node's own addresses) dropped, in the order given.
 */
export async function resolveSeeds(seeds: readonly string[], resolve: SeedResolver, family: 4 | 6, exclude: (address: string) => boolean, logger: Logger): Promise<string[]> {
  const out = new Set<string>();
  await Promise.all(
    seeds.map(async (seed) => {
      const at = seed.lastIndexOf(':');
      const host = seed.slice(0, at).replace(/^\[|\]$/g, '');
      const port = Number(seed.slice(at + 1));
      if (isIP(host) !== 0) return [seed];
      try {
        const addresses = (await resolve(host, family)).filter((address) => isIP(address) === family).slice(0, SEED_ADDRESSES_MAX);
        if (addresses.length === 0) logger.warn({ seed }, 'gossip: seed name resolved to no address; trying again at the next join attempt');
        return addresses.map((address) => joinHostPort(address, port));
      } catch (error) {
        logger.warn({ seed, err: error }, 'gossip: seed name did not resolve; trying again at the next join attempt');
        return [];
      }
    }),
  ).then((lists) => lists.flat().forEach((address) => out.add(address)));
  return [...out].filter((address) => !exclude(address));
}
