// Installs the shipped flow into a Node-RED user dir the way an editor import does: flows.json without credentials,
// flows_cred.json with the credentials encrypted like Node-RED (aes-256-ctr, key = sha256(credentialSecret)).
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

interface FlowNode {
  id: string;
  credentials?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Node-RED's own credential file format ({"$": iv hex + base64 ciphertext}). */
export function encryptCredentials(secret: string, credentials: Record<string, unknown>): { $: string } {
  const key = createHash("sha256").update(secret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  return { $: iv.toString("hex") + cipher.update(JSON.stringify(credentials), "utf8", "base64") + cipher.final("base64") };
}

/**
 * The credential secret for `userDir`: PLUGWATCH_CREDENTIAL_SECRET when given, else one generated once and kept in
 * `<userDir>/.plugwatch-credential-secret` (mode 600). The caller passes it to Node-RED as PLUGWATCH_CREDENTIAL_SECRET.
 */
export function credentialSecret(userDir: string, given = process.env.PLUGWATCH_CREDENTIAL_SECRET): string {
  if (given && given.trim()) return given.trim();
  const file = path.join(userDir, ".plugwatch-credential-secret");
  if (existsSync(file)) {
    const s = readFileSync(file, "utf8").trim();
    if (s) return s;
  }
  const secret = randomBytes(24).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/** Writes `flowFile` (credentials removed) and its `_cred` file next to it; returns how many nodes carried credentials. */
export function installFlow(source: string, flowFile: string, secret: string): number {
  const flow = JSON.parse(readFileSync(source, "utf8")) as FlowNode[];
  const creds: Record<string, Record<string, unknown>> = {};
  const stripped = flow.map((n) => {
    if (!n.credentials) return n;
    creds[n.id] = n.credentials;
    const { credentials: _omit, ...rest } = n;
    return rest;
  });
  writeFileSync(flowFile, JSON.stringify(stripped, null, 4) + "\n");
  const credFile = flowFile.replace(/\.json$/, "") + "_cred.json";
  writeFileSync(credFile, JSON.stringify(encryptCredentials(secret, creds), null, 4) + "\n", { mode: 0o600 });
  return Object.keys(creds).length;
}
