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

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Strings up to this many UTF-16 units take the ASCII fast path of `ByteWriter.string`. */
const ASCII_FAST_PATH_CHARS = 64;

/**
 * Writes into memory from Node's Buffer pool (below 4 KiB a slice of a shared 8 KiB slab: no
 * malloc and no zero fill per writer; only bytes written are ever exposed) and writes strings in
 * place, so encoding an object allocates one view, not a TextEncoder array per string and an
 * off-heap array per growth. Measured: bench/transport-micro.ts and bench/store-micro.ts
 * (BENCHMARKS.md, "Allocations per replicated write").
 */
export class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 64) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = Math.max(this.buffer.length * 2, 64);
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
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

  /** Length-prefixed UTF-8 (lone surrogates become U+FFFD, as with TextEncoder). */
  string(value: string): this {
    const chars = value.length;
    if (chars <= ASCII_FAST_PATH_CHARS) {
      // Keys, node ids and content types are short ASCII: then bytes = chars, and the copy is a loop.
      const start = this.length;
      this.u8(chars);
      this.reserve(chars);
      const buffer = this.buffer;
      let at = this.length;
      for (let i = 0; i < chars; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) {
          this.length = start;
          return this.utf8(value);
        }
        buffer[at++] = code;
      }
      this.length = at;
      return this;
    }
    return this.utf8(value);
  }

  private utf8(value: string): this {
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes);
    this.reserve(bytes);
    this.length += this.buffer.write(value, this.length, bytes, 'utf8');
    return this;
  }

  /** The bytes written, as a plain Uint8Array view (its `slice` copies, as callers expect). */
  finish(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
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
