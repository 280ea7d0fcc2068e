// settings.js refuses to expose the editor and admin API beyond loopback without a login (issue 14), and Node-RED
// started with it stops with that message instead of serving an open editor.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../scripts/harness/nodered";

const settings = path.join(repoRoot(), "settings.js");
const load = (env: Record<string, string>) =>
  spawnSync(process.execPath, ["-e", `console.log(require(${JSON.stringify(settings)}).uiHost)`], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
  });

describe("settings.js: the editor beyond loopback needs a login", function () {
  this.timeout(30_000);

  it("loopback without a login is fine; 0.0.0.0 without one is refused, naming the settings; with one it is allowed", function () {
    assert.equal(load({}).stdout.trim(), "127.0.0.1");
    const open = load({ PLUGWATCH_HOST: "0.0.0.0" });
    assert.notEqual(open.status, 0);
    assert.match(open.stderr, /PLUGWATCH_HOST=0\.0\.0\.0 exposes the editor.*PLUGWATCH_ADMIN_USER and PLUGWATCH_ADMIN_PASSWORD_HASH/);
    const withLogin = load({ PLUGWATCH_HOST: "0.0.0.0", PLUGWATCH_ADMIN_USER: "admin", PLUGWATCH_ADMIN_PASSWORD_HASH: "$2b$08$abcdefghijklmnopqrstuv" });
    assert.equal(withLogin.stdout.trim(), "0.0.0.0");
  });

  it("Node-RED with PLUGWATCH_HOST=0.0.0.0 and no login does not start", function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pw-settings-"));
    try {
      const red = spawnSync(process.execPath, [path.join(repoRoot(), "node_modules", "node-red", "red.js"), "-u", dir, "-p", "0", "-s", settings], {
        env: { PATH: process.env.PATH ?? "", PLUGWATCH_HOST: "0.0.0.0", PLUGWATCH_USER_DIR: dir },
        encoding: "utf8",
        timeout: 20_000,
      });
      assert.notEqual(red.status, 0, red.stdout);
      assert.match(red.stdout + red.stderr, /exposes the editor and admin API beyond loopback/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
