package org.pairwise.launcher;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code pairwise serve} in a child JVM on the test class path, for tests that kill a server with SIGKILL or start a
 * second one beside it. Everything it prints is collected.
 */
final class ServeProcess implements AutoCloseable {
    private static final Pattern URL = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final StringBuffer output = new StringBuffer();

    private ServeProcess(Process process) {
        this.process = process;
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.append(line).append('\n');
                }
            } catch (java.io.IOException ignored) {
                // the process is gone
            }
        });
    }

    /** Starts {@code pairwise serve --k v ...} (snake_case keys become --kebab-case flags). */
    static ServeProcess start(Map<String, String> settings) throws java.io.IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Surefire runs tests from a manifest-only jar; the real class path is in surefire.test.class.path.
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", cp, "org.pairwise.launcher.Main", "serve"));
        settings.forEach((k, v) -> cmd.addAll(List.of("--" + k.replace('_', '-'), v)));
        return new ServeProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** The port it listens on, once it says so; fails with what it printed if it exits or takes over a minute. */
    int awaitPort() throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            Matcher m = URL.matcher(output);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!process.isAlive() && process.waitFor(1, TimeUnit.SECONDS)) {
                Thread.sleep(100);  // let the reader take the last lines
                throw new AssertionError("the server process exited with " + process.exitValue() + ":\n" + output);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the server process did not start:\n" + output);
    }

    /** Waits for it to exit by itself; returns the exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the server process is still running:\n" + output);
        }
        Thread.sleep(100);  // let the reader take the last lines
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook, no final checkpoint, no drain. Returns once it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the server process survived SIGKILL");
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    String output() {
        return output.toString();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
