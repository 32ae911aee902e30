// The browser app each bundler project builds (copied to <project>/src/app.js): it logs through
// "neo4j-audit" (the write path) and reads the event back through "neo4j-audit/read", in one page.
import init, { AuditLogger } from "neo4j-audit";
import initRead, { AuditLogger as ReadingLogger } from "neo4j-audit/read";

/** `wasm`: what each entry's init() gets (nothing: the .wasm next to the module, as emitted). */
export function mount(bundler, wasm = {}) {
  window.runAudit = async (config, actionType) => {
    await init(wasm.write);
    await initRead(wasm.read);
    const logger = new AuditLogger(config);
    const ok = await logger.logUserAction({ uid: "u-bundled" }, actionType, null, { bundler });
    const err = logger.lastError ?? null;
    await logger.close();
    const reader = new ReadingLogger(config);
    const page = await reader.getAuditTrail({ actionType });
    return {
      ok, err,
      read: page ? page.events.map((e) => [e.actionType, e.userUid, e.details]) : reader.lastError,
      writeEntryHasRead: "getAuditTrail" in AuditLogger.prototype,
    };
  };
  document.body.dataset.ready = "true";
}
