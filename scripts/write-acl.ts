// Writes deploy/mosquitto/acl from lib/broker/acl.ts (the embedded broker enforces the same rules); a unit test fails when it is stale.
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { mosquittoAcl } from "../lib/broker/acl";
import { DEFAULT_ROOT } from "../lib/topics";
import { projectRoot } from "./services/repo-root";

const file = path.join(projectRoot(), "deploy", "mosquitto", "acl");
writeFileSync(file, mosquittoAcl(DEFAULT_ROOT));
console.log(`wrote ${path.relative(projectRoot(), file)}`);
