package org.pairwise.server.store.pg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway PostgreSQL server for tests: initdb into a fresh temporary directory, pg_ctl start on a free loopback
 * port with its unix socket inside that directory, a superuser with a random password (scram-sha-256, so tests log
 * in for real), and on {@link #close} pg_ctl stop and the directory deleted. A JVM shutdown hook does the same for a
 * harness a test never closed (a failed test, System.exit), and each start first reaps the servers of JVMs that were
 * killed outright (kill -9, a surefire fork timeout), recognised by the owner pid file in each directory.
 *
 * <p>As root (CI and this workplace run tests as root) initdb refuses to run, so the PostgreSQL binaries run as the
 * {@code postgres} system user that Debian's package creates, through {@code runuser -u postgres --}, in a directory
 * owned by that user. Binaries are found under /usr/lib/postgresql/VERSION/bin (newest first) or on PATH; a test
 * that needs them calls {@link #assumeAvailable()} and is skipped with a message where none exist.
 *
 * <p>Durability is traded for speed (fsync off, no initdb sync): tests kill clients, not the database. A test that
 * kills PostgreSQL itself passes {@code Map.of("fsync", "on")} to {@link #start(Map)}. Callers need the PostgreSQL
 * JDBC driver on their test classpath (this module has it as a test dependency) for {@link #connect()}.
 */
public final class PostgresHarness implements AutoCloseable {
    private static final String DIR_PREFIX = "pairwise-pg-";
    private static final String OWNER_FILE = "owner.pid";
    private static final String USER = "pairwise";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    /** sun_path holds 108 bytes; the socket is DIR/socket/.s.PGSQL.PORT. */
    private static final int MAX_SOCKET_PATH = 100;

    private final Path bin;
    private final Path directory;
    private final int port;
    private final String password;
    private final Thread shutdownHook;
    private boolean closed;

    private PostgresHarness(Path bin, Path directory, int port, String password) {
        this.bin = bin;
        this.directory = directory;
        this.port = port;
        this.password = password;
        this.shutdownHook = new Thread(this::stopAndDelete, "postgres-harness-stop");
    }

    /** The directory holding initdb, pg_ctl and postgres, if PostgreSQL is installed. */
    public static Optional<Path> binaries() {
        return binaries(Path.of("/usr/lib/postgresql"), System.getenv("PATH"));
    }

    /** Debian's layout (debian/VERSION/bin, the newest version first), then the directories of path. */
    static Optional<Path> binaries(Path debian, String path) {
        List<Path> candidates = new ArrayList<>();
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.sorted(Comparator.comparingDouble(PostgresHarness::version).reversed())
                        .forEach(v -> candidates.add(v.resolve("bin")));
            } catch (IOException e) {
                // unreadable: fall through to PATH
            }
        }
        for (String dir : path == null ? new String[0] : path.split(java.io.File.pathSeparator)) {
            Path initdb = Path.of(dir).resolve("initdb");
            if (Files.isExecutable(initdb)) {
                try {
                    candidates.add(initdb.toRealPath().getParent());
                } catch (IOException e) {
                    // a dangling link: not an installation
                }
            }
        }
        return candidates.stream().filter(PostgresHarness::isInstallation).findFirst();
    }

    private static boolean isInstallation(Path dir) {
        return Stream.of("initdb", "pg_ctl", "postgres").allMatch(name -> Files.isExecutable(dir.resolve(name)));
    }

    private static double version(Path dir) {
        try {
            return Double.parseDouble(dir.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Skips the calling test, with a message saying why, where no PostgreSQL binaries are installed. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(binaries().isPresent(), "no PostgreSQL binaries (initdb, pg_ctl, postgres) under "
                + "/usr/lib/postgresql/*/bin or on PATH: install Debian's postgresql package to run this test");
    }

    /** Starts a server with the default settings. */
    public static PostgresHarness start() throws IOException {
        return start(Map.of());
    }

    /** Starts a server; settings are postgresql.conf lines (name -> value as written there) over the defaults. */
    public static PostgresHarness start(Map<String, String> settings) throws IOException {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException(
                "no PostgreSQL binaries found (call PostgresHarness.assumeAvailable() first)"));
        reapOrphans();
        Path directory = Files.createTempDirectory(DIR_PREFIX);
        Files.writeString(directory.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        try {
            byte[] secret = new byte[16];
            new SecureRandom().nextBytes(secret);
            String password = HexFormat.of().formatHex(secret);
            Path socket = Files.createDirectory(directory.resolve("socket"));
            if (socket.toString().length() + ".s.PGSQL.65535".length() + 1 > MAX_SOCKET_PATH) {
                throw new IOException("the temporary directory " + directory + " is too long for a unix socket path");
            }
            Path pwfile = Files.writeString(directory.resolve("pwfile"), password + "\n");
            if (asRoot()) {
                UserPrincipal postgres = directory.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByName("postgres");
                for (Path p : List.of(directory, socket, pwfile)) {
                    Files.setOwner(p, postgres);
                }
            }
            run(bin, directory, List.of("initdb", "-D", directory.resolve("data").toString(), "-U", USER,
                    "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"));
            Files.delete(pwfile);
            IOException last = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                int port = freePort();
                writeSettings(directory, socket, port, settings);
                PostgresHarness h = new PostgresHarness(bin, directory, port, password);
                try {
                    run(bin, directory, List.of("pg_ctl", "-D", directory.resolve("data").toString(), "-l",
                            directory.resolve("server.log").toString(), "-w", "-t", "60", "start"));
                    Runtime.getRuntime().addShutdownHook(h.shutdownHook);
                    return h;
                } catch (IOException e) {
                    last = e; // most likely another process took the port between the probe and the bind
                }
            }
            throw last;
        } catch (IOException | RuntimeException e) {
            deleteRecursively(directory);
            throw e;
        }
    }

    public int port() {
        return port;
    }

    public String user() {
        return USER;
    }

    public String password() {
        return password;
    }

    /** The temporary directory: data/ (the cluster), socket/, server.log. Gone after {@link #close}. */
    public Path directory() {
        return directory;
    }

    /** JDBC URL of the postgres database over TCP on 127.0.0.1 (credentials from {@link #user} and {@link #password}). */
    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** The libpq form with credentials, postgresql://user:password@127.0.0.1:port/database (the store's URL form). */
    public String url(String database) {
        return "postgresql://" + USER + ":" + password + "@127.0.0.1:" + port + "/" + database;
    }

    public Connection connect() throws SQLException {
        return connect("postgres");
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), USER, password);
    }

    /** Creates an empty database (a test's own, so tests sharing a server do not see each other) and names its URL. */
    public String createDatabase(String name) throws SQLException {
        if (!name.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("database names here are lower-case identifiers, got '" + name + "'");
        }
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    /** Stops the server and deletes its directory; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down and the hook runs (or ran) anyway
        }
        stopAndDelete();
    }

    private synchronized void stopAndDelete() {
        if (closed) {
            return;
        }
        closed = true;
        stopServer(bin, directory, "fast");
        deleteRecursively(directory);
    }

    /**
     * Stops and deletes every harness directory whose owning JVM is gone. Directories of live JVMs (other test runs
     * on the same machine included) are left alone.
     */
    public static void reapOrphans() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, DIR_PREFIX + "*")) {
            for (Path dir : dirs) {
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                Optional<Long> owner = readOwner(dir);
                if (owner.isEmpty() || ProcessHandle.of(owner.get()).map(ProcessHandle::isAlive).orElse(false)) {
                    continue; // still being created, or its JVM lives
                }
                binaries().ifPresent(bin -> stopServer(bin, dir, "immediate"));
                deleteRecursively(dir);
            }
        } catch (IOException e) {
            // an unreadable temp directory: nothing of ours can be there
        }
    }

    private static Optional<Long> readOwner(Path dir) {
        try {
            return Optional.of(Long.parseLong(Files.readString(dir.resolve(OWNER_FILE)).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** pg_ctl stop; if that fails, kill the postmaster named in postmaster.pid. Never throws. */
    private static void stopServer(Path bin, Path directory, String mode) {
        Path data = directory.resolve("data");
        Path pidFile = data.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        try {
            run(bin, directory, List.of("pg_ctl", "-D", data.toString(), "-m", mode, "-w", "-t", "30", "stop"));
        } catch (IOException | RuntimeException e) {
            try {
                long pid = Long.parseLong(Files.readAllLines(pidFile).getFirst().trim());
                ProcessHandle.of(pid).ifPresent(p -> {
                    p.destroyForcibly();
                    p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> p).join();
                });
            } catch (IOException | RuntimeException ignored) {
                // nothing more can be done; the directory is deleted anyway
            }
        }
    }

    private static void writeSettings(Path directory, Path socket, int port, Map<String, String> overrides)
            throws IOException {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("port", Integer.toString(port));
        conf.put("listen_addresses", "'127.0.0.1'");
        conf.put("unix_socket_directories", "'" + socket + "'");
        conf.put("fsync", "off");
        conf.put("full_page_writes", "off");
        conf.put("max_connections", "60");
        conf.put("shared_buffers", "32MB");
        conf.putAll(overrides);
        StringBuilder sb = new StringBuilder("\n# PostgresHarness\n");
        conf.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        // postgresql.conf's last setting wins: a retry on another port appends again and overrides the first.
        Files.writeString(directory.resolve("data").resolve("postgresql.conf"), sb, StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean asRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** Runs a PostgreSQL program (as the postgres user when we are root); its output goes to a file, never a pipe. */
    private static void run(Path bin, Path directory, List<String> command) throws IOException {
        List<String> full = new ArrayList<>();
        if (asRoot()) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.add(bin.resolve(command.getFirst()).toString());
        full.addAll(command.subList(1, command.size()));
        // A file, not a pipe: the postmaster pg_ctl starts could otherwise hold the pipe open after pg_ctl exits.
        Path output = Files.createTempFile("pairwise-pgcmd-", ".log");
        try {
            Process p = new ProcessBuilder(full).directory(directory.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            boolean done = p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", full) + " did not finish in " + COMMAND_TIMEOUT.toSeconds()
                        + " s:\n" + tail(output) + serverLog(directory));
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", full) + " failed with exit code " + p.exitValue() + ":\n"
                        + tail(output) + serverLog(directory));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + full, e);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static String serverLog(Path directory) {
        Path log = directory.resolve("server.log");
        return Files.exists(log) ? "\nserver.log:\n" + tail(log) : "";
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(" + file + " unreadable: " + e.getMessage() + ")";
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("PostgresHarness: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
