// Preloaded (node -r) into `node-red-dev validate`: answers its look-ups of https://catalogue.nodered.org/catalogue.json
// (P08 similar names, N01 duplicate node types), which this machine cannot reach, from a local file
// (PLUGWATCH_CATALOGUE_FILE, written by the caller). Every other request goes out unchanged (the npm registry).
import { readFileSync } from "node:fs";
import * as path from "node:path";

interface AxiosConfig {
  url?: string;
  adapter?: unknown;
}
interface Axios {
  interceptors: { request: { use(f: (c: AxiosConfig) => AxiosConfig): void } };
}

const file = process.env.PLUGWATCH_CATALOGUE_FILE;
if (!file) throw new Error("catalogue-stub: PLUGWATCH_CATALOGUE_FILE is not set");
const catalogue = JSON.parse(readFileSync(file, "utf8")) as unknown;
// node-red-dev's own axios (its nested copy when it has one), i.e. the instance its checks import.
const devDir = path.dirname(require.resolve("node-red-dev/package.json"));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance node-red-dev loaded, found at run time
const axios = require(require.resolve("axios", { paths: [path.join(devDir, "src", "libs")] })) as Axios;
axios.interceptors.request.use((config) => {
  if (config.url?.startsWith("https://catalogue.nodered.org/")) {
    config.adapter = () => Promise.resolve({ data: catalogue, status: 200, statusText: "OK", headers: {}, config });
  }
  return config;
});
