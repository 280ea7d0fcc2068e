// KLAP cryptography (TP-Link's authenticated local protocol): auth hashes, handshake proofs and the AES session.
//
// Two generations share the session scheme and differ in the hashes:
//   v1 (Kasa IOT firmware):   auth = md5(md5(user) ‖ md5(pass));          proof1 = sha256(local ‖ auth);           proof2 = sha256(remote ‖ auth)
//   v2 (Tapo SMART firmware): auth = sha256(sha1(user) ‖ sha1(pass));     proof1 = sha256(local ‖ remote ‖ auth);  proof2 = sha256(remote ‖ local ‖ auth)
// The session (both generations): key = sha256("lsk" ‖ local ‖ remote ‖ auth)[0..16), iv = sha256("iv" ‖ …), whose
// first 12 bytes are the IV prefix and last 4 bytes (signed big-endian) the starting sequence number; signature
// key = sha256("ldk" ‖ …)[0..28). Each message: seq += 1, AES-128-CBC (PKCS#7) with IV = prefix ‖ int32be(seq),
// sent as sha256(sigkey ‖ int32be(seq) ‖ ciphertext) ‖ ciphertext. The reply is encrypted with the same IV.
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from "node:crypto";
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

const int32be = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
};

/** Wraps the sequence number like a signed 32-bit counter on the device. */
const nextSeq = (seq: number): number => (seq === 0x7fffffff ? -0x80000000 : seq + 1);

/** One KLAP session's keys and sequence number; the same class serves the client and the simulated device. */
export class KlapSession {
  readonly key: Buffer;
  readonly ivPrefix: Buffer;
  readonly sigKey: Buffer;
  /** Sequence number of the last message encrypted (the device checks the one in each request). */
  seq: number;

  constructor(local: Buffer, remote: Buffer, auth: Buffer) {
    this.key = hash("sha256", utf8("lsk"), local, remote, auth).subarray(0, 16);
    const iv = hash("sha256", utf8("iv"), local, remote, auth);
    this.ivPrefix = iv.subarray(0, 12);
    this.seq = iv.readInt32BE(28);
    this.sigKey = hash("sha256", utf8("ldk"), local, remote, auth).subarray(0, 28);
  }

  private iv(seq: number): Buffer {
    return Buffer.concat([this.ivPrefix, int32be(seq)]);
  }

  /** Signature ‖ ciphertext for `seq`. */
  seal(plain: Buffer | string, seq: number): Buffer {
    const c = createCipheriv("aes-128-cbc", this.key, this.iv(seq));
    const ciphertext = Buffer.concat([c.update(typeof plain === "string" ? utf8(plain) : plain), c.final()]);
    return Buffer.concat([hash("sha256", this.sigKey, int32be(seq), ciphertext), ciphertext]);
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
    if (verify && !sameProof(sealed.subarray(0, SIGNATURE_BYTES), hash("sha256", this.sigKey, int32be(seq), ciphertext))) {
      throw new PlugwatchError("PROTOCOL_ERROR", `KLAP message for seq ${seq} has a wrong signature`);
    }
    try {
      const d = createDecipheriv("aes-128-cbc", this.key, this.iv(seq));
      return Buffer.concat([d.update(ciphertext), d.final()]);
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
