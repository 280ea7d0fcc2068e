// Unit tests for lib/collector-commands.ts: the collector's input msg.payload → typed command, with coded errors for bad input.
import assert from "node:assert/strict";
import { PlugwatchError } from "../../lib/contracts/errors";
import { parseCommand } from "../../lib/collector-commands";

const NOW = new Date(2026, 2, 15, 12, 0, 0); // 15 March 2026, local time

const refused = (payload: unknown, pattern: RegExp): void =>
  assert.throws(
    () => parseCommand(payload, NOW),
    (err: unknown) => err instanceof PlugwatchError && err.code === "INVALID_REQUEST" && pattern.test(err.message),
  );

describe("collector commands (msg.payload → command)", () => {
  it("reads 'poll' as a string, an object and JSON text", () => {
    assert.deepEqual(parseCommand("poll", NOW), { action: "poll" });
    assert.deepEqual(parseCommand({ action: "poll" }, NOW), { action: "poll" });
    assert.deepEqual(parseCommand('{"action":"poll"}', NOW), { action: "poll" });
  });

  it("reads accept-identity with its device", () => {
    assert.deepEqual(parseCommand({ action: "accept-identity", device: "desk-1" }, NOW), { action: "accept-identity", device: "desk-1" });
    assert.throws(() => parseCommand({ action: "accept-identity", device: "Not A Slug" }, NOW), PlugwatchError);
  });

  it("fills stats defaults from the clock: this year, and this month for per-day stats", () => {
    assert.deepEqual(parseCommand({ action: "stats", device: "desk-1", period: "day" }, NOW), {
      action: "stats",
      device: "desk-1",
      period: "day",
      year: 2026,
      month: 3,
    });
    assert.deepEqual(parseCommand({ action: "stats", device: "desk-1", period: "month", year: 2025, month: 7 }, NOW), {
      action: "stats",
      device: "desk-1",
      period: "month",
      year: 2025,
    });
  });

  it("names the bad field of a stats request", () => {
    refused({ action: "stats", device: "desk-1", period: "week" }, /period must be "day" or "month" \(got "week"\)/);
    refused({ action: "stats", device: "desk-1", period: "day", month: 13 }, /\$\.month/);
    refused({ action: "stats", period: "day" }, /\$\.device/);
  });

  it("refuses anything else with the usage and what it got", () => {
    refused("reboot", /expected msg.payload 'poll'.*got "reboot"/);
    refused({ action: "reboot" }, /got \{"action":"reboot"\}/);
    refused({ action: "poll", extra: 1 }, /extra|additional/i);
  });
});
