// P5 baseline: the identical request without wasm — a plain fetch of the body the library builds
// for the same event (bench/coldstart.mjs makes it with benchmarkRequestBodyOne and passes it in).
export default {
  async fetch(request, env) {
    const r = await fetch(`${env.NEO4J_URL}/db/neo4j/tx/commit`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: "Basic " + btoa(`neo4j:${env.NEO4J_PASSWORD}`) },
      body: env.BODY,
    });
    const j = await r.json();
    return new Response(j.errors?.length ? "failed" : "ok", { status: j.errors?.length ? 500 : 200 });
  },
};
