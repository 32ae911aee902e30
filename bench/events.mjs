// The benchmark's events, shared by Node and browser pages (no Node imports here).
export const USERS = 100; // distinct acting users, present as :User nodes, so PERFORMED_BY is made

/** The i-th event of a run: the seed's example call, with a few varying fields (~120 B of details). */
export function event(i) {
  return {
    user: { uid: `user-${i % USERS}`, name: `User ${i % USERS}` },
    actionType: "DOCUMENT_MODIFIED",
    category: "DOCUMENT_MANAGEMENT",
    details: { document_id: `doc-${i}`, field: "title", old: "Draft", new: `Release ${i}`, ip: "10.0.0.7" },
  };
}
