// P5 split: the package's Workers entry imported (the .wasm instantiated at import), nothing else:
// import − compile is instantiation and the JS glue; init − import is the first AuditLogger.
import { AuditLogger } from "../../pkg/workerd.js";

export default {
  async fetch() {
    return new Response(typeof AuditLogger === "function" ? "ok" : "no AuditLogger", { status: typeof AuditLogger === "function" ? 200 : 500 });
  },
};
