// The tests' checked look-ups (test/support/checked.ts): present values come back unchanged, a missing one fails loudly.
import assert, { AssertionError } from "node:assert/strict";
import { lastOf, member, nth } from "../support/checked";

describe("test support: checked look-ups", function () {
  it("nth returns the element at an index of the array, also a falsy or undefined one", function () {
    const xs = ["a", "", "c"];
    assert.equal(nth(xs, 0), "a");
    assert.equal(nth(xs, 1), "");
    assert.equal(nth(xs, 2), "c");
    assert.equal(nth([0, undefined], 1), undefined, "an undefined element that is there is returned, not refused");
  });

  it("nth fails with an AssertionError naming what is missing for an index outside the array", function () {
    assert.throws(() => nth(["a"], 1, "second reply"), { name: "AssertionError", message: "second reply is missing: index 1 of an array of 1" });
    assert.throws(() => nth([], 0), { message: "element 0 is missing: index 0 of an array of 0" });
    for (const i of [-1, 0.5, NaN, Infinity]) assert.throws(() => nth([1, 2, 3], i), AssertionError, String(i));
  });

  it("lastOf returns the last element and fails on an empty array", function () {
    assert.equal(lastOf([1, 2, 3]), 3);
    assert.throws(() => lastOf([], "last reading"), { name: "AssertionError", message: "last reading is missing: index -1 of an array of 0" });
  });

  it("member returns an own key's value and fails for a missing or inherited key", function () {
    const rec: Record<string, number> = { a: 1, zero: 0 };
    assert.equal(member(rec, "a"), 1);
    assert.equal(member(rec, "zero"), 0);
    assert.throws(() => member(rec, "b"), { name: "AssertionError", message: 'key "b" is missing: not among the keys [a, zero]' });
    assert.throws(() => member(rec, "toString", "toString"), AssertionError);
  });
});
