// A throw-away CA and a server certificate for 127.0.0.1 / localhost signed by it, made by the openssl command line.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";

export interface TestCa {
  /** PEM files in the directory given. */
  ca: string;
  cert: string;
  key: string;
}

const openssl = (dir: string, ...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });

/** Writes ca.crt/ca.key and server.crt/server.key (SAN IP:127.0.0.1, DNS:localhost; 2 days) into `dir`. */
export function makeTestCa(dir: string): TestCa {
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Plugwatch test CA", "-keyout", "ca.key", "-out", "ca.crt");
  openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "server.crt",
  );
  return { ca: path.join(dir, "ca.crt"), cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
}
