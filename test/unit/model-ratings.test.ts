// One model-ratings table for both plausibility checks: the collector (× 1.25, unknown = largest rating) and the
// storage hook (× 1.1, unknown = no model bound) read the same per-model limits and apply their own margins.
import assert from "node:assert/strict";
import { boundsFor, STORAGE_MARGIN } from "../../lib/influx/reading-guard";
import { LARGEST_RATING, MODEL_RATINGS, ratingOf } from "../../lib/model-ratings";
import { implausibility, RATING_MARGIN, type SampleValues } from "../../lib/plausibility";
import { SUPPORTED_MODELS } from "../../lib/contracts/device";

const sample = (v: Partial<SampleValues>): SampleValues => ({ power: 10, voltage: 230, current: 0.05, energy: 1, ...v });

describe("model ratings (shared by the collector and the storage hook)", function () {
  it("finds a rating from any spelling of a model: revision and market suffixes, case, spaces", function () {
    assert.equal(ratingOf("HS110v2"), MODEL_RATINGS.HS110);
    assert.equal(ratingOf("hs110(EU)"), MODEL_RATINGS.HS110);
    assert.equal(ratingOf(" KP115 "), MODEL_RATINGS.KP115);
    assert.equal(ratingOf("HS300(EU)"), MODEL_RATINGS.HS300);
    assert.deepEqual(ratingOf("P115"), { maxPowerW: 3680, maxCurrentA: 16, maxVoltageV: 250 });
    for (const unknown of ["KL130", "other-meter", "", undefined]) assert.equal(ratingOf(unknown), undefined, String(unknown));
  });

  it("rates every supported model, none above the largest rating", function () {
    for (const model of SUPPORTED_MODELS) {
      const r = ratingOf(model);
      assert.ok(r, `${model} has a rating`);
      assert.ok(r.maxPowerW <= LARGEST_RATING.maxPowerW && r.maxCurrentA <= LARGEST_RATING.maxCurrentA && r.maxVoltageV <= LARGEST_RATING.maxVoltageV, model);
    }
    assert.deepEqual(MODEL_RATINGS.HS300, { maxPowerW: 1800, maxCurrentA: 15, maxVoltageV: 250 });
  });

  it("the hook's bounds are the table × 1.1 for every model; unknown models have none", function () {
    assert.equal(STORAGE_MARGIN, 1.1);
    for (const [model, r] of Object.entries(MODEL_RATINGS)) {
      assert.deepEqual(boundsFor(model), { powerW: r.maxPowerW * 1.1, currentA: r.maxCurrentA * 1.1, voltageV: r.maxVoltageV * 1.1 }, model);
    }
    assert.equal(boundsFor("KL130"), undefined);
  });

  it("the collector's limits are the table × 1.25 for every model, the largest rating for unknown models", function () {
    assert.equal(RATING_MARGIN, 1.25);
    for (const [model, r] of Object.entries(MODEL_RATINGS)) {
      const max = r.maxPowerW * 1.25;
      assert.equal(implausibility(sample({ power: max }), model), undefined, `${model}: ${max} W is at the limit`);
      assert.equal(implausibility(sample({ power: max + 1 }), model), `power ${max + 1} W is beyond the ${model} rating (max ${max} W)`);
      assert.match(implausibility(sample({ current: r.maxCurrentA * 1.25 + 0.5 }), model) ?? "", /^current .* beyond/, model);
      assert.match(implausibility(sample({ voltage: r.maxVoltageV * 1.25 + 1 }), model) ?? "", /^voltage .* beyond/, model);
    }
    assert.equal(implausibility(sample({ power: LARGEST_RATING.maxPowerW * 1.25 }), "KL130"), undefined);
    assert.match(implausibility(sample({ power: 4601 }), "KL130") ?? "", /beyond the largest rating \(max 4600 W\)/);
  });

  it("between the two margins a value is polled but not stored: 2000 W on an HS300", function () {
    assert.equal(implausibility(sample({ power: 2000 }), "HS300"), undefined, "collector: within 1800 W × 1.25");
    const b = boundsFor("HS300");
    assert.ok(b && 2000 > b.powerW, `hook: above 1800 W × 1.1 = ${b?.powerW} W`);
  });
});
