// Type-checked (tsc --noEmit --strict) against the installed package: every export of the four
// entries is used here (tests/install checks that against each entry's .d.ts).
import init, {
  initSync, AuditLogger, logUserAction,
  type AuditConfig, type AuditStats, type AuditDeadLetter, type AuditUser,
  type InitInput, type InitOutput, type SyncInitInput, type AuditTarget, type AuditLogOptions, type AuditDetails,
  type AuditCredentials,
} from "neo4j-audit";
import initRead, {
  initSync as initSyncRead, AuditLogger as ReadingLogger, logUserAction as logUserActionRead,
  type AuditConfig as ReadConfig, type AuditStats as ReadStats, type AuditDeadLetter as ReadDeadLetter,
  type AuditUser as ReadUser, type InitInput as ReadInitInput, type InitOutput as ReadInitOutput,
  type SyncInitInput as ReadSyncInitInput, type AuditTarget as ReadTarget, type AuditLogOptions as ReadLogOptions,
  type AuditDetails as ReadDetails, type AuditCredentials as ReadCredentials,
  type AuditInstant, type AuditTrailQuery, type AuditTrailEvent, type AuditTrailPage, type AuditChainHead,
  switchSetting,
} from "neo4j-audit/read";
// The verify entry: the read entry plus verifyTrail and its types.
import initVerify, {
  initSync as initSyncVerify, AuditLogger as VerifyingLogger, logUserAction as logUserActionVerify,
  type AuditConfig as VerifyConfig, type AuditStats as VerifyStats, type AuditDeadLetter as VerifyDeadLetter,
  type AuditUser as VerifyUser, type InitInput as VerifyInitInput, type InitOutput as VerifyInitOutput,
  type SyncInitInput as VerifySyncInitInput, type AuditTarget as VerifyTarget, type AuditLogOptions as VerifyLogOptions,
  type AuditDetails as VerifyDetails, type AuditCredentials as VerifyCredentials,
  type AuditInstant as VerifyInstant, type AuditTrailQuery as VerifyTrailQuery, type AuditTrailEvent as VerifyTrailEvent,
  type AuditTrailPage as VerifyTrailPage, type AuditChainHead as VerifyChainHead,
  type AuditChainBreak, type AuditVerifyReport, type AuditPublicKey, type AuditVerifyQuery,
  switchSetting as switchSettingVerify,
} from "neo4j-audit/verify";
// The Worker entry is the ingest endpoint only (cargo feature `worker`): handleIngest and the
// wasm-bindgen initialisers. A Worker that logs its own events imports "neo4j-audit".
import initWorker, {
  initSync as initSyncWorker, handleIngest, type IngestEnv, type IngestVar, type IngestList,
  type InitInput as WorkerInitInput, type InitOutput as WorkerInitOutput, type SyncInitInput as WorkerSyncInitInput,
} from "neo4j-audit/worker";
// Each entry's .wasm as a file loader's URL (the README's esbuild block): typed as a string
// (found by a new user: TS2307 "Cannot find module 'neo4j-audit/neo4j_audit_bg.wasm'").
import writeWasmUrl from "neo4j-audit/neo4j_audit_bg.wasm";
import readWasmUrl from "neo4j-audit/read/neo4j_audit_bg.wasm";
import verifyWasmUrl from "neo4j-audit/verify/neo4j_audit_bg.wasm";
import workerWasmUrl from "neo4j-audit/worker/neo4j_audit_bg.wasm";
export const wasmUrls: string[] = [writeWasmUrl, readWasmUrl, verifyWasmUrl, workerWasmUrl];
export const initFromUrl = (base: string): Promise<InitOutput> => init({ module_or_path: new URL(writeWasmUrl, base) });

export async function write(config: AuditConfig, user: AuditUser | null, wasm?: InitInput, bytes?: SyncInitInput): Promise<AuditStats> {
  const out: InitOutput = bytes ? initSync({ module: bytes }) : wasm ? await init({ module_or_path: wasm }) : await init();
  void out.memory;
  const logger = new AuditLogger(config);
  const ok: boolean = await logger.logUserAction(user, "TYPED", "USER_ACTION", { n: 1 });
  // details of an interface or class type (no index signature), as an application declares them.
  interface DocChange { documentId: string; fields: string[] }
  const change: DocChange = { documentId: "doc-1", fields: ["title"] };
  void (await logger.logUserAction(user, "TYPED_INTERFACE", null, change));
  class Upload { fileName = "a.pdf"; size = 12 }
  const details: AuditDetails = new Upload();
  void (await logger.logUserAction(user, "TYPED_CLASS", null, details));
  // What the run time refuses ("details must be an object"), the types refuse too.
  // @ts-expect-error an array is not details
  void (await logger.logUserAction(user, "TYPED_ARRAY", null, ["title"]));
  // @ts-expect-error a Map is not details (convert it: Object.fromEntries)
  void (await logger.logUserAction(user, "TYPED_MAP", null, new Map([["a", 1]])));
  // @ts-expect-error a string is not details
  void (await logger.logUserAction(user, "TYPED_STRING", null, "title"));
  // @ts-expect-error a Promise is not details (the call lacks an await; refused at run time too)
  void (await logger.logUserAction(user, "TYPED_PROMISE", null, Promise.resolve(change)));
  const target: AuditTarget = { label: "Document", uid: "doc-1", role: "subject" };
  const options: AuditLogOptions = { targets: [target, { label: "Folder", uid: "f-1" }] };
  void (await logger.logUserAction(user, "TYPED_TARGETS", null, null, options));
  if (!ok) console.error(logger.lastError ?? "no error", logger.schemaWarning);
  await logger.flush();
  const dead: AuditDeadLetter[] = await logger.deadLetters();
  // What was refused: the queued event's targets and birth time are typed too.
  const refused: string[] = dead.flatMap((d) => (d.event.targets ?? []).map((t) => `${t.label}:${t.uid}`));
  const bornAt: (number | null)[] = dead.map((d) => d.event.occurredAt);
  void [refused, bornAt];
  // Credentials that change (a rotated password, a refreshed token): a boolean, never a throw.
  const { username, password, token } = config;
  const renewed: AuditCredentials | null = token ? { token } : username && password ? { username, password } : null;
  const taken: boolean = renewed !== null && logger.setCredentials(renewed);
  // @ts-expect-error only credentials: the url is the logger's for good
  void logger.setCredentials({ url: "http://127.0.0.1:7474", token: "t" });
  // @ts-expect-error a user name needs its password (refused at run time too)
  void logger.setCredentials({ username: "neo4j" });
  // @ts-expect-error one kind: a password or a token, not both
  void logger.setCredentials({ username: "neo4j", password: "pw", token: "t" });
  // @ts-expect-error no credentials at all
  void logger.setCredentials({});
  void taken;
  const cleared: number = await logger.clearQueue();
  const schema: boolean = await logger.ensureSchema();
  void [dead, cleared, schema, await logUserAction(config, user, "ONE_SHOT", null, null)];
  const stats: AuditStats = logger.stats();
  const closed: boolean = await logger.close();
  const closedWithin: boolean = await logger.close(8000); // a bound for a shutdown's budget
  void closedWithin;
  logger.free();
  return closed ? stats : { ...stats, failed: stats.failed + 1 };
}

export async function read(config: ReadConfig, user: ReadUser, since: AuditInstant, wasm?: ReadInitInput, bytes?: ReadSyncInitInput): Promise<string[]> {
  const out: ReadInitOutput = bytes ? initSyncRead({ module: bytes }) : wasm ? await initRead({ module_or_path: wasm }) : await initRead();
  void out;
  // A tool's two-valued setting, by the Worker's rule (throws on a value that is neither).
  const insecure: boolean = switchSetting("NEO4J_ALLOW_INSECURE_HTTP", config.url ? "false" : undefined, "false", "true");
  void insecure;
  const logger = new ReadingLogger(config);
  await logUserActionRead(config, user, "READ_ONE_SHOT");
  const readDetails: ReadDetails = { entry: "read" };
  await logger.logUserAction(user, "READ_ENTRY", null, readDetails);
  const target: ReadTarget = { label: "Document", uid: "doc-1" };
  const options: ReadLogOptions = { targets: [target] };
  await logger.logUserAction(user, "READ_TARGETS", undefined, undefined, options);
  const onDoc: AuditTrailPage | null = await logger.getTargetActivity(target.label, target.uid, { since, limit: 5 });
  const targets = onDoc?.events[0]?.targets ?? [];
  const query: AuditTrailQuery = { since, limit: 10 };
  const page: AuditTrailPage | null = await logger.getAuditTrail(query);
  const activity: AuditTrailPage | null = await logger.getUserActivity(user.uid, { since, until: Date.now(), actionType: "READ_ENTRY", limit: 5 });
  // The README's paging as written: a page's nextCursor (string | null) goes straight back in.
  if (page) void [await logger.getAuditTrail({ cursor: page.nextCursor }), await logger.getUserActivity(user.uid, { cursor: page.nextCursor }),
    await logger.getTargetActivity(target.label, target.uid, { cursor: page.nextCursor })];
  const renewed: ReadCredentials | null = config.username && config.password ? { username: config.username, password: config.password } : null;
  if (renewed) void logger.setCredentials(renewed);
  const head: AuditChainHead = logger.chainHead();
  const stats: ReadStats = logger.stats();
  const dead: ReadDeadLetter[] = await logger.deadLetters();
  const events: AuditTrailEvent[] = [...(page?.events ?? []), ...(activity?.events ?? [])];
  // Provenance as an admin page shows it: when the user acted, and who wrote it (null before it existed).
  const provenance: string[] = events.map((e) => `${e.occurredAt ?? e.timestamp} ${e.source === "worker" ? "via Worker" : e.source ?? "unknown"}`);
  void provenance;
  return [head.hash, String(stats.sent + dead.length + targets.length), ...events.map((e) => e.actionType)];
}

export async function verify(config: VerifyConfig, user: VerifyUser, since: VerifyInstant, wasm?: VerifyInitInput, bytes?: VerifySyncInitInput): Promise<string[]> {
  const out: VerifyInitOutput = bytes ? initSyncVerify({ module: bytes }) : wasm ? await initVerify({ module_or_path: wasm }) : await initVerify();
  void out;
  const insecure: boolean = switchSettingVerify("NEO4J_ALLOW_INSECURE_HTTP", undefined, "false", "true");
  void insecure;
  const logger = new VerifyingLogger(config);
  await logUserActionVerify(config, user, "VERIFY_ONE_SHOT");
  const target: VerifyTarget = { label: "Document", uid: "doc-1" };
  const options: VerifyLogOptions = { targets: [target] };
  const verifyDetails: VerifyDetails = { entry: "verify" };
  await logger.logUserAction(user, "VERIFY_ENTRY", undefined, verifyDetails, options);
  const query: VerifyTrailQuery = { since, limit: 10 };
  const page: VerifyTrailPage | null = await logger.getAuditTrail(query);
  const events: VerifyTrailEvent[] = page?.events ?? [];
  const key: AuditPublicKey = { kid: "k1", kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };
  const signed: AuditVerifyQuery = { since, publicKeys: { keys: [key] }, allowUnsigned: true };
  void (await logger.verifyTrail(signed));
  const renewed: VerifyCredentials | null = config.token ? { token: config.token } : null;
  if (renewed) void logger.setCredentials(renewed);
  const head: VerifyChainHead = logger.chainHead();
  const report: AuditVerifyReport | null = await logger.verifyTrail({ since, anchors: [head] });
  const firstBreak: AuditChainBreak | null = report?.streams[0]?.firstBreak ?? null;
  const stats: VerifyStats = logger.stats();
  const dead: VerifyDeadLetter[] = await logger.deadLetters();
  return [head.hash, firstBreak?.kind ?? "intact", String(stats.sent + dead.length), ...events.map((e) => e.actionType)];
}

// The Env interface `wrangler types` writes for this repository's wrangler.toml (vars as their
// literal text, a var written without quotes as a number, secrets as string, the rate limiter),
// plus a binding of the application's own.
interface Env {
  ALLOWED_ORIGINS: "http://127.0.0.1:8080";
  AUDIT_TRAIL: "default";
  MAX_BATCH: 100;
  NEO4J_ALLOW_INSECURE_HTTP: true;
  AUDIT_JWT_SECRET: string;
  NEO4J_URL: string;
  NEO4J_USER: string;
  NEO4J_PASSWORD: string;
  RATE_LIMITER: { limit(options: { key: string }): Promise<{ success: boolean }> };
  MY_KV: { get(key: string): Promise<string | null> };
}

export async function worker(request: Request, env: Env,
  wasm?: WorkerInitInput, bytes?: WorkerSyncInitInput): Promise<Response> {
  const out: WorkerInitOutput = bytes ? initSyncWorker({ module: bytes }) : wasm ? await initWorker({ module_or_path: wasm }) : await initWorker();
  void out;
  const batch: IngestVar | undefined = (env satisfies IngestEnv).MAX_BATCH;
  void batch;
  // A list var written as a TOML array and JWT_PUBLIC_KEYS as a table (both read by the Worker) are
  // accepted as `wrangler types` writes them (they were type errors: IngestEnv said string).
  interface ListEnv {
    ALLOWED_ORIGINS: ["http://localhost:5173", "https://app.example"];
    VERIFY_SUBJECTS: ["auditor"];
    JWT_PUBLIC_KEYS: { keys: [{ kty: "RSA"; n: "x"; e: "AQAB" }] };
  }
  const lists: ListEnv = {
    ALLOWED_ORIGINS: ["http://localhost:5173", "https://app.example"], VERIFY_SUBJECTS: ["auditor"],
    JWT_PUBLIC_KEYS: { keys: [{ kty: "RSA", n: "x", e: "AQAB" }] },
  };
  void (lists satisfies IngestEnv);
  const origins: IngestList | undefined = lists.ALLOWED_ORIGINS;
  void origins;
  // @ts-expect-error a list var holds text
  void handleIngest(request, { ALLOWED_CATEGORIES: [1, 2] });
  // env is typed (it was `any`): a secret that is not text, or a rate limiter without limit(), is refused.
  // @ts-expect-error NEO4J_PASSWORD must be a string
  void handleIngest(request, { NEO4J_URL: "http://127.0.0.1:7474", NEO4J_PASSWORD: 42 });
  // @ts-expect-error RATE_LIMITER must have limit({key})
  void handleIngest(request, { NEO4J_URL: "http://127.0.0.1:7474", RATE_LIMITER: {} });
  return handleIngest(request, env);
}

// A config from the environment, as the docs' blocks write it: each value string | undefined, which
// the config takes (a missing one is refused at run time with its reason), under
// exactOptionalPropertyTypes too (a new user's tsc answered TS2379 on `url`).
declare const processEnv: Record<string, string | undefined>;
const fromEnv: AuditConfig = {
  url: processEnv["NEO4J_URL"], username: processEnv["NEO4J_USER"], password: processEnv["NEO4J_PASSWORD"], token: undefined,
  batch: { maxEvents: undefined }, labels: undefined,
};
void fromEnv;

// Optional members of the call arguments from values that may be undefined (a session's user name,
// an HTTP query's filters), under exactOptionalPropertyTypes: the run time reads undefined as left
// out for each of them, as AuditConfig's members (a new user's tsc answered TS2379 on `name`).
declare const maybe: string | undefined;
declare const maybeNumber: number | undefined;
export async function optionalFromUndefined(verifying: VerifyingLogger, writing: AuditLogger): Promise<void> {
  const user: AuditUser = { uid: "u-1", name: maybe };
  const target: AuditTarget = { label: "Document", uid: "doc-1", role: maybe };
  const none: AuditLogOptions = { targets: undefined };
  void (await writing.logUserAction(user, "MAYBE", null, null, { targets: [target] }));
  void (await writing.logUserAction({ uid: "u-1", name: maybe }, "MAYBE", null, null, none));
  const query: VerifyTrailQuery = {
    since: undefined, until: undefined, actionType: maybe, category: maybe, userUid: maybe, target: maybe,
    limit: maybeNumber, cursor: undefined,
  };
  void (await verifying.getAuditTrail(query));
  void (await verifying.getUserActivity("u-1", { since: undefined, until: undefined, actionType: maybe, category: maybe, limit: maybeNumber, cursor: undefined }));
  void (await verifying.getTargetActivity("Document", "doc-1", { since: undefined, until: undefined, actionType: maybe, limit: maybeNumber, cursor: undefined }));
  const verifyQuery: AuditVerifyQuery = {
    streamId: maybe, since: undefined, publicKeys: undefined, publicKey: undefined, allowUnsigned: undefined,
    requireBound: undefined, anchors: undefined,
  };
  void (await verifying.verifyTrail(verifyQuery));
  const readTarget: ReadTarget = { label: "Document", uid: "doc-1", role: maybe };
  const readUser: ReadUser = { uid: "u-1", name: maybe };
  const readQuery: AuditTrailQuery = { since: undefined, limit: maybeNumber };
  const verifyUser: VerifyUser = { uid: "u-1", name: maybe };
  const verifyTarget: VerifyTarget = { label: "Document", uid: "doc-1", role: maybe };
  const opts: ReadLogOptions & VerifyLogOptions = { targets: undefined };
  void [readTarget, readUser, readQuery, verifyUser, verifyTarget, opts];
}
