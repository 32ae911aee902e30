// The demo page. Everything audit-related goes through the wasm package: logUserAction to write,
// getAuditTrail to read the timeline, getTargetActivity for a document's history (each document
// action names its document as the event's target), verifyTrail/chainHead for the chain, stats() (when the
// build has it) for the queue. The only other network use is the demo server's offline switch
// and the "tamper" button, which edits Neo4j directly as an attacker with database access would.
import init, { AuditLogger } from "/pkg/verify/neo4j_audit.js";

const $ = (id) => document.getElementById(id);
const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return el;
};

const USERS = [
  { uid: "user-ann", name: "Ann Archivist", role: "Records manager", color: "#6d5dfc" },
  { uid: "user-bob", name: "Bob Builder", role: "Engineer", color: "#f08a24" },
  { uid: "user-chloe", name: "Chloé Compliance", role: "Auditor", color: "#0f9d7a" },
];
const DOCS = [
  { id: "doc-q3", name: "Q3-report.pdf", size: "2.4 MB" },
  { id: "doc-acme", name: "ACME-contract.docx", size: "88 KB" },
  { id: "doc-roadmap", name: "Roadmap-2027.md", size: "12 KB" },
];
const ACTIONS = {
  view: { type: "DOCUMENT_VIEWED", verb: "viewed", label: "View" },
  edit: { type: "DOCUMENT_EDITED", verb: "edited", label: "Edit" },
  share: { type: "DOCUMENT_SHARED", verb: "shared", label: "Share" },
  delete: { type: "DOCUMENT_DELETED", verb: "deleted", label: "Delete" },
  restore: { type: "DOCUMENT_RESTORED", verb: "restored", label: "Restore" },
};
const VERBS = Object.fromEntries(Object.values(ACTIONS).map((a) => [a.type, a.verb]));
VERBS.LOGIN = "signed in";
VERBS.DEMO_STARTED = "started the demo from scripts/demo";
const ICONS = {
  DOCUMENT_VIEWED: "M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12zM12 9a3 3 0 100 6 3 3 0 000-6z",
  DOCUMENT_EDITED: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
  DOCUMENT_SHARED: "M18 8a3 3 0 10-3-3M6 15a3 3 0 100-6 3 3 0 000 6zM18 22a3 3 0 100-6 3 3 0 000 6zM8.6 13.5l6.8 4M15.4 6.5l-6.8 4",
  DOCUMENT_DELETED: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6",
  DOCUMENT_RESTORED: "M4 12a8 8 0 108-8H8M8 1L4 4l4 3",
  LOGIN: "M15 7a4 4 0 11-4 4M11 11l-8 8M6 16l2 2M9 13l2 2",
  DEMO_STARTED: "M8 5v14l11-7z",
};
const CHIPS = { DOCUMENT_MANAGEMENT: ["doc", "documents"], SECURITY: ["sec", "security"] };

const config = await (await fetch("/config.json")).json();
const trail = localStorage.getItem("neo4j-audit-demo-trail") ?? config.trail;
await init();
const logger = new AuditLogger({
  ...config,
  trail,
  // Keep retrying through a long outage: the demo wants you to watch the queue drain.
  retry: { maxAttempts: 1000, maxElapsedMs: 600000, baseDelayMs: 250, maxDelayMs: 2000 },
});
const hasStats = typeof logger.stats === "function";

const state = {
  user: USERS[0],
  filterUser: "",
  filterCategory: "",
  events: [],
  nextCursor: null,
  seen: new Set(),
  deleted: new Set(),
  pending: 0,
  committed: 0,
  failed: 0,
  offline: false,
  report: null,
  history: new Map(), // doc id -> events read with getTargetActivity, while its history is open
};

// ---------------------------------------------------------------- writing
function log(actionType, category, details, options) {
  const user = { uid: state.user.uid, name: state.user.name };
  state.pending++;
  // The event is built and chained synchronously inside this call; delivery resolves later.
  const delivered = logger.logUserAction(user, actionType, category, details, options);
  renderQueue();
  delivered.then((ok) => {
    state.pending--;
    if (ok) state.committed++;
    else { state.failed++; toast(`Not logged: ${logger.lastError}`, "err"); }
    renderQueue();
    refresh();
  });
}

function act(kind, doc) {
  const a = ACTIONS[kind];
  const details = { document_id: doc.id, document_name: doc.name };
  if (kind === "edit") details.fields_changed = ["title", "body"];
  if (kind === "share") Object.assign(details, { shared_with: "auditors@example.com", accessToken: "tok_3f9a1c77e2" });
  if (kind === "delete") state.deleted.add(doc.id);
  if (kind === "restore") state.deleted.delete(doc.id);
  // The document is the event's target: (event)-[:ON {role: "subject"}]->(:Document {UID}).
  log(a.type, "DOCUMENT_MANAGEMENT", details, { targets: [{ label: "Document", uid: doc.id, role: "subject" }] });
  toast(state.offline ? `${a.label}: queued while offline` : `${state.user.name.split(" ")[0]} ${a.verb} ${doc.name}`);
  renderDocs();
}

function pickUser(u) {
  if (u === state.user) return;
  state.user = u;
  renderUsers();
  log("LOGIN", "SECURITY", { method: "demo-picker", password: "correct horse battery staple" });
}

// ---------------------------------------------------------------- reading
let refreshing = null;
let refreshAgain = false;
async function refresh() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      await loadTrail();
      for (const id of state.history.keys()) await loadHistory(id);
      await verify();
    } while (refreshAgain);
  })();
  try { await refreshing; } finally { refreshing = null; }
}

async function loadTrail() {
  if (state.offline) return;
  const limit = Math.min(1000, Math.max(20, state.events.length));
  const page = await logger.getAuditTrail({
    limit, userUid: state.filterUser || undefined, category: state.filterCategory || undefined,
  });
  if (!page) { $("pill-net").dataset.state = "error"; $("pill-net").querySelector("b").textContent = "Neo4j unreachable"; return; }
  setNet();
  state.events = page.events;
  state.nextCursor = page.nextCursor;
  renderTimeline();
}

async function toggleHistory(doc) {
  if (state.history.has(doc.id)) { state.history.delete(doc.id); return renderDocs(); }
  state.history.set(doc.id, null);
  renderDocs();
  await loadHistory(doc.id);
}

async function loadHistory(id) {
  if (state.offline || !state.history.has(id)) return;
  // The events on this document, newest first, through the ON relationships' index.
  const page = await logger.getTargetActivity("Document", id, { limit: 10 });
  if (!page) return toast(`Could not read the history: ${logger.lastError}`, "err");
  if (!state.history.has(id)) return;
  state.history.set(id, page.events);
  renderDocs();
}

async function older() {
  if (!state.nextCursor) return;
  const page = await logger.getAuditTrail({
    limit: 20, cursor: state.nextCursor, userUid: state.filterUser || undefined, category: state.filterCategory || undefined,
  });
  if (!page) return toast(`Could not read: ${logger.lastError}`, "err");
  state.events.push(...page.events);
  state.nextCursor = page.nextCursor;
  renderTimeline();
}

let lastVerify = 0;
async function verify(force = false) {
  if (state.offline) return;
  if (!force && Date.now() - lastVerify < 1500) return;
  lastVerify = Date.now();
  const report = await logger.verifyTrail();
  if (report) state.report = report;
  renderChain();
  renderTimeline();
}

// ---------------------------------------------------------------- rendering
const initials = (name) => name.split(/\s+/).map((p) => p[0]).join("").slice(0, 2);
const userByUid = (uid) => USERS.find((u) => u.uid === uid);
const short = (hash) => (hash ? `${hash.slice(0, 8)}…${hash.slice(-4)}` : "—");

function renderUsers() {
  $("users").replaceChildren(...USERS.map((u) => h("button", {
    class: `user${u === state.user ? " active" : ""}`, role: "radio", "aria-checked": String(u === state.user),
    "data-testid": `user-${u.uid}`, onclick: () => pickUser(u), style: `--c:${u.color}`,
  }, h("span", { class: "avatar" }, initials(u.name)), h("span", { class: "who" }, h("b", {}, u.name), h("small", {}, u.role)))));
}

function renderDocs() {
  $("docs").replaceChildren(...DOCS.map((d) => {
    const gone = state.deleted.has(d.id);
    const kinds = gone ? ["restore"] : ["view", "edit", "share", "delete"];
    return h("li", { class: gone ? "gone" : "" },
      h("div", { class: "doc" }, h("span", { class: "file" }, d.name.split(".").pop()), h("div", {}, h("b", {}, d.name), h("small", {}, gone ? "in the bin" : d.size))),
      h("div", { class: "acts" }, kinds.map((k) => h("button", {
        class: `act act-${k}`, "data-testid": `act-${k}-${d.id}`, onclick: () => act(k, d),
      }, ACTIONS[k].label)), h("button", {
        class: `act act-history${state.history.has(d.id) ? " open" : ""}`, "data-testid": `history-${d.id}`,
        title: "Events on this document: getTargetActivity(\"Document\", id)", onclick: () => toggleHistory(d),
      }, "History")),
      state.history.has(d.id) ? renderHistory(d) : null);
  }));
}

function renderHistory(d) {
  const events = state.history.get(d.id);
  if (!events) return h("p", { class: "history-empty" }, "Reading…");
  if (!events.length) return h("p", { class: "history-empty", "data-testid": `history-list-${d.id}` }, "Nothing on this document yet.");
  return h("ol", { class: "history", "data-testid": `history-list-${d.id}` }, events.map((e) => h("li", { "data-uid": e.uid, "data-type": e.actionType },
    h("time", { datetime: e.timestamp }, new Date(e.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })),
    ` ${e.userName ?? e.userUid ?? "system"} ${VERBS[e.actionType] ?? e.actionType.toLowerCase()}`)));
}

function renderFilters() {
  const sel = $("filter-user");
  sel.replaceChildren(h("option", { value: "" }, "Everyone"), ...USERS.map((u) => h("option", { value: u.uid }, u.name)));
  sel.value = state.filterUser;
}

function breakFor(uid) {
  for (const s of state.report?.streams ?? []) if (s.firstBreak?.uid === uid) return s.firstBreak;
  return null;
}

let lastRender = "";
const openDetails = new Set();
function renderTimeline() {
  const list = $("timeline");
  // Re-render only when something changed, so open details and scroll stay put.
  const key = JSON.stringify([state.events.map((e) => e.uid), state.report?.streams.map((s) => s.firstBreak?.uid), state.nextCursor]);
  if (key === lastRender) return;
  lastRender = key;
  const items = state.events.map((e) => {
    const u = userByUid(e.userUid);
    const fresh = !state.seen.has(e.uid);
    const brk = breakFor(e.uid);
    const doc = e.details?.document_name;
    const time = new Date(e.ts);
    return h("li", {
      class: `event${fresh && state.seen.size ? " fresh" : ""}${brk ? " broken" : ""}`, "data-uid": e.uid, "data-type": e.actionType,
      "data-user": e.userUid ?? "", style: `--c:${u?.color ?? "#8a93a6"}`,
    },
      h("span", { class: "icon" }, svg(ICONS[e.actionType] ?? ICONS.DOCUMENT_VIEWED)),
      h("div", { class: "body" },
        h("p", { class: "what" }, h("b", {}, e.userName ?? e.userUid ?? "system"), ` ${VERBS[e.actionType] ?? e.actionType.toLowerCase()} `, doc ? h("b", {}, doc) : null),
        h("p", { class: "meta" },
          h("time", { datetime: e.timestamp, title: e.timestamp }, time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })),
          h("span", { class: `chip ${(CHIPS[e.category] ?? ["other"])[0]}` }, (CHIPS[e.category] ?? [null, e.category.toLowerCase()])[1]),
          h("span", { class: "mono seq", title: `stream ${e.streamId}\nprevHash ${e.prevHash}\nhash ${e.hash}` }, e.seq === null ? "unchained" : `#${e.seq} · ${short(e.hash)}`),
          brk ? h("span", { class: "chip bad" }, `${brk.kind}`) : null),
        e.details ? h("details", {
          open: openDetails.has(e.uid),
          ontoggle: (ev) => { if (ev.target.open) openDetails.add(e.uid); else openDetails.delete(e.uid); },
        }, h("summary", {}, "details"), h("pre", {}, JSON.stringify(e.details, null, 2))) : null));
  });
  list.replaceChildren(...items);
  state.events.forEach((e) => state.seen.add(e.uid));
  $("empty").hidden = state.events.length > 0;
  $("older").hidden = !state.nextCursor;
}

function svg(d) {
  const s = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  s.setAttribute("viewBox", "0 0 24 24");
  const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
  p.setAttribute("d", d);
  s.append(p);
  return s;
}

function renderChain() {
  const r = state.report;
  const el = $("chain-status");
  const pill = $("pill-chain");
  renderHead();
  if (!r) return;
  const broken = r.streams.find((s) => !s.ok);
  let state_, title, detail;
  if (broken) {
    const b = broken.firstBreak;
    state_ = "broken";
    title = `Chain broken: ${b.kind} event at seq ${b.seq}`;
    detail = `${b.message} (stream ${broken.streamId.slice(0, 8)}, event ${b.uid?.slice(0, 8) ?? "?"})`;
  } else if (r.unchained > 0) {
    state_ = "broken";
    title = `${r.unchained} event(s) without a chain`;
    detail = "written outside any stream (inserted by hand, or before chaining existed)";
  } else {
    state_ = "ok";
    title = "Chain intact";
    detail = `${r.checked} events in ${r.streams.length} stream${r.streams.length === 1 ? "" : "s"} re-hashed and linked`;
  }
  el.dataset.state = state_;
  $("chain-title").textContent = title;
  $("chain-detail").textContent = detail;
  pill.dataset.state = state_;
  pill.querySelector("b").textContent = state_ === "ok" ? `Chain intact · ${r.checked}` : "Chain broken";
}

function renderHead() {
  const head = logger.chainHead();
  $("chain-head").textContent = `this tab's stream ${head.streamId.slice(0, 8)} · seq ${head.seq ?? "–"} · head ${short(head.hash)}`;
}

function renderQueue() {
  renderHead();
  const s = hasStats ? logger.stats() : null;
  const waiting = s ? Math.max(Number(s.queued ?? 0), state.pending) : state.pending;
  $("queue-waiting").textContent = waiting;
  $("queue-committed").textContent = s?.committed ?? state.committed;
  $("queue-retried").textContent = s?.retried ?? "–";
  $("queue-failed").textContent = s?.failed ?? state.failed;
  const pill = $("pill-queue");
  pill.dataset.state = waiting ? "busy" : "idle";
  pill.querySelector("b").textContent = waiting ? `${waiting} waiting` : "Queue empty";
  const banner = $("pending-banner");
  banner.hidden = waiting === 0;
  banner.textContent = state.offline
    ? `Offline: ${waiting} event${waiting === 1 ? "" : "s"} waiting, each already hash-chained; they will be delivered when the network returns.`
    : `Delivering ${waiting} event${waiting === 1 ? "" : "s"}…`;
  $("queue-note").textContent = hasStats
    ? "Counters from logger.stats(); waiting events sit in the library's durable queue (IndexedDB) and survive a reload."
    : "Waiting = calls not yet resolved (this build has no logger.stats(); the library retries with backoff).";
}

function setNet() {
  const pill = $("pill-net");
  pill.dataset.state = state.offline ? "offline" : "online";
  pill.querySelector("b").textContent = state.offline ? "Offline (simulated)" : "Online";
}

let toastTimer;
function toast(text, cls = "") {
  const t = $("toast");
  t.textContent = text;
  t.className = `toast show ${cls}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = "toast"; }, 2600);
}

// ---------------------------------------------------------------- controls
// The outage is the demo server's (it drops every connection to Neo4j until told otherwise), so
// the page shows the server's switch: also after a reload during an outage.
function showOffline(offline) {
  state.offline = offline;
  $("offline-toggle").checked = offline;
  document.body.dataset.offline = String(offline);
  $("live-label").textContent = offline ? "paused" : "live";
  setNet();
  renderQueue();
}
$("offline-toggle").addEventListener("change", async (ev) => {
  const offline = ev.target.checked;
  await fetch("/demo/network", { method: "POST", body: JSON.stringify({ offline }) });
  showOffline(offline);
  toast(offline ? "Offline: keep clicking, events wait in the queue" : "Back online: the queue drains");
  if (!offline) refresh();
});
$("filter-user").addEventListener("change", (ev) => { state.filterUser = ev.target.value; state.events = []; refresh(); });
$("filter-category").addEventListener("change", (ev) => { state.filterCategory = ev.target.value; state.events = []; refresh(); });
$("older").addEventListener("click", older);
$("verify").addEventListener("click", () => verify(true).then(() => toast(state.report?.ok ? "Verified: chain intact" : "Verified: chain broken", state.report?.ok ? "" : "err")));
$("tamper").addEventListener("click", async () => {
  const res = await fetch(`${config.url.replace(/\/$/, "")}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-ajax-browser-auth": "true",
      authorization: "Basic " + btoa(`${config.username}:${config.password}`) },
    body: JSON.stringify({ statements: [{
      statement: `MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) WHERE e.streamId IS NOT NULL
                  WITH e ORDER BY e.timestamp DESC LIMIT 1
                  SET e.details = '{"document_name":"nothing-to-see-here.txt"}' RETURN e.UID`,
      parameters: { trail } }] }),
  }).catch(() => null);
  // Neo4j answers 200 also when no event matched (an empty trail) or the statement failed.
  const body = res?.ok ? await res.json().catch(() => null) : null;
  const edited = body?.results?.[0]?.data?.length > 0;
  toast(edited ? "Edited the newest event directly in Neo4j…" : body ? "Nothing to tamper with yet: log an event first" : "Tampering needs the network", edited ? "err" : "");
  await refresh();
  await verify(true);
});
$("fresh").addEventListener("click", () => {
  localStorage.setItem("neo4j-audit-demo-trail", `${config.trail}-${Math.random().toString(36).slice(2, 8)}`);
  location.reload();
});
addEventListener("online", () => toast("Browser is online"));
addEventListener("offline", () => toast("Browser went offline", "err"));

// ---------------------------------------------------------------- start
$("trail-name").textContent = trail;
renderUsers();
renderDocs();
renderFilters();
renderQueue();
// The logger reads its stored queue (IndexedDB) in the background as it starts: redraw the counter
// every 100 ms until that read shows waiting events, or until the 3 s redraw below has begun, so a
// reload during an outage shows what waits at once rather than "Queue empty" for up to 3 s.
let steady = false;
const early = hasStats ? setInterval(() => {
  renderQueue();
  if (steady || Number(logger.stats().queued ?? 0) > 0) clearInterval(early);
}, 100) : undefined;
showOffline(Boolean((await (await fetch("/demo/network")).json()).offline));
await logger.ensureSchema();
await refresh();
await verify(true);
setInterval(() => { steady = true; renderQueue(); refresh(); }, 3000);
document.body.dataset.ready = "true";
