#!/usr/bin/env bash
# The PostgreSQL client for the store, chosen by measurement: the JDBC driver (org.postgresql:postgresql) on a writer
# thread of our own against Vert.x's reactive client (io.vertx:vertx-pg-client, whose newest served line is 5.0.x),
# the same vote rows at the same concurrency, batched commits both ways. It writes a throwaway Maven project under a
# scratch folder in /tmp (outside the product build, nothing installed), starts a throwaway PostgreSQL there (initdb,
# pg_ctl on a free loopback port, fsync on: a commit is durable, as the store's must be), and runs each client shape:
#   jdbc/statement     one writer thread; per batch BEGIN, one INSERT per vote awaited in turn, COMMIT (the store's
#                      writer today: a vote's checks and insert are statements in its transaction)
#   jdbc/batch         the same, the batch's INSERTs sent as one JDBC batch
#   jdbc/rewrite       the same with reWriteBatchedInserts=true (the driver folds a batch into multi-row INSERTs)
#   vertx/statement    one writer thread; per batch a Vert.x transaction, one INSERT per vote awaited in turn
#   vertx/pipelined    the same, every INSERT of the batch sent at once (the reactive client pipelines them)
#   vertx/batch        the same, executeBatch
# CLIENTS closed-loop clients each send their next vote once the last is acknowledged (after its COMMIT); each shape
# runs VOTES votes after a warm-up, ROUNDS times, the shapes' order rotating each round (a busy machine's noise
# falls on all of them). Prints each run's votes/s, p50 and p99 acknowledgement latency, then each shape's median.
# Usage: bench/pg-client-bench.sh   (env: CLIENTS=64 VOTES=20000 ROUNDS=3 VERTX=5.0.7 PGJDBC=42.7.14)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLIENTS=${CLIENTS:-64} VOTES=${VOTES:-20000} ROUNDS=${ROUNDS:-3} VERTX=${VERTX:-5.0.7} PGJDBC=${PGJDBC:-42.7.14}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
WORK=$(mktemp -d /tmp/pairwise-pg-client-bench.XXXXXX)
chmod 755 "$WORK"
echo "scratch folder: $WORK" >&2
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDATA="$WORK/pg"
mkdir -p "$PGDATA" && { [ "$(id -u)" = 0 ] && chown postgres "$PGDATA" || true; }
as_pg "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 --locale=C >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >> "$PGDATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDATA'
fsync = on
synchronous_commit = on
CONF
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start >/dev/null
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir -p "$WORK/project/src/main/java"
cat > "$WORK/project/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>bench</groupId><artifactId>pg-client-bench</artifactId><version>1</version>
  <properties><maven.compiler.release>25</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <dependencyManagement><dependencies><dependency><groupId>io.vertx</groupId>
    <artifactId>vertx-stack-depchain</artifactId><version>$VERTX</version><type>pom</type><scope>import</scope>
  </dependency></dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>io.vertx</groupId><artifactId>vertx-pg-client</artifactId></dependency>
    <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>$PGJDBC</version></dependency>
  </dependencies>
</project>
POM
cat > "$WORK/project/src/main/java/Bench.java" <<'JAVA'
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.sql.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

public class Bench {
    static final String INSERT = "INSERT INTO votes (pair_id, choice, annotator, idempotency_key, created_at)"
            + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
    record Vote(String pair, String choice, String annotator, String key, long at, CompletableFuture<Void> done) {}
    interface Writer { void write(List<Vote> batch) throws Exception; }

    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]), clients = Integer.parseInt(a[1]), votes = Integer.parseInt(a[2]);
        int rounds = Integer.parseInt(a[3]);
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=bench";
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE votes (id BIGSERIAL PRIMARY KEY, pair_id TEXT NOT NULL, choice TEXT NOT NULL,"
                    + " annotator TEXT, idempotency_key TEXT UNIQUE, created_at BIGINT NOT NULL)");
            st.execute("CREATE UNIQUE INDEX votes_annotator_pair ON votes(annotator, pair_id)");
        }
        Vertx vertx = Vertx.vertx();
        Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
                .connectingTo(new PgConnectOptions().setPort(port).setHost("127.0.0.1").setDatabase("postgres")
                        .setUser("bench").setPipeliningLimit(256)).using(vertx).build();
        Connection jdbc = DriverManager.getConnection(url);
        Connection rewriting = DriverManager.getConnection(url + "&reWriteBatchedInserts=true");
        // One prepared statement per connection, kept, as the store's writer keeps its statements.
        PreparedStatement plain = jdbc.prepareStatement(INSERT.replaceAll("\\$\\d", "?"));
        PreparedStatement rewritten = rewriting.prepareStatement(INSERT.replaceAll("\\$\\d", "?"));
        Map<String, Writer> shapes = new LinkedHashMap<>();
        shapes.put("jdbc/statement", b -> jdbcTx(jdbc, plain, b, false));
        shapes.put("jdbc/batch", b -> jdbcTx(jdbc, plain, b, true));
        shapes.put("jdbc/rewrite", b -> jdbcTx(rewriting, rewritten, b, true));
        shapes.put("vertx/statement", b -> pool.withTransaction(conn -> {
            Future<?> f = Future.succeededFuture();
            for (Vote v : b) {
                f = f.compose(x -> conn.preparedQuery(INSERT).execute(tuple(v)));
            }
            return f;
        }).toCompletionStage().toCompletableFuture().get());
        shapes.put("vertx/pipelined", b -> pool.withTransaction(conn -> {
            List<Future<?>> all = new ArrayList<>();
            for (Vote v : b) {
                all.add(conn.preparedQuery(INSERT).execute(tuple(v)));
            }
            return Future.all(all);
        }).toCompletionStage().toCompletableFuture().get());
        shapes.put("vertx/batch", b -> pool.withTransaction(conn -> conn.preparedQuery(INSERT)
                .executeBatch(b.stream().map(Bench::tuple).toList())).toCompletionStage().toCompletableFuture().get());
        System.out.printf("%-16s %8s %9s %9s %9s %10s%n", "client", "clients", "votes/s", "p50 ms", "p99 ms",
                "votes/tx");
        List<String> names = new ArrayList<>(shapes.keySet());
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        int tag = 0;
        for (int round = 0; round < rounds; round++) {
            for (String name : names) {
                run(shapes.get(name), clients, votes / 4, "w" + tag);  // JIT, prepared statements, the table's pages
                double[] r = run(shapes.get(name), clients, votes, "r" + tag++);
                results.computeIfAbsent(name, k -> new ArrayList<>()).add(r);
                System.out.printf("%-16s %8d %9.0f %9.2f %9.2f %10.1f%n", name, clients, r[0], r[1], r[2], r[3]);
            }
            Collections.rotate(names, 1);
        }
        System.out.println("median of " + rounds + " runs:");
        for (String name : shapes.keySet()) {
            double[] m = new double[4];
            for (int i = 0; i < 4; i++) {
                int col = i;
                double[] v = results.get(name).stream().mapToDouble(r -> r[col]).sorted().toArray();
                m[i] = v[v.length / 2];
            }
            System.out.printf("%-16s %8d %9.0f %9.2f %9.2f %10.1f%n", name, clients, m[0], m[1], m[2], m[3]);
        }
        rewriting.close();
        jdbc.close();
        pool.close();
        vertx.close();
    }

    static Tuple tuple(Vote v) {
        return Tuple.of(v.pair(), v.choice(), v.annotator(), v.key(), v.at());
    }

    static void jdbcTx(Connection c, PreparedStatement ps, List<Vote> b, boolean batched) throws SQLException {
        c.setAutoCommit(false);
        for (Vote v : b) {
            ps.setString(1, v.pair()); ps.setString(2, v.choice()); ps.setString(3, v.annotator());
            ps.setString(4, v.key()); ps.setLong(5, v.at());
            if (batched) ps.addBatch(); else ps.executeUpdate();
        }
        if (batched) ps.executeBatch();
        c.commit();
        c.setAutoCommit(true);
    }

    /** The group-commit writer: one thread takes what is queued (at most 512), one transaction, then acks. */
    static double[] run(Writer w, int clients, int votes, String tag) throws Exception {
        LinkedBlockingQueue<Vote> queue = new LinkedBlockingQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong txs = new AtomicLong();
        Thread writer = Thread.ofPlatform().start(() -> {
            List<Vote> batch = new ArrayList<>();
            while (!stop.get() || !queue.isEmpty()) {
                try {
                    Vote first = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    batch.add(first);
                    queue.drainTo(batch, 511);
                    w.write(batch);
                    txs.incrementAndGet();
                    batch.forEach(v -> v.done().complete(null));
                } catch (Exception e) {
                    batch.forEach(v -> v.done().completeExceptionally(e));
                }
                batch.clear();
            }
        });
        long[] lat = new long[votes];
        AtomicInteger next = new AtomicInteger();
        ExecutorService people = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int p = 0; p < clients; p++) {
            int person = p;
            done.add(people.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < votes; ) {
                    long s = System.nanoTime();
                    Vote v = new Vote("pair-" + (i % 997), i % 2 == 0 ? "a" : "b", tag + "-p" + person + "-" + i,
                            tag + "-" + i, System.currentTimeMillis(), new CompletableFuture<>());
                    queue.add(v);
                    v.done().get(60, TimeUnit.SECONDS);
                    lat[i] = System.nanoTime() - s;
                }
                return null;
            }));
        }
        for (var f : done) f.get();
        double seconds = (System.nanoTime() - t0) / 1e9;
        stop.set(true);
        writer.join();
        people.shutdown();
        Arrays.sort(lat);
        return new double[] {votes / seconds, lat[votes / 2] / 1e6, lat[(int) (votes * 0.99)] / 1e6,
                (double) votes / txs.get()};
    }
}
JAVA
(cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -ntp -f "$WORK/project/pom.xml" package dependency:build-classpath \
    -Dmdep.outputFile="$WORK/project/cp.txt" >&2)
cd "$WORK/project"
JAVA_HOME=${JAVA_HOME:-$(bash -c 'ls -d /usr/lib/jvm/*25* | head -1')}
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), $(nproc) cores, pgjdbc $PGJDBC, vertx-pg-client $VERTX"
"$JAVA_HOME/bin/java" -cp "target/classes:$(cat cp.txt)" Bench "$PORT" "$CLIENTS" "$VOTES" "$ROUNDS"
