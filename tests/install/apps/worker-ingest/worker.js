import { handleIngest } from "neo4j-audit/worker";

export default { fetch: (request, env) => handleIngest(request, env) };
