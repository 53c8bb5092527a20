package org.pairwise.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Zero-loss audit: every vote the server acknowledged during the run is in its store, once. Uses only the public
 * API: the admin TRL export (each acknowledged A/B vote must appear as its {prompt, chosen, rejected} line), the
 * stats' counts by annotator and by choice (compared before and after the run, so the store may hold older votes),
 * and the newest votes, which carry ids. Votes whose outcome the client never learned (a lost response) may be
 * stored without an acknowledgement; those are the only extra rows the audit tolerates.
 */
public final class Audit {

    public enum Status { PASS, FAIL, SKIPPED }

    public record Check(String name, Status status, String detail) {}

    /** campaign: the campaign audit's figures (pairs by votes, decisions, items), null without a store file. */
    public record Result(boolean passed, long acknowledged, long storedDelta, long exportLines, long exportMatched,
                         long lost, List<Check> checks, Map<String, Object> campaign) {

        /** This result with the campaign audit's checks after its own. */
        Result with(CampaignAudit.Result store) {
            List<Check> all = new ArrayList<>(checks);
            all.addAll(store.checks());
            boolean ok = passed && store.checks().stream().noneMatch(c -> c.status() == Status.FAIL);
            return new Result(ok, acknowledged, storedDelta, exportLines, exportMatched, lost, List.copyOf(all),
                    store.figures());
        }
    }

    /** What GET /api/stats says about votes. */
    /** aggregation: how the server's trainer labels pairs (each, majority, soft), "each" when it does not say. */
    public record StatsSnapshot(long votes, Map<String, Long> byAnnotator, Map<String, Long> byChoice,
                                String aggregation) {
        static StatsSnapshot fromJson(JsonObject o) {
            JsonObject trainer = o.getJsonObject("trainer", new JsonObject());
            return new StatsSnapshot(o.getLong("votes", 0L), longs(o.getJsonObject("votes_by_annotator")),
                    longs(o.getJsonObject("votes_by_choice")), trainer.getString("aggregation", "each"));
        }

        private static Map<String, Long> longs(JsonObject o) {
            Map<String, Long> m = new HashMap<>();
            if (o != null) {
                o.forEach(e -> m.put(e.getKey(), ((Number) e.getValue()).longValue()));
            }
            return m;
        }
    }

    private static final int LATEST = 100;
    static final int SHOWN = 5;

    private final Vertx vertx;
    private final WebClient client;
    private final URI url;
    private final String adminToken;

    public Audit(Vertx vertx, WebClient client, URI url, String adminToken) {
        this.vertx = vertx;
        this.client = client;
        this.url = url;
        this.adminToken = adminToken;
    }

    /** GET with the admin token when there is one: per-annotator counts and other people's votes are the admin's. */
    private io.vertx.ext.web.client.HttpRequest<io.vertx.core.buffer.Buffer> get(String path) {
        var req = client.getAbs(url.resolve(path).toString());
        return adminToken == null ? req : req.putHeader("Authorization", "Bearer " + adminToken);
    }

    public Future<StatsSnapshot> stats() {
        return get("/api/stats").send()
                .compose(r -> r.statusCode() == 200 ? Future.succeededFuture(StatsSnapshot.fromJson(r.bodyAsJsonObject()))
                        : Future.failedFuture(new IllegalStateException("GET /api/stats answered " + r.statusCode()
                        + ": " + ServedPair.abbreviate(r.bodyAsString()))));
    }

    /**
     * Compares the ledger with the server. {@code unknownOutcomes} votes were sent without the client learning
     * whether they were stored; they bound the extra rows that are not a failure.
     */
    public Future<Result> verify(VoteLedger ledger, StatsSnapshot before, long unknownOutcomes) {
        Future<StatsSnapshot> after = stats();
        Future<Map<Long, Long>> export = adminToken == null ? Future.succeededFuture(null) : exportCounts(ledger);
        Future<JsonArray> latest = get("/api/votes/latest?limit=" + LATEST).send()
                .map(r -> r.statusCode() == 200 ? r.bodyAsJsonObject().getJsonArray("votes") : null);
        return Future.all(after, export, latest).map(v -> judge(ledger, before, after.result(), export.result(),
                latest.result(), unknownOutcomes));
    }

    private Result judge(VoteLedger ledger, StatsSnapshot before, StatsSnapshot after, Map<Long, Long> found,
                         JsonArray latest, long unknown) {
        List<Check> checks = new ArrayList<>();
        long acked = ledger.acknowledged();

        checks.add(ledger.collisions() == 0
                ? new Check("acknowledged ids are distinct", Status.PASS, acked + " votes, " + acked + " ids")
                : new Check("acknowledged ids are distinct", Status.FAIL, ledger.collisions()
                + " different votes were acknowledged with an id another vote also got"));

        long delta = after.votes() - before.votes();
        checks.add(new Check("store grew by the acknowledged votes", delta >= acked ? Status.PASS : Status.FAIL,
                "stored " + delta + " new votes, acknowledged " + acked
                        + (delta > acked ? " (" + (delta - acked) + " more: unacknowledged sends or other clients)"
                        : "")));

        List<String> wrong = new ArrayList<>();
        ledger.countsByAnnotator().forEach((name, n) -> {
            long stored = after.byAnnotator().getOrDefault(name, 0L) - before.byAnnotator().getOrDefault(name, 0L);
            if (stored < n || stored > n + unknown) {
                wrong.add(name + ": stored " + stored + ", acknowledged " + n);
            }
        });
        checks.add(adminToken == null
                ? new Check("each annotator's votes stored once", Status.SKIPPED, "no admin token (--admin-token) "
                + "for the per-annotator counts of GET /api/stats")
                : wrong.isEmpty()
                ? new Check("each annotator's votes stored once", Status.PASS,
                ledger.countsByAnnotator().size() + " annotators match")
                : new Check("each annotator's votes stored once", Status.FAIL, wrong.size() + " annotators differ, e.g. "
                + String.join("; ", wrong.subList(0, Math.min(SHOWN, wrong.size())))));

        List<String> short_ = new ArrayList<>();
        ledger.countsByChoice().forEach((choice, n) -> {
            long stored = after.byChoice().getOrDefault(choice, 0L) - before.byChoice().getOrDefault(choice, 0L);
            if (stored < n) {
                short_.add(choice + ": stored " + stored + ", acknowledged " + n);
            }
        });
        checks.add(short_.isEmpty() ? new Check("votes by choice", Status.PASS, "counts cover " + ledger.countsByChoice())
                : new Check("votes by choice", Status.FAIL, String.join("; ", short_)));

        long lost = 0, lines = 0, matched = 0;
        if (found == null) {
            checks.add(new Check("every acknowledged A/B vote is in the export", Status.SKIPPED,
                    "no admin token (--admin-token) for GET /api/export"));
        } else {
            lines = found.getOrDefault(ALL_LINES, 0L);
            long extra = 0;
            for (Map.Entry<Long, Long> e : ledger.expectedLines().entrySet()) {
                long f = found.getOrDefault(e.getKey(), 0L);
                matched += Math.min(f, e.getValue());
                lost += Math.max(0, e.getValue() - f);
                extra += Math.max(0, f - e.getValue());
            }
            checks.add(lost == 0 ? new Check("every acknowledged A/B vote is in the export", Status.PASS,
                    matched + " of " + lines + " export lines are this run's votes")
                    : new Check("every acknowledged A/B vote is in the export", Status.FAIL, lost
                    + " acknowledged A/B votes are missing from the export (" + matched + " found)"));
            // Lines beyond the acknowledged ones are duplicates only if nothing else could explain them.
            boolean fresh = before.votes() == 0;
            checks.add(!fresh ? new Check("no acknowledged vote is in the export twice", Status.SKIPPED,
                    "the store held " + before.votes() + " votes before the run; repeats cannot be told from them")
                    : extra <= unknown ? new Check("no acknowledged vote is in the export twice", Status.PASS,
                    extra == 0 ? "none" : extra + " extra lines, within the " + unknown + " unacknowledged sends")
                    : new Check("no acknowledged vote is in the export twice", Status.FAIL, extra
                    + " lines more than acknowledged (" + unknown + " sends had no answer)"));
        }

        if (latest == null) {
            checks.add(new Check("newest stored votes match their acknowledgements", Status.SKIPPED,
                    "GET /api/votes/latest did not answer 200"));
        } else {
            Map<String, VoteLedger.Ack> byKey = new HashMap<>();
            ledger.acks().values().forEach(a -> byKey.put(a.idempotencyKey(), a));
            int seen = 0;
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < latest.size(); i++) {
                JsonObject v = latest.getJsonObject(i);
                VoteLedger.Ack a = byKey.get(v.getString("idempotency_key"));
                if (a == null) {
                    continue;
                }
                seen++;
                if (a.id() != v.getLong("id") || !a.pairId().equals(v.getString("pair_id"))
                        || !a.choice().equals(v.getString("choice"))) {
                    bad.add("key " + a.idempotencyKey() + ": acknowledged id " + a.id() + " " + a.choice()
                            + ", stored id " + v.getLong("id") + " " + v.getString("choice"));
                }
            }
            checks.add(bad.isEmpty() ? new Check("newest stored votes match their acknowledgements", Status.PASS,
                    seen + " of the newest " + latest.size() + " are this run's, all with the acknowledged id")
                    : new Check("newest stored votes match their acknowledgements", Status.FAIL,
                    String.join("; ", bad.subList(0, Math.min(SHOWN, bad.size())))));
        }
        boolean passed = checks.stream().noneMatch(c -> c.status() == Status.FAIL);
        return new Result(passed, acked, delta, lines, matched, lost, checks, null);
    }

    /** Key under which {@link #exportCounts} reports the number of lines; 0 is never a line hash. */
    private static final long ALL_LINES = 0L;
    /** An export that stalls fails the audit instead of hanging the run. */
    private static final long EXPORT_TIMEOUT_S = 300;

    /**
     * Streams the standard TRL export, then the battle export (a battle's votes are evaluation data, exported apart;
     * the annotator cannot tell a battle from any pair), and counts the lines this run expects (plus all lines under
     * key 0).
     */
    private Future<Map<Long, Long>> exportCounts(VoteLedger ledger) {
        Map<Long, Long> expected = ledger.expectedLines();
        Map<Long, Long> found = new HashMap<>();
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setIdleTimeout(120));
        Promise<Map<Long, Long>> done = Promise.promise();
        // On a context of its own, the response callback runs on the connection's event loop before any body
        // arrives; from a plain thread it is dispatched later and a short export can end before the handlers exist.
        vertx.getOrCreateContext().runOnContext(ignored -> streamExport(http, export("standard&labels=votes"),
                Audit::trlLine, expected, found).compose(v -> streamExport(http, export("battles"),
                Audit::battleLine, expected, found)).onComplete(ar -> {
                    if (ar.succeeded()) {
                        done.tryComplete(found);
                    } else {
                        done.tryFail(ar.cause());
                    }
                }));
        return done.future().timeout(EXPORT_TIMEOUT_S, TimeUnit.SECONDS).eventually(() -> http.close());
    }

    private RequestOptions export(String format) {
        return new RequestOptions().setMethod(HttpMethod.GET)
                .setAbsoluteURI(url.resolve("/api/export?format=" + format).toString())
                .putHeader("Authorization", "Bearer " + adminToken);
    }

    /** A line's hash as the ledger keys it, or null for a line that is no A/B vote. */
    private interface LineKey {
        Long of(JsonObject line);
    }

    private static Long trlLine(JsonObject o) {
        return VoteLedger.lineHash(o.getString("prompt"), o.getString("chosen"), o.getString("rejected"));
    }

    private static Long battleLine(JsonObject o) {
        String choice = o.getString("choice");
        if (o.getValue("retracted_at") != null || !("a".equals(choice) || "b".equals(choice))) {
            return null;
        }
        boolean a = choice.equals("a");
        return VoteLedger.lineHash(o.getString("prompt_text"), a ? o.getString("a_text") : o.getString("b_text"),
                a ? o.getString("b_text") : o.getString("a_text"));
    }

    private static Future<Void> streamExport(HttpClient http, RequestOptions req, LineKey key,
                                             Map<Long, Long> expected, Map<Long, Long> found) {
        Promise<Void> done = Promise.promise();
        http.request(req).compose(r -> r.send()).onSuccess(resp -> {
            if (resp.statusCode() != 200) {
                resp.body().onComplete(b -> done.tryFail(new IllegalStateException("GET /api/export answered "
                        + resp.statusCode() + ": " + (b.succeeded() ? ServedPair.abbreviate(b.result().toString())
                        : ""))));
                return;
            }
            RecordParser lines = RecordParser.newDelimited("\n", resp);
            lines.handler(line -> {
                if (line.length() == 0) {
                    return;
                }
                try {
                    Long h = key.of(new JsonObject(line));
                    if (h == null) {
                        return;
                    }
                    found.merge(ALL_LINES, 1L, Long::sum);
                    if (expected.containsKey(h)) {
                        found.merge(h, 1L, Long::sum);
                    }
                } catch (RuntimeException e) {
                    done.tryFail(new IllegalStateException("GET /api/export: not a line of the export: "
                            + ServedPair.abbreviate(line.toString()), e));
                }
            });
            lines.exceptionHandler(done::tryFail);
            lines.endHandler(v -> done.tryComplete());
        }).onFailure(done::tryFail);
        return done.future();
    }

}
