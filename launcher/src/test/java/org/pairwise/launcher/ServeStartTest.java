package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.SharedModels;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.trainer.train.TrainerCheckpoint;

/**
 * What {@code pairwise serve} says when it cannot start, each as one {@code pairwise: error:} line and a non-zero exit,
 * and what it says when it resumes.
 */
@ExtendWith(VertxExtension.class)
class ServeStartTest {
    @TempDir
    Path dir;

    @Test
    void aSecondServerOnTheSameDataDirIsRefused() throws Exception {
        Path data = dir.resolve("data");
        try (ServeProcess first = ServeProcess.start(TestServers.fastSettings(data));
             ServeProcess second = startAfter(first, TestServers.fastSettings(data))) {
            assertEquals(1, second.awaitExit(Duration.ofSeconds(60)), second.output());
            List<String> errors = second.output().lines().filter(l -> l.startsWith("pairwise: error:")).toList();
            assertEquals(List.of("pairwise: error: data dir " + data.toAbsolutePath() + " is in use by process "
                    + first.pid() + "; stop that server or choose another --data-dir"), errors, second.output());
            assertFalse(second.output().contains("Exception"), second.output());
            assertTrue(first.isAlive(), "the first server stopped");
        }
    }

    @Test
    void aPortInUseSaysWhichPortAndWritesNoToken() throws Exception {
        Path data = dir.resolve("data");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            String err = failedStart("--data-dir", data.toString(), "--port", String.valueOf(port));
            assertEquals("pairwise: error: port " + port + " on 127.0.0.1 is in use (another program listens there);"
                    + " choose another with --port", err);
        }
        assertFalse(Files.exists(data.resolve("admin_token")), "a failed start wrote the admin token");
    }

    @Test
    void anUnwritableDataDirSaysWhy() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        boolean mounted = false;
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r-x------"));
        if (Files.isWritable(data)) {
            // Root writes through permission bits: a read-only file system it cannot write through.
            mounted = ReadOnlyMount.mountReadOnly(data);
            Assumptions.assumeTrue(mounted, "skipped: running as root without a way to make a read-only directory");
        }
        try {
            String err = failedStart("--data-dir", data.toString(), "--port", "0");
            String expected = "pairwise: error: data dir " + data.toAbsolutePath() + " is not writable: ";
            assertTrue(err.startsWith(expected) && (err.contains("permission denied")
                    || err.contains("read-only file system")), err);
        } finally {
            if (mounted) {
                ReadOnlyMount.unmount(data);
            }
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void aDataDirRemembersItsModel() throws Exception {
        Path stories = SharedModels.find("stories260K/stories260K.gguf").orElse(null);
        Assumptions.assumeTrue(stories != null, "skipped: needs the shared stories260K model for a second model");
        Path data = dir.resolve("data");
        PairwiseServer.start(TestServers.config(data, Map.of("model", stories.toString()))).close();

        String err = failedStart("--data-dir", data.toString(), "--port", "0");
        assertTrue(err.startsWith("pairwise: error: data dir " + data.toAbsolutePath() + " was created with model "
                + stories + " (LlamaForCausalLM, hidden 64"), err);
        assertTrue(err.contains("but this start has no --model, so the built-in demo model (LlamaForCausalLM"), err);
        assertTrue(err.endsWith("start with --model " + stories + ", or choose another --data-dir"), err);

        Path demoData = dir.resolve("demo-data");
        PairwiseServer.start(TestServers.config(demoData, Map.of("model", "demo"))).close();
        err = failedStart("--data-dir", demoData.toString(), "--port", "0", "--model", stories.toString());
        assertTrue(err.contains("was created with model demo (") && err.contains("this start has --model " + stories),
                err);
    }

    @Test
    void aRestartSaysWhereTrainingResumed(Vertx vertx) throws Exception {
        Path data = dir.resolve("data");
        Map<String, String> settings = TestServers.fastSettings(data);
        settings.put("max_new_tokens", "8");
        try (ServeProcess first = ServeProcess.start(settings)) {
            Client http = new Client(WebClient.create(vertx), first.awaitPort(), null);
            String pair = http.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id");
            assertEquals(201, http.vote(pair, "a", "alice").statusCode());
            TestServers.await(() -> http.get("/api/training/metrics").bodyAsJsonObject().getJsonObject("trainer")
                    .getInteger("policy_version"), v -> v >= 1, Duration.ofSeconds(60), "a published version");
            first.kill();
        }
        JsonObject state = new JsonObject(Files.readString(TrainerCheckpoint.latest(data.resolve("trainer_output"))
                .resolve(TrainerCheckpoint.STATE_FILE)));
        try (ServeProcess again = ServeProcess.start(settings)) {
            again.awaitPort();
            Matcher m = Pattern.compile("Resumed training at step (\\d+), policy version (\\d+), after vote (\\d+) "
                    + "\\(the last one trained on\\)\\.").matcher(again.output());
            assertTrue(m.find(), again.output());
            assertEquals(state.getInteger("global_step"), Integer.parseInt(m.group(1)));
            assertEquals(state.getInteger("policy_version"), Integer.parseInt(m.group(2)));
            assertEquals(state.getLong("last_vote_id"), Long.parseLong(m.group(3)));
        }
    }

    private static ServeProcess startAfter(ServeProcess first, Map<String, String> settings) throws Exception {
        first.awaitPort();
        return ServeProcess.start(settings);
    }

    /** Runs serve in this JVM, expecting it to fail at start; returns its one error line. */
    private static String failedStart(String... args) {
        List<String> all = new ArrayList<>(List.of("serve", "--max-new-tokens", "8"));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        String text = err.toString().strip();
        assertEquals(1, code, "exit code; stderr: " + text);
        assertEquals(1, text.lines().count(), "one line: " + text);
        return text;
    }

    /** A read-only tmpfs over a directory, for a root test that needs a directory it cannot write. */
    static final class ReadOnlyMount {
        static boolean mountReadOnly(Path dir) throws Exception {
            return run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir.toString());
        }

        static void unmount(Path dir) throws Exception {
            run("umount", "-l", dir.toString());
        }

        private static boolean run(String... cmd) throws Exception {
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (java.io.IOException e) {
                return false;
            }
        }
    }
}
