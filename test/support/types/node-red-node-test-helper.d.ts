// node-red-node-test-helper ships no types: its module is the Helper instance that test/support/node-helper.ts describes.
declare module "node-red-node-test-helper" {
  const helper: import("../node-helper").Helper;
  export = helper;
}
