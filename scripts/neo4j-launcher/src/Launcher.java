import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.server.CommunityBootstrapper;

/**
 * Starts the real Neo4j 5.26 community server (the same bootstrapper `neo4j console` uses) with a
 * persistent home directory, auth enabled, HTTP + Bolt on loopback, small memory caps, and the Query
 * API on. Then sets the `neo4j` user's password (from the NEO4J_PASSWORD environment variable) through
 * the system database, so no interactive password change is needed.
 *
 * Usage: java ... Launcher HOME_DIR HTTP_PORT BOLT_PORT
 */
public final class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher HOME_DIR HTTP_PORT BOLT_PORT");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        String httpPort = args[1];
        String boltPort = args[2];
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("NEO4J_PASSWORD must be set (8 characters or more)");
            System.exit(2);
        }
        Files.createDirectories(home.resolve("conf"));
        Path ready = home.resolve("ready");
        Files.deleteIfExists(ready);

        Map<String, String> cfg = new HashMap<>();
        cfg.put("server.default_listen_address", "127.0.0.1");
        cfg.put("server.http.enabled", "true");
        cfg.put("server.http.listen_address", "127.0.0.1:" + httpPort);
        cfg.put("server.https.enabled", "false");
        cfg.put("server.bolt.enabled", "true");
        cfg.put("server.bolt.listen_address", "127.0.0.1:" + boltPort);
        cfg.put("server.bolt.tls_level", "DISABLED");
        cfg.put("dbms.security.auth_enabled", "true");
        cfg.put("dbms.security.http_access_control_allow_origin", "*");
        cfg.put("server.http_enabled_modules",
                "TRANSACTIONAL_ENDPOINTS,UNMANAGED_EXTENSIONS,QUERY_API_ENDPOINTS");
        cfg.put("server.memory.pagecache.size", "128m");
        // NEO4J_TX_MEMORY raises it for bench/run's single-request limit (20 000 events in one transaction).
        cfg.put("dbms.memory.transaction.total.max", System.getenv().getOrDefault("NEO4J_TX_MEMORY", "256m"));
        cfg.put("dbms.usage_report.enabled", "false");
        // A test and benchmark server: keep at most 1 GiB of transaction logs (the default keeps two
        // days of them; bench/run's millions of events grew them past 25 GB).
        cfg.put("db.tx_log.rotation.retention_policy", "1G size");
        cfg.put("server.directories.logs", home.resolve("logs").toString());

        CommunityBootstrapper boot = new CommunityBootstrapper();
        int rc = boot.start(home, cfg);
        if (rc != 0) {
            System.err.println("neo4j failed to start, code " + rc);
            System.exit(rc);
        }
        DatabaseManagementService dbms = boot.getDatabaseManagementService();
        try {
            dbms.database("system").executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (org.neo4j.graphdb.QueryExecutionException e) {
            // A restart of an existing home: the password is already set (Neo4j refuses to "change"
            // it to the same value). Anything else is a real failure.
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                boot.stop();
                throw e;
            }
        }

        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boot.stop();
            done.countDown();
        }));
        Files.writeString(ready, "http://127.0.0.1:" + httpPort + "\n");
        System.out.println("neo4j ready on http://127.0.0.1:" + httpPort + " bolt://127.0.0.1:" + boltPort);
        done.await();
    }
}
