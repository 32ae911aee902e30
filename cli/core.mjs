// The one module through which the CLI reaches the library: the read side of the package (write +
// getAuditTrail / getUserActivity / verifyTrail), instantiated for Node with no init call.
// In the repository this is the built pkg/read/ (scripts/build, "neo4j-audit/read"); inside the published package
// scripts/package-entries.mjs writes pkg/cli/core.mjs pointing at the package's own entry instead.
import { readFileSync } from "node:fs";

export { AuditLogger, switchSetting } from "../pkg/read/node.js";
export const version = JSON.parse(readFileSync(new URL("../pkg/package.json", import.meta.url), "utf8")).version;
