// KLAP cryptography (TP-Link's authenticated local protocol): auth hashes, handshake proofs and the AES session.
//
// Two generations share the session scheme and differ in the hashes:
//   v1 (Kasa IOT firmware):   auth = md5(md5(user) ‖ md5(pass));          proof1 = sha256(local ‖ auth);           proof2 = sha256(remote ‖ auth)
//   v2 (Tapo SMART firmware): auth = sha256(sha1(user) ‖ sha1(pass));     proof1 = sha256(local ‖ remote ‖ auth);  proof2 = sha256(remote ‖ local ‖ auth)
// The session (both generations): key = sha256("lsk" ‖ local ‖ remote ‖ auth)[0..16), iv = sha256("iv" ‖ …), whose
// first 12 bytes are the IV prefix and last 4 bytes (signed big-endian) the starting sequence number; signature
// key = sha256("ldk" ‖ …)[0..28). Each message: seq += 1, AES-128-CBC (PKCS#7) with IV = prefix ‖ int32be(seq),
// sent as sha256(sigkey ‖ int32be(seq) ‖ ciphertext) ‖ ciphertext. The reply is encrypted with the same IV.
import { createCipheriv, createDecipheriv, createHash, createSecretKey, timingSafeEqual, type Hash, type KeyObject } from "node:crypto";
import { PlugwatchError } from "../contracts/errors";

export type KlapVersion = 1 | 2;

export const SEED_BYTES = 16;
export const SIGNATURE_BYTES = 32;

const hash = (alg: "md5" | "sha1" | "sha256", ...parts: Buffer[]): Buffer => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
};
const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");

/** The credential hash a device stores for an account (user = e-mail). */
export function authHash(version: KlapVersion, user: string, password: string): Buffer {
  return version === 1
    ? hash("md5", hash("md5", utf8(user)), hash("md5", utf8(password)))
    : hash("sha256", hash("sha1", utf8(user)), hash("sha1", utf8(password)));
}

/** What the device sends after its seed in handshake1: proof that it knows the account. */
export function handshake1Proof(version: KlapVersion, local: Buffer, remote: Buffer, auth: Buffer): Buffer {
  return version === 1 ? hash("sha256", local, auth) : hash("sha256", local, remote, auth);
}

/** What the client posts in handshake2: proof that it knows the account. */
export function handshake2Proof(version: KlapVersion, local: Buffer, remote: Buffer, auth: Buffer): Buffer {
  return version === 1 ? hash("sha256", remote, auth) : hash("sha256", remote, local, auth);
}

/** Constant-time comparison of two proofs (false on a length mismatch). */
export function sameProof(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Wraps the sequence number like a signed 32-bit counter on the device. */
const nextSeq = (seq: number): number => (seq === 0x7fffffff ? -0x80000000 : seq + 1);

/** One KLAP session's keys and sequence number; the same class serves the client and the simulated device. */
export class KlapSession {
  readonly key: Buffer;
  readonly ivPrefix: Buffer;
  readonly sigKey: Buffer;
  /** Sequence number of the last message encrypted (the device checks the one in each request). */
  seq: number;
  // Per-message work kept small (the collector seals and opens one message per plug per second): the AES key is
  // imported once, the IV buffer is reused (createCipheriv copies it), and the signature hash starts from a copy
  // of a SHA-256 state that has already absorbed the 28-byte signature key.
  private readonly keyObject: KeyObject;
  private readonly ivBuf: Buffer;
  private readonly sigState: Hash;
  private readonly seqBuf = Buffer.allocUnsafe(4);

  constructor(local: Buffer, remote: Buffer, auth: Buffer) {
    this.key = hash("sha256", utf8("lsk"), local, remote, auth).subarray(0, 16);
    const iv = hash("sha256", utf8("iv"), local, remote, auth);
    this.ivPrefix = iv.subarray(0, 12);
    this.seq = iv.readInt32BE(28);
    this.sigKey = hash("sha256", utf8("ldk"), local, remote, auth).subarray(0, 28);
    this.keyObject = createSecretKey(this.key);
    this.ivBuf = Buffer.alloc(16);
    this.ivPrefix.copy(this.ivBuf, 0);
    this.sigState = createHash("sha256").update(this.sigKey);
  }

  private iv(seq: number): Buffer {
    this.ivBuf.writeInt32BE(seq, 12);
    return this.ivBuf;
  }

  private signature(seq: number, ciphertext: Buffer): Buffer {
    this.seqBuf.writeInt32BE(seq, 0);
    return this.sigState.copy().update(this.seqBuf).update(ciphertext).digest();
  }

  /** Signature ‖ ciphertext for `seq`. */
  seal(plain: Buffer | string, seq: number): Buffer {
    const c = createCipheriv("aes-128-cbc", this.keyObject, this.iv(seq));
    const body = c.update(typeof plain === "string" ? utf8(plain) : plain);
    const tail = c.final();
    const out = Buffer.allocUnsafe(SIGNATURE_BYTES + body.length + tail.length);
    body.copy(out, SIGNATURE_BYTES);
    tail.copy(out, SIGNATURE_BYTES + body.length);
    this.signature(seq, out.subarray(SIGNATURE_BYTES)).copy(out, 0);
    return out;
  }

  /**
   * Checks the signature and decrypts a sealed message for `seq`. Throws PROTOCOL_ERROR on a short message, a
   * wrong signature, a ciphertext that is not whole AES blocks or bad padding (never a raw crypto exception).
   */
  open(sealed: Buffer, seq: number, { verify = true }: { verify?: boolean } = {}): Buffer {
    if (sealed.length < SIGNATURE_BYTES + 16 || (sealed.length - SIGNATURE_BYTES) % 16 !== 0) {
      throw new PlugwatchError("PROTOCOL_ERROR", `KLAP message of ${sealed.length} bytes is not a 32-byte signature followed by whole AES blocks`);
    }
    const ciphertext = sealed.subarray(SIGNATURE_BYTES);
    if (verify && !sameProof(sealed.subarray(0, SIGNATURE_BYTES), this.signature(seq, ciphertext))) {
      throw new PlugwatchError("PROTOCOL_ERROR", `KLAP message for seq ${seq} has a wrong signature`);
    }
    try {
      const d = createDecipheriv("aes-128-cbc", this.keyObject, this.iv(seq));
      const body = d.update(ciphertext);
      const tail = d.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      throw new PlugwatchError("PROTOCOL_ERROR", `KLAP message for seq ${seq} does not decrypt (bad padding)`);
    }
  }

  /** Client side: the next request's sequence number and sealed bytes. */
  encryptRequest(text: string): { seq: number; body: Buffer } {
    this.seq = nextSeq(this.seq);
    return { seq: this.seq, body: this.seal(text, this.seq) };
  }

  /** Client side: the reply to the request sent with `seq`, as text. */
  decryptResponse(body: Buffer, seq: number): string {
    return this.open(body, seq).toString("utf8");
  }
}

/** Well-known factory credentials (what python-kasa's reference calls the default credentials): tried after the account's. */
export const DEFAULT_ACCOUNTS: Readonly<Record<"kasa" | "tapo", { user: string; password: string }>> = {
  kasa: { user: Buffer.from("a2FzYUB0cC1saW5rLm5ldA==", "base64").toString(), password: Buffer.from("a2FzYVNldHVw", "base64").toString() },
  tapo: { user: Buffer.from("dGVzdEB0cC1saW5rLm5ldA==", "base64").toString(), password: Buffer.from("dGVzdA==", "base64").toString() },
};
