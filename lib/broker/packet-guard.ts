// A pass-through stream that reads MQTT fixed headers and stops a connection whose packet would exceed the size limit,
// before its body is buffered (aedes has no maximum packet size: a 50 MB publish was read whole into memory).
import { Transform, type TransformCallback } from "node:stream";

/** Default maximum MQTT packet size, bytes (header included): 256 KiB on both brokers. */
export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

export class PacketTooLarge extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`MQTT packet of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = "PacketTooLarge";
  }
}

/** Fixed-header parser state: which byte of the header comes next, or how much body is left to pass through. */
export class PacketSizeGuard extends Transform {
  private state: "type" | "length" | "body" = "type";
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private left = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_PACKET_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "body") {
        const take = Math.min(this.left, chunk.length - i);
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = "type";
        continue;
      }
      const byte = chunk.readUInt8(i++);
      if (this.state === "type") {
        this.state = "length";
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return done(new Error("malformed MQTT remaining length"));
        continue;
      }
      const size = 1 + this.lengthBytes + this.length;
      if (size > this.maxBytes) return done(new PacketTooLarge(size, this.maxBytes));
      this.left = this.length;
      this.state = this.left === 0 ? "type" : "body";
    }
    done(null, chunk);
  }
}
