// A self-signed certificate for localhost in a fresh temp dir (openssl), and a Mosquitto with a TLS listener using it:
// the TLS fixtures of the plugwatch-mqtt tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startMosquitto, type MosquittoInstance } from "../../scripts/harness/mosquitto";
import { freePort, waitForPort } from "../../scripts/harness/ports";

/** key.pem and cert.pem (CN=localhost, valid one day) in a new temp dir named after `prefix`; remove `dir` when done. */
export function selfSignedCert(prefix: string): { dir: string; key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=localhost"];
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  return { dir, key: path.join(dir, "key.pem"), cert: path.join(dir, "cert.pem") };
}

/** A Mosquitto with a second listener on 127.0.0.1:<tlsPort> serving the certificate in `dir` (selfSignedCert). */
export async function tlsMosquitto(dir: string): Promise<{ mosquitto: MosquittoInstance; tlsPort: number }> {
  const tlsPort = await freePort();
  const mosquitto = await startMosquitto({ extraConfig: [`listener ${tlsPort} 127.0.0.1`, `certfile ${dir}/cert.pem`, `keyfile ${dir}/key.pem`] });
  await waitForPort(tlsPort);
  return { mosquitto, tlsPort };
}
