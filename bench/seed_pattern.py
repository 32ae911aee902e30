"""P1 (c): the seed's pattern, as the Python stack it came from would run it with the official
`neo4j` driver: per event, sequentially, four separate auto-commit operations -- get-or-create the
trail, create the event node, create HAS_EVENT, create PERFORMED_BY. Matches use labels (so the
indexes serve them); a label-less generic `MATCH ({UID: ...})`, as generic helpers often write it,
would be slower still. Prints one JSON line like bench/throughput.mjs.

    .cache/bench/venv/bin/python bench/seed_pattern.py N [CONCURRENCY]

With CONCURRENCY > 1, that many threads (one session each) pull events from a shared counter; the
trail's get-or-create then races as the seed's code would (its MATCH-then-CREATE is not atomic).
"""
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

from neo4j import GraphDatabase

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
BOLT = os.environ.get("BENCH_NEO4J_BOLT", "bolt://127.0.0.1:7689")
AUTH = ("neo4j", os.environ.get("NEO4J_PASSWORD", "neo4j-audit-dev"))
USERS = 100


def event(i):
    """The same event as bench/common.mjs event(i)."""
    return {
        "user": {"uid": f"user-{i % USERS}", "name": f"User {i % USERS}"},
        "action_type": "DOCUMENT_MODIFIED",
        "category": "DOCUMENT_MANAGEMENT",
        "details": {"document_id": f"doc-{i}", "field": "title", "old": "Draft", "new": f"Release {i}", "ip": "10.0.0.7"},
    }


def get_or_create_audit_trail_uid(session):
    rec = session.run("MATCH (t:AuditTrail {name: $name}) RETURN t.UID AS uid", name="bench").single()
    if rec:
        return rec["uid"]
    uid = str(uuid.uuid4())
    session.run("CREATE (t:AuditTrail {name: $name, UID: $uid})", name="bench", uid=uid).consume()
    return uid


def log_user_action(session, user, action_type, category="USER_ACTION", details=None):
    try:
        event_uid = str(uuid.uuid4())
        timestamp = datetime.now(timezone.utc)
        props = {
            "UID": event_uid,
            "eventType": action_type,
            "eventCategory": category,
            "timestamp": timestamp,
            "userUID": user["uid"] if user else None,
            "userName": user["name"] if user else None,
            "details": json.dumps(details) if details else None,
        }
        session.run("CREATE (e:AuditEvent) SET e = $props", props=props).consume()
        trail_uid = get_or_create_audit_trail_uid(session)
        session.run(
            "MATCH (t:AuditTrail {UID: $from_uid}), (e:AuditEvent {UID: $to_uid}) "
            "CREATE (t)-[r:HAS_EVENT]->(e) SET r = $props",
            from_uid=trail_uid, to_uid=event_uid, props={"created": timestamp},
        ).consume()
        if user:
            session.run(
                "MATCH (e:AuditEvent {UID: $from_uid}), (u:User {UID: $to_uid}) CREATE (e)-[:PERFORMED_BY]->(u)",
                from_uid=event_uid, to_uid=user["uid"],
            ).consume()
        return True
    except Exception as e:  # the seed's contract: never raise
        print(f"Error logging user action: {e}", file=sys.stderr)
        return False


def main():
    import threading
    conc = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    lock = threading.Lock()
    state = {"next": 0, "ok": 0}

    def worker(driver):
        with driver.session() as session:
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= N:
                    return
                e = event(i)
                r = log_user_action(session, e["user"], e["action_type"], e["category"], e["details"])
                with lock:
                    state["ok"] += r

    with GraphDatabase.driver(BOLT, auth=AUTH) as driver:
        driver.verify_connectivity()
        # The trail exists before the clock starts (trail names are unique in the library's schema,
        # so racing threads would otherwise fail one event each).
        with driver.session() as session:
            get_or_create_audit_trail_uid(session)
        threads = [threading.Thread(target=worker, args=(driver,)) for _ in range(conc)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
    ok = state["ok"]
    print(json.dumps({
        "figure": "P1", "id": "c", "n": N, "seconds": seconds, "eventsPerSec": N / seconds, "committed": ok,
        "concurrency": conc,
        "label": f"the seed's pattern: official neo4j Python driver, 4 separate operations per event, {conc} thread(s)",
    }))
    sys.exit(0 if ok == N else 1)


if __name__ == "__main__":
    main()
