// The one module through which the CLI reaches the library: the verify entry of the package (write +
// getAuditTrail / getUserActivity / verifyTrail), instantiated for Node with no init call.
// In the repository this is the built pkg/verify/ (scripts/build, "neo4j-audit/verify"); inside the published package
// scripts/package-entries.mjs writes pkg/cli/core.mjs pointing at the package's own entry instead.
import { readFileSync } from "node:fs";

export { AuditLogger, switchSetting } from "../pkg/verify/node.js";
export const version = JSON.parse(readFileSync(new URL("../pkg/package.json", import.meta.url), "utf8")).version;
