/**
 * What the simulated network does to a message body on its way: the stream transport's framing
 * (transport/frame.ts) and the body codecs (messages.ts), so the cluster simulation exercises
 * the wire format the nodes use, not just objects passed by reference. A frame is written and
 * read back through a FrameReader fed in two chunks split in the middle (as a socket may
 * deliver it); a body that does not survive is a bug the simulation should report, so it throws.
 */
import { encodeFrameHeader, FrameReader, type FrameType } from '../transport/frame.js';

/** Bodies up to this travel in the simulation (the default frame limit of a node). */
const SIM_FRAME_BYTES_MAX = 80 * 1024 * 1024;

export function overTheWire<T>(type: FrameType, body: Uint8Array, decode: (bytes: Uint8Array) => T): T {
  const frame = Buffer.concat([encodeFrameHeader(type, 1, 1_000, body.length), body]);
  const reader = new FrameReader((t) => (t === type ? SIM_FRAME_BYTES_MAX : undefined));
  const half = frame.length >> 1;
  reader.push(frame.subarray(0, half));
  const early = reader.next();
  reader.push(frame.subarray(half));
  const read = early ?? reader.next();
  if (read === undefined || read.type !== type || read.body.length !== body.length) throw new Error(`simulated wire lost a frame of type ${type}`);
  return decode(read.body);
}
