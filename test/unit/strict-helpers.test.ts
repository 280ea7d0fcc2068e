// The small helpers behind noUncheckedIndexedAccess: checked array access (lib/arrays.ts) and date parts (lib/calendar.ts).
import assert from "node:assert/strict";
import { itemAt } from "../../lib/arrays";
import { dateParts } from "../../lib/calendar";
import { PlugwatchError } from "../../lib/contracts/errors";

describe("itemAt (checked array access)", function () {
  it("returns the element at an index in range, for arrays and typed arrays", function () {
    assert.equal(itemAt(["a", "b", "c"], 0), "a");
    assert.equal(itemAt(["a", "b", "c"], 2), "c");
    assert.equal(itemAt(new Int16Array([-1, 7]), 1), 7);
    assert.equal(itemAt([0], 0), 0); // a falsy element is still an element
  });

  it("throws an INTERNAL error naming the index for an index out of range", function () {
    for (const i of [-1, 3, 1.5, NaN]) {
      assert.throws(
        () => itemAt(["a", "b", "c"], i),
        (err: unknown) => err instanceof PlugwatchError && err.code === "INTERNAL" && err.message === `index ${i} is outside 0..2`,
      );
    }
    assert.throws(() => itemAt([], 0), /index 0 is outside 0\.\.-1/);
  });
});

describe("dateParts", function () {
  it("splits a YYYY-MM-DD into year, month 1..12 and day", function () {
    assert.deepEqual(dateParts("2026-03-29"), [2026, 3, 29]);
    assert.deepEqual(dateParts("1969-12-31"), [1969, 12, 31]);
  });

  it("gives NaN for missing parts, as Number(undefined) does", function () {
    assert.deepEqual(dateParts("2026"), [2026, NaN, NaN]);
  });
});
