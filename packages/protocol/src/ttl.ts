/**
 * The longest time to live a write may carry (`PUT /kv/{key}?ttl_ms=`, the client's `ttlMs`,
 * forwarded and replica frames): ten years. Long enough for any cache or lease; bounded so an
 * expiry (the coordinator's clock + TTL) stays far inside the integers every codec stores it in.
 * One definition for the HTTP parser and the frame decoder, so a forwarded write is never
 * refused for a TTL its entry node accepted.
 */
export const TTL_MS_MAX = 10 * 365 * 86_400_000;
