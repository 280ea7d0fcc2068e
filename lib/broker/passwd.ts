// Broker passwords: the Mosquitto 2 password-file format ($7$ = PBKDF2-SHA512), read and written by both brokers, so one
// file made with `mosquitto_passwd` serves Mosquitto and the embedded aedes broker. Verification is constant-time.
import { pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/** Iterations for hashes we write (mosquitto_passwd 2.0 writes 101; more is accepted by Mosquitto, which reads the count). */
export const PBKDF2_ITERATIONS = 10_000;

/** `user:$7$iterations$salt$hash` lines → user → encoded hash. Blank lines and `#` comments are skipped. */
export function parsePasswd(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const at = line.indexOf(":");
    if (at <= 0) throw new Error(`password file line ${i + 1}: expected user:hash`);
    const hash = line.slice(at + 1);
    if (!/^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(hash)) {
      throw new Error(`password file line ${i + 1}: user '${line.slice(0, at)}' has no hashed password ($7$…); create the file with mosquitto_passwd`);
    }
    out.set(line.slice(0, at), hash);
  }
  return out;
}

/** A `$7$` hash of `password` (random 12-byte salt). */
export function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, "sha512");
  return `$7$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** True when `password` matches the `$7$` hash; compares in constant time; false for a malformed hash. */
export function verifyPassword(password: string | Buffer, encoded: string): boolean {
  const [, rounds, salt, hash] = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded) ?? [];
  if (rounds === undefined || salt === undefined || hash === undefined) return false;
  const iterations = Number(rounds);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
  const expected = Buffer.from(hash, "base64");
  if (expected.length !== 64) return false;
  const got = pbkdf2Sync(password, Buffer.from(salt, "base64"), iterations, 64, "sha512");
  return timingSafeEqual(got, expected);
}

/** One password-file line. */
export const passwdLine = (user: string, password: string): string => `${user}:${hashPassword(password)}`;
