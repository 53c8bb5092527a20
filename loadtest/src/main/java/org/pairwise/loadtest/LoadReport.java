package org.pairwise.loadtest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a load test found: per-endpoint throughput and latency (with a per-second series), the votes, and the audit.
 * The JSON report is this record in snake_case; the text table and the HTML page are views of it.
 *
 * @param notSent operations an open loop could not start because too many were already waiting (the client, not
 *                the server, was the limit; nonzero means the run under-reports the load it meant to offer)
 */
public record LoadReport(String startedAt, String runId, Map<String, Object> settings, double elapsedSeconds,
                         long notSent, List<EndpointSummary> endpoints, Votes votes, Audit.Result audit,
                         List<String> errorSamples) {

    /**
     * @param acknowledged   distinct votes the server acknowledged (201, or 200 for a retry it already had)
     * @param created        201 answers
     * @param duplicates     200 answers: the server already had the vote (a retry whose first answer was lost)
     * @param perSecond      acknowledged votes per second of the run
     * @param retries        retried sends (429 Too Many Requests, or no answer)
     * @param repeatedPairs  pairs served to an annotator who had already judged them (fetched again)
     * @param unknownOutcome votes sent whose answer never came: maybe stored, not acknowledged
     * @param warmupAcknowledged votes acknowledged during the warm-up: not in the figures above, but audited
     * @param skipped        pairs skipped with a reason instead (--skip-rate), over the whole run
     */
    public record Votes(long acknowledged, long created, long duplicates, double perSecond, long retries,
                        long repeatedPairs, long unknownOutcome, long warmupAcknowledged, long skipped) {}

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.ALWAYS)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode the report", e);
        }
    }

    public void writeJson(Path file) throws IOException {
        Files.writeString(file, toJson());
    }

    /** Whether the run is clean: no failed audit check, no failed operation, nothing left unsent. */
    public boolean clean() {
        return (audit == null || audit.passed()) && notSent == 0
                && endpoints.stream().allMatch(e -> e.errors() == 0);
    }

    /** The human-readable summary. */
    public void printTable(PrintWriter out) {
        out.printf("pairwise loadtest  %s  %s, %s loop, %.1f s%n", settings.get("url"), settings.get("workload"),
                settings.get("load_model"), elapsedSeconds);
        out.printf("%-26s %10s %9s %9s %9s %9s %9s %9s %7s%n", "endpoint", "ok/s", "p50 ms", "p90 ms", "p99 ms",
                "p99.9 ms", "max ms", "ok", "errors");
        for (EndpointSummary e : endpoints) {
            var l = e.latency();
            out.printf("%-26s %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f %9d %7d%n", e.endpoint(), e.okPerSecond(),
                    l.p50Ms(), l.p90Ms(), l.p99Ms(), l.p999Ms(), l.maxMs(), e.ok(), e.errors());
        }
        for (EndpointSummary e : endpoints) {
            out.printf("  %s responses by status: %s%n", e.endpoint(), e.statuses());
        }
        if (votes != null) {
            out.printf("votes: %d acknowledged (%d created, %d duplicate answers), %.1f/s; %d retries, %d repeated "
                            + "pairs skipped, %d with unknown outcome%n", votes.acknowledged(), votes.created(),
                    votes.duplicates(), votes.perSecond(), votes.retries(), votes.repeatedPairs(),
                    votes.unknownOutcome());
            if (votes.skipped() > 0) {
                out.printf("  %d pairs skipped with a reason%n", votes.skipped());
            }
            if (votes.warmupAcknowledged() > 0) {
                out.printf("  (plus %d votes acknowledged during the warm-up; the audit covers those too)%n",
                        votes.warmupAcknowledged());
            }
        }
        if (notSent > 0) {
            out.printf("not sent: %d operations (the client had too many in flight; the offered rate was not met)%n",
                    notSent);
        }
        if (audit != null) {
            out.printf("audit: %s%n", audit.passed() ? "PASS" : "FAIL");
            for (Audit.Check c : audit.checks()) {
                out.printf("  [%s] %s: %s%n", c.status(), c.name(), c.detail());
            }
            if (audit.campaign() != null) {
                out.printf("  campaign (the store file): %s%n", audit.campaign());
            }
        }
        if (!errorSamples.isEmpty()) {
            out.println("first errors:");
            errorSamples.forEach(s -> out.println("  " + s));
        }
        out.flush();
    }
}
