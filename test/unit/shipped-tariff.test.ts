// The shipped flow's EXAMPLE tariff and default schedule (flows/tariff, flows/schedule): valid, inline in their config
// nodes as the files say, safe (no rule enabled, so nothing is switched), and priced by hand on the office registry.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { mayPublish, maySubscribe } from "../../lib/broker/acl";
import { loadRegistryFile } from "../../lib/registry";
import { checkScheduleDocument } from "../../lib/schedule/config";
import { buildTariffs } from "../../lib/tariff/load";
import { priceDeltas, standingCharges } from "../../lib/tariff/price";
import { ScheduleHolidays, withExtraHolidays } from "../../lib/tariff/schedule-holidays";
import { TariffClock } from "../../lib/tariff/timeline";
import { plugwatchFlow, SCHEDULE_FILE, TARIFF_FILE } from "../../scripts/flows/plugwatch-flow";
import { repoRoot } from "../../scripts/harness/nodered";

const read = (rel: string): unknown => JSON.parse(readFileSync(path.join(repoRoot(), rel), "utf8"));

describe("the shipped flow's EXAMPLE tariff and default schedule", function () {
  const registry = () => loadRegistryFile(path.join(repoRoot(), "flows", "registry", "office-mixed.json"));

  it("are the config nodes' inline JSON, and the schedule enables no rule", function () {
    const flow = plugwatchFlow();
    const tariff = flow.find((n) => n.id === "pw-tariff");
    const schedule = flow.find((n) => n.id === "pw-schedule");
    assert.equal(tariff?.source, "json");
    assert.deepEqual(JSON.parse(tariff?.json as string), read(TARIFF_FILE));
    assert.match(tariff?.name as string, /EXAMPLE/);
    assert.equal(schedule?.source, "json");
    assert.deepEqual(JSON.parse(schedule?.json as string), read(SCHEDULE_FILE));
    const config = checkScheduleDocument(read(SCHEDULE_FILE), { file: SCHEDULE_FILE, registry: registry() });
    assert.deepEqual([config.schedules, config.standby], [[], []], "the shipped schedule must switch nothing");
    assert.equal(config.document.schedules?.length, 1);
    assert.equal(config.document.standby?.length, 1);
  });

  it("prices a Wednesday and a holiday of the schedule by hand (1 kWh spread over the local day, Paris)", function () {
    const book = buildTariffs(read(TARIFF_FILE), TARIFF_FILE);
    const holidays = new ScheduleHolidays({ read: () => ({ text: JSON.stringify(read(SCHEDULE_FILE)), label: SCHEDULE_FILE }), readFile: () => "" });
    holidays.refresh();
    const joined = withExtraHolidays(book, holidays.isHoliday);
    const day = (b: typeof book, start: string, end: string) => {
      const clock = new TariffClock(b.forBuilding("hq"), "Europe/Paris", b.isHoliday);
      const bucket = { start: Date.parse(start), end: Date.parse(end) };
      const priced = priceDeltas(clock, [{ ...bucket, kWh: 1 }], [bucket]).get(bucket.start);
      return { cost: priced?.cost ?? NaN, standing: standingCharges(clock, [bucket], bucket.start, bucket.end).get(bucket.start) };
    };
    // Wednesday 6 May 2026: 16 h peak at 0.27 + 8 h off-peak at 0.20 = (16 × 0.27 + 8 × 0.20) / 24 = 0.246667.
    const wed = day(joined, "2026-05-05T22:00:00Z", "2026-05-06T22:00:00Z");
    assert.ok(Math.abs(wed.cost - (16 * 0.27 + 8 * 0.2) / 24) < 1e-9, String(wed.cost));
    assert.ok(Math.abs((wed.standing ?? NaN) - 0.45) < 1e-9);
    // Friday 8 May 2026 (Victoire 1945 in the schedule): off-peak all day with the joined calendar, 0.20.
    assert.ok(Math.abs(day(joined, "2026-05-07T22:00:00Z", "2026-05-08T22:00:00Z").cost - 0.2) < 1e-9);
    assert.ok(Math.abs(day(book, "2026-05-07T22:00:00Z", "2026-05-08T22:00:00Z").cost - (16 * 0.27 + 8 * 0.2) / 24) < 1e-9);
  });

  it("the broker ACL lets the shipped runtime answer schedule requests and the API and dashboard send them", function () {
    const topic = "plugwatch/api/request/schedule";
    assert.equal(maySubscribe("runtime", "runtime", topic, "plugwatch"), true);
    for (const role of ["runtime", "api", "dashboard"] as const) assert.equal(mayPublish(role, role, topic, "plugwatch"), true, role);
    // Others still may not: a read-only client, a device, the collector.
    for (const role of ["readonly", "device", "collector"] as const) assert.equal(mayPublish(role, "x", topic, "plugwatch"), false, role);
    assert.equal(maySubscribe("readonly", "x", topic, "plugwatch"), false);
  });
});
