// The statements of `neo4j-audit migrate`, for the default labels (AuditEvent, AuditTrail, User):
// src/cypher.rs `timestamp_migration_statement`, `migration_statements` and
// `migration_status_statement` word for word (a Rust
// test, cypher::tests, checks it). No imports, so bench/ can time them without the package.
export const CONVERT_TIMESTAMPS =
  "MATCH (:AuditTrail)-[r:HAS_EVENT]->(ev) WHERE ev.timestamp IS :: LOCAL DATETIME AND ev.hash IS NULL " +
  "WITH r, ev LIMIT $max " +
  "CALL { WITH r, ev " +
  "WITH r, ev, datetime({datetime: datetime({datetime: ev.timestamp, timezone: $zone}), timezone: 'UTC'}) AS ts " +
  "SET ev.timestamp = ts, r.created = CASE WHEN r.created IS :: LOCAL DATETIME THEN ts ELSE r.created END } " +
  "IN TRANSACTIONS OF $batch ROWS " +
  "RETURN count(*) AS converted";
export const KEY_LINKS =
  "MATCH (t:AuditTrail)-[r:HAS_EVENT]->(ev) WHERE r.trail IS NULL " +
  "WITH t, r, ev LIMIT $max " +
  "CALL { WITH t, r, ev SET r.trail = t.name, r.created = ev.timestamp, r.eventUID = ev.UID } " +
  "IN TRANSACTIONS OF $batch ROWS " +
  "RETURN count(*) AS keyed";
export const MARK_TRAILS =
  "OPTIONAL MATCH (t:AuditTrail) WHERE t.indexed IS NULL " +
  "AND NOT EXISTS { MATCH (t)-[r:HAS_EVENT]->() WHERE r.trail IS NULL } " +
  "SET t.indexed = true " +
  "WITH count(t) AS marked " +
  "OPTIONAL MATCH (u:AuditTrail) WHERE u.indexed IS NULL " +
  "RETURN marked, count(u) AS unmarked";
export const STATUS =
  "OPTIONAL MATCH (:AuditTrail)-[r:HAS_EVENT]->() WHERE r.trail IS NULL " +
  "WITH count(r) AS unkeyed " +
  "OPTIONAL MATCH (u:AuditTrail) WHERE u.indexed IS NULL " +
  "WITH unkeyed, count(u) AS unmarked " +
  "OPTIONAL MATCH (:AuditTrail)-[:HAS_EVENT]->(l) WHERE l.timestamp IS :: LOCAL DATETIME AND l.hash IS NULL " +
  "RETURN unkeyed, unmarked, count(l) AS unconverted";

