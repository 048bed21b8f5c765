/**
 * A small, bounds-checked binary writer and reader for the compact encodings of contexts and
 * stored objects. Integers are unsigned LEB128 varints up to 2^53 - 1 (JavaScript's safe
 * range), strings are length-prefixed UTF-8. The reader never reads past its input: any
 * truncation or overlong field raises `DecodeError`, which callers turn into a coded error.
 */

/** Raised by `ByteReader` on malformed input; callers map it to a coded error. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialBytes = 64) {
    this.buffer = new Uint8Array(initialBytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  /** Unsigned varint; arithmetic rather than bit operations so values above 2^32 survive. */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
    let rest = value;
    while (rest >= 0x80) {
      this.u8((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    return this.u8(rest);
  }

  bytes(value: Uint8Array): this {
    this.varint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(value: string): this {
    return this.bytes(encoder.encode(value));
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly input: Uint8Array) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.input.length - this.offset;
  }

  get done(): boolean {
    return this.offset === this.input.length;
  }

  u8(): number {
    if (this.offset >= this.input.length) throw new DecodeError('truncated input');
    return this.input[this.offset++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (!Number.isSafeInteger(value)) throw new DecodeError('varint exceeds 2^53');
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw new DecodeError('non-canonical varint');
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError('varint too long');
  }

  /** Length-prefixed bytes, refusing lengths over `maxBytes` before touching them. */
  bytes(maxBytes: number): Uint8Array {
    const length = this.varint();
    if (length > maxBytes) throw new DecodeError(`field of ${length} bytes exceeds ${maxBytes}`);
    if (this.offset + length > this.input.length) throw new DecodeError('truncated input');
    const out = this.input.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(maxBytes: number): string {
    try {
      return decoder.decode(this.bytes(maxBytes));
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      throw new DecodeError('invalid UTF-8');
    }
  }
}
