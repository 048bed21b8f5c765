/**
 * Zone names (`--zone NAME`): a failure domain such as a rack, a data centre or a cloud
 * availability zone. A key's N replicas are spread over as many distinct zones as the ring
 * has (ring.ts), the way Cassandra spreads replicas over racks and Garage over zones.
 *
 * A name is short and plain so it can travel in every gossip packet and show in any table:
 * 1 to 63 characters of letters, digits, `.`, `_` and `-`, starting with a letter or digit
 * (a DNS label's length; "eu-west-1a", "rack.12"). No zone at all is the empty string.
 */

/** Longest zone name, in characters. */
export const ZONE_NAME_LENGTH_MAX = 63;

const ZONE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** True for a valid, non-empty zone name. */
export function isZoneName(value: unknown): value is string {
  return typeof value === 'string' && ZONE_NAME.test(value);
}
