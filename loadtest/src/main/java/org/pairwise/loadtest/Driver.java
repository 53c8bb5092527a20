package org.pairwise.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.pairwise.loadtest.rules.Choice;
import org.pairwise.loadtest.rules.PreferenceRule;

/**
 * The simulated annotators of one client event loop. Closed loop: each annotator runs one operation after another.
 * Open loop: this driver's share of the arrival schedule starts operations when they are due, however many are
 * still waiting for the server. Everything here runs on the driver's event loop, so annotator state needs no locks.
 */
final class Driver extends VerticleBase {

    /** One simulated person. */
    static final class Annotator {
        final Identity identity;
        final SplittableRandom rng;
        final boolean ownPrompts;
        /** Pairs this person was shown: a pair served to several people must not be judged twice by one. */
        final Set<String> seen = new HashSet<>();

        Annotator(Identity identity, SplittableRandom rng, boolean ownPrompts) {
            this.identity = identity;
            this.rng = rng;
            this.ownPrompts = ownPrompts;
        }
    }

    /** What a simulated person gives as the reason of a skip, at random. */
    private static final List<String> SKIP_REASONS = List.of("cant_judge", "harmful", "prompt_unclear");

    /** Transport failures (no answer) retried per vote; after that its outcome stays unknown. */
    private static final int TRANSPORT_ATTEMPTS = 3;

    private final LoadRunner run;
    private final LoadConfig cfg;
    private final PreferenceRule rule;
    private final int index;
    private final Promise<Void> finished = Promise.promise();
    private final List<Annotator> annotators = new ArrayList<>();
    private int active;
    private long inFlight;
    private boolean scheduleDone;
    private OpenLoopSchedule schedule;
    private int nextAnnotator;

    Driver(LoadRunner run, int index) {
        this.run = run;
        this.cfg = run.config();
        this.rule = cfg.votingRule();
        this.index = index;
    }

    Future<Void> finished() {
        return finished.future();
    }

    @Override
    public Future<?> start() {
        int loops = cfg.eventLoops();
        for (int a = index; a < cfg.annotators(); a += loops) {
            int person = a;
            annotators.add(run.session.annotator(person, k -> annotator(person)));
        }
        if (annotators.isEmpty() && cfg.openLoop()) {
            // More loops than people: this loop gets a copy of one, under a key of its own (not shared across loops).
            annotators.add(run.session.annotator(-1 - index, k -> annotator(index % cfg.annotators())));
        }
        if (cfg.openLoop()) {
            schedule = new OpenLoopSchedule(run.startNanos, cfg.rate(), run.limit(), run.deadlineNanos, index, loops);
            context.runOnContext(v -> tickOpen());
        } else {
            active = annotators.size();
            if (active == 0) {
                finished.complete();
            }
            for (Annotator an : annotators) {
                context.runOnContext(v -> loop(an));
            }
        }
        return Future.succeededFuture();
    }

    private Annotator annotator(int a) {
        SplittableRandom rng = new SplittableRandom(cfg.seed() ^ (a * 0x9E3779B97F4A7C15L));
        boolean own = cfg.workload() == Workload.ANNOTATE && rng.nextDouble() < cfg.ownPrompts();
        return new Annotator(run.identity(a), rng, own);
    }

    // ---- closed loop ----

    private void loop(Annotator an) {
        long ticket = run.claim();
        if (ticket < 0) {
            if (--active == 0) {
                finished.complete();
            }
            return;
        }
        operation(an, ticket, System.nanoTime()).onComplete(ar -> loop(an));
    }

    // ---- open loop ----

    private void tickOpen() {
        long now = System.nanoTime();
        long cap = Math.max(1, LoadRunner.MAX_IN_FLIGHT / cfg.eventLoops());
        while (schedule.hasNext() && schedule.peekDue() <= now) {
            long due = schedule.peekDue();
            long i = schedule.take();
            if (inFlight >= cap) {
                run.notSent.increment();  // the client cannot keep up: reported, never silently skipped
                continue;
            }
            inFlight++;
            Annotator an = annotators.get(nextAnnotator++ % annotators.size());
            long ticket = run.ticketBase + i;
            run.noteTicket(ticket);
            operation(an, ticket, due).onComplete(ar -> {
                inFlight--;
                maybeFinishOpen();
            });
        }
        if (schedule.hasNext()) {
            vertx.setTimer(LoadRunner.nanosToMillisCeil(schedule.peekDue() - System.nanoTime()), id -> tickOpen());
        } else {
            scheduleDone = true;
            maybeFinishOpen();
        }
    }

    private void maybeFinishOpen() {
        if (scheduleDone && inFlight == 0) {
            finished.tryComplete();
        }
    }

    // ---- operations (start: the intended start, from which latency is measured) ----

    private Future<Void> operation(Annotator an, long i, long start) {
        return switch (cfg.workload()) {
            case NEXT_PAIR -> plainGet(LoadRunner.NEXT, "/api/pairs/next", an.identity, start);
            case CONSTANT -> plainGet(LoadRunner.CONSTANT, "/api/bench/constant", an.identity, start);
            case VOTE -> {
                // Pair i mod K for "person" i div K: every vote is a new annotator/pair combination.
                int k = run.votePairs.size();
                yield vote(run.identity(i / k), an.rng, run.votePairs.get((int) (i % k)), start);
            }
            case ANNOTATE -> fetchUnseen(an, start, 0).compose(p -> {
                if (cfg.skipRate() > 0 && an.rng.nextDouble() < cfg.skipRate()) {
                    Promise<Void> skipped = Promise.promise();
                    String reason = SKIP_REASONS.get(an.rng.nextInt(SKIP_REASONS.size()));
                    attemptSkip(an.identity, p, reason, System.nanoTime(), 1, skipped);
                    return skipped.future();
                }
                long think = cfg.thinkTime().sampleNanos(an.rng);
                if (think <= 0) {
                    return vote(an.identity, an.rng, p, System.nanoTime());
                }
                long due = System.nanoTime() + think;
                Promise<Void> voted = Promise.promise();
                vertx.setTimer(LoadRunner.nanosToMillisCeil(think), id -> vote(an.identity, an.rng, p, due)
                        .onComplete(voted));
                return voted.future();
            }, failed -> Future.succeededFuture());
        };
    }

    private Future<Void> plainGet(String endpoint, String path, Identity who, long start) {
        EndpointRecorder rec = run.recorder(endpoint);
        return run.request(HttpMethod.GET, path, who, null).transform(ar -> {
            if (ar.failed()) {
                transportError(rec, endpoint, ar.cause());
            } else if (ar.result().statusCode() == 200) {
                rec.status(200);
                rec.ok(System.nanoTime() - start);
            } else {
                httpError(rec, endpoint, ar.result());
            }
            return Future.succeededFuture();
        });
    }

    /** A pair this annotator has not seen: from the pool, or generated for a prompt of their own. */
    private Future<ServedPair> fetchUnseen(Annotator an, long start, int repeat) {
        String endpoint = an.ownPrompts ? LoadRunner.OWN : LoadRunner.NEXT;
        EndpointRecorder rec = run.recorder(endpoint);
        Future<HttpResponse<Buffer>> sent = an.ownPrompts
                ? run.request(HttpMethod.POST, "/api/pairs", an.identity,
                        new JsonObject().put("prompt", run.ownPrompt(an.rng)).toBuffer())
                : run.request(HttpMethod.GET, "/api/pairs/next", an.identity, null);
        return sent.transform(ar -> {
            if (ar.failed()) {
                transportError(rec, endpoint, ar.cause());
                return Future.failedFuture(ar.cause());
            }
            HttpResponse<Buffer> r = ar.result();
            if (r.statusCode() != 200 && r.statusCode() != 201) {
                httpError(rec, endpoint, r);
                return Future.failedFuture(endpoint + " " + r.statusCode());
            }
            rec.status(r.statusCode());
            ServedPair p;
            try {
                p = ServedPair.fromJson(r.bodyAsJsonObject());
            } catch (RuntimeException e) {
                rec.error();
                run.sampleError(endpoint + ": " + e.getMessage());
                return Future.failedFuture(e);
            }
            if (!an.seen.add(p.id())) {
                run.repeats.increment();
                if (repeat + 1 >= LoadRunner.MAX_REPEATS) {
                    rec.error();
                    run.sampleError(endpoint + ": " + an.identity.name() + " was shown only pairs it had judged, "
                            + LoadRunner.MAX_REPEATS + " times in a row");
                    return Future.failedFuture("no unseen pair");
                }
                return fetchUnseen(an, start, repeat + 1);
            }
            rec.ok(System.nanoTime() - start);
            return Future.succeededFuture(p);
        });
    }

    private Future<Void> vote(Identity who, SplittableRandom rng, ServedPair p, long intended) {
        Choice c = rule.choose(p.prompt(), p.a(), p.b(), rng);
        String choice = c.wireName();
        long hash = switch (c) {
            case A -> VoteLedger.lineHash(p.prompt(), p.a(), p.b());
            case B -> VoteLedger.lineHash(p.prompt(), p.b(), p.a());
            default -> 0;
        };
        String key = run.nextIdempotencyKey();
        VoteLedger.Ack ack = new VoteLedger.Ack(0, who.name(), key, p.id(), choice, hash);
        Promise<Void> done = Promise.promise();
        attemptVote(who, run.voteBody(p, choice, who, key), ack, intended, 1, 0, done);
        return done.future();
    }

    /** One try of a vote; 429 and lost answers are retried with the same idempotency key, so nothing counts twice. */
    private void attemptVote(Identity who, Buffer body, VoteLedger.Ack ack, long intended, int attempt,
                             int transportFailures, Promise<Void> done) {
        EndpointRecorder rec = run.recorder(LoadRunner.VOTE);
        run.request(HttpMethod.POST, "/api/preferences", who, body).onComplete(ar -> {
            if (ar.failed()) {
                rec.status(0);
                if (transportFailures + 1 < TRANSPORT_ATTEMPTS && attempt < LoadRunner.MAX_ATTEMPTS) {
                    run.retries.increment();
                    vertx.setTimer(LoadRunner.retryDelayMillis(null, attempt), id -> attemptVote(who, body, ack,
                            intended, attempt + 1, transportFailures + 1, done));
                    return;
                }
                rec.error();
                run.unknownOutcomes.increment();  // it may have been stored; the audit allows for it
                run.sampleError(LoadRunner.VOTE + ": " + ar.cause());
                done.complete();
                return;
            }
            HttpResponse<Buffer> r = ar.result();
            int s = r.statusCode();
            if (s == 201 || s == 200) {
                rec.status(s);
                long id;
                try {
                    id = r.bodyAsJsonObject().getLong("id");
                } catch (RuntimeException e) {
                    rec.error();
                    run.sampleError(LoadRunner.VOTE + " " + s + " without an id: "
                            + ServedPair.abbreviate(r.bodyAsString()));
                    done.complete();
                    return;
                }
                // The server names the voter (a token's name, or the identity cookie's); the audit compares those.
                String annotator = r.bodyAsJsonObject().getString("annotator", ack.annotator());
                run.ledger.acknowledged(s == 201, new VoteLedger.Ack(id, annotator, ack.idempotencyKey(),
                        ack.pairId(), ack.choice(), ack.lineHash()));
                rec.ok(System.nanoTime() - intended);
                done.complete();
                return;
            }
            if (retriedWhenBusy(rec, r, attempt, () ->
                    attemptVote(who, body, ack, intended, attempt + 1, transportFailures, done))) {
                return;
            }
            httpError(rec, LoadRunner.VOTE, r);
            if (transportFailures > 0) {
                run.unknownOutcomes.increment();
            }
            done.complete();
        });
    }

    /** One try of a skip; 429 is retried (a repeat of a stored skip is answered 200, so retries are safe). */
    private void attemptSkip(Identity who, ServedPair p, String reason, long intended, int attempt,
                             Promise<Void> done) {
        EndpointRecorder rec = run.recorder(LoadRunner.SKIP);
        Buffer body = new JsonObject().put("pair_id", p.id()).put("reason", reason)
                .put("comment", "load test: " + reason).toBuffer();
        run.request(HttpMethod.POST, "/api/skips", who, body).onComplete(ar -> {
            if (ar.failed()) {
                transportError(rec, LoadRunner.SKIP, ar.cause());
                done.complete();
                return;
            }
            HttpResponse<Buffer> r = ar.result();
            if (r.statusCode() == 201 || r.statusCode() == 200) {
                rec.status(r.statusCode());
                run.ledger.skipped(new VoteLedger.Skip(r.bodyAsJsonObject().getString("annotator", who.name()),
                        p.id(), reason));
                rec.ok(System.nanoTime() - intended);
                done.complete();
            } else if (!retriedWhenBusy(rec, r, attempt, () -> attemptSkip(who, p, reason, intended, attempt + 1,
                    done))) {
                httpError(rec, LoadRunner.SKIP, r);
                done.complete();
            }
        });
    }

    /** A 429 with tries left: counted, and {@code again} runs after Retry-After (or the backoff). */
    private boolean retriedWhenBusy(EndpointRecorder rec, HttpResponse<Buffer> r, int attempt, Runnable again) {
        if (r.statusCode() != 429 || attempt >= LoadRunner.MAX_ATTEMPTS) {
            return false;
        }
        rec.status(429);
        run.retries.increment();
        vertx.setTimer(LoadRunner.retryDelayMillis(r.getHeader("Retry-After"), attempt), id -> again.run());
        return true;
    }

    private void transportError(EndpointRecorder rec, String endpoint, Throwable t) {
        rec.status(0);
        rec.error();
        run.sampleError(endpoint + ": " + t);
    }

    private void httpError(EndpointRecorder rec, String endpoint, HttpResponse<Buffer> r) {
        rec.status(r.statusCode());
        rec.error();
        run.sampleError(endpoint + " " + r.statusCode() + ": " + ServedPair.abbreviate(String.valueOf(r.bodyAsString())));
    }
}
