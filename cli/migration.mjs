// The statements of `neo4j-audit migrate`, for the default labels (AuditEvent, AuditTrail, User):
// src/cypher.rs `timestamp_migration_statement`, `migration_statements` and
// `migration_status_statement` word for word (a Rust
// test, cypher::tests, checks it). No imports, so bench/ can time them without the package.
export const CONVERT_TIMESTAMPS =
  "MATCH (:AuditTrail)-[r:HAS_EVENT]->(ev) WHERE ev.hash IS NULL " +
  "AND (ev.timestamp IS :: LOCAL DATETIME NOT NULL " +
  "OR ev.timestamp IS :: STRING NOT NULL AND ev.timestamp =~ '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?') " +
  "WITH r, ev LIMIT $max " +
  "CALL { " +
  "WITH r, ev " +
  "WITH r, ev, CASE " +
  "WHEN ev.timestamp IS :: STRING THEN left(ev.timestamp, 10) + 'T' + substring(ev.timestamp, 11) END AS text " +
  "WITH r, ev, datetime({datetime: CASE " +
  "WHEN text IS NULL THEN datetime({datetime: ev.timestamp, timezone: $zone}) " +
  "WHEN text =~ '.*(Z|[+-][0-9]{2}(:?[0-9]{2})?)' THEN datetime(text) " +
  "ELSE datetime({datetime: localdatetime(text), timezone: $zone}) END, timezone: 'UTC'}) AS ts " +
  "SET ev.timestamp = ts, r.created = CASE " +
  "WHEN r.created IS :: ZONED DATETIME NOT NULL THEN r.created " +
  "ELSE ts END } " +
  "IN TRANSACTIONS OF $batch ROWS " +
  "RETURN count(*) AS converted";
export const KEY_LINKS =
  "MATCH (t:AuditTrail)-[r:HAS_EVENT]->(ev) WHERE r.trail IS NULL AND t.name IS NOT NULL " +
  "WITH t, r, ev LIMIT $max " +
  "CALL { " +
  "WITH t, r, ev " +
  "SET r.trail = t.name, r.created = ev.timestamp, r.eventUID = ev.UID } " +
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
  "OPTIONAL MATCH (:AuditTrail)-[:HAS_EVENT]->(l) WHERE l.hash IS NULL AND l.timestamp IS NOT :: ZONED DATETIME NOT NULL " +
  "WITH unkeyed, unmarked, l, l.timestamp IS :: LOCAL DATETIME NOT NULL AS local, l.timestamp IS :: STRING NOT NULL AND l.timestamp =~ '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?' AS text " +
  "WITH unkeyed, unmarked, count(DISTINCT CASE " +
  "WHEN local OR text THEN l END) AS unconverted, count(DISTINCT CASE " +
  "WHEN local OR text AND NOT l.timestamp =~ '.*(Z|[+-][0-9]{2}(:?[0-9]{2})?)' THEN l END) AS zoneless, count(DISTINCT CASE " +
  "WHEN NOT (local OR text) THEN l END) AS unreadable " +
  "OPTIONAL MATCH (n:AuditTrail) WHERE n.name IS NULL " +
  "RETURN unkeyed, unmarked, unconverted, zoneless, unreadable, count(n) AS unnamed";

