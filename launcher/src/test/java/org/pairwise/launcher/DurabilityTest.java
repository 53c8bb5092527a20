package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.SqlitePreferenceStore;
import org.pairwise.trainer.train.TrainerCheckpoint;

/**
 * SIGKILL mid-stream: every acknowledged vote is in the SQLite file afterwards, and the restarted trainer resumes from
 * its checkpoint, training each A/B vote after the checkpoint exactly once, in order.
 */
@ExtendWith(VertxExtension.class)
class DurabilityTest {
    @TempDir
    Path dir;

    @Test
    void acknowledgedVotesSurviveSigkillAndTrainingResumesExactly(Vertx vertx) throws Exception {
        Map<String, String> settings = TestServers.fastSettings(dir);
        settings.put("save_steps", "2");
        settings.put("publish_every", "3");  // a version is checkpointed when published: keep steps past the last
        settings.put("pool_size", "4");
        settings.put("max_new_tokens", "8");
        ServeProcess child = ServeProcess.start(settings);
        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        int stepsBeforeKill;
        try {
            int port = child.awaitPort();
            WebClient web = WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(16));
            Client http = new Client(web, port, null);
            List<String> pairs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pairs.add(http.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id"));
            }
            // Eight voters in flight at once; each 201 is an acknowledgement the store must honour.
            AtomicBoolean voting = new AtomicBoolean(true);
            AtomicInteger seq = new AtomicInteger();
            String[] choices = {"a", "b", "a", "b", "tie", "a", "both_bad", "b"};
            for (int v = 0; v < 8; v++) {
                voteLoop(vertx, web, port, pairs, choices, seq, voting, acknowledged);
            }
            // Kill once a step is past the last checkpoint (save_steps 2, and one at every third step, which
            // publishes), while votes are still arriving.
            stepsBeforeKill = TestServers.await(() -> http.get("/api/training/metrics").bodyAsJsonObject()
                    .getJsonArray("steps").size(), n -> n >= 5 && n % 6 == 5, Duration.ofSeconds(90),
                    "training past a checkpoint");
            child.kill();
            voting.set(false);
        } finally {
            child.close();
        }
        assertTrue(acknowledged.size() >= 20, "only " + acknowledged.size() + " votes were acknowledged");

        Path db = dir.resolve(PairwiseServer.DB_FILE);
        List<Long> abAfterCheckpoint = new ArrayList<>();
        Path latest = TrainerCheckpoint.latest(dir.resolve("trainer_output"));
        JsonObject state = new JsonObject(Files.readString(latest.resolve(TrainerCheckpoint.STATE_FILE)));
        long checkpointVote = state.getLong("last_vote_id");
        int checkpointStep = state.getInteger("global_step");
        // Usually behind the kill (step 5, 11, ...); a step may finish between the poll and the kill.
        assertTrue(checkpointStep > 0 && checkpointStep <= stepsBeforeKill + 1, "checkpoint at " + checkpointStep
                + ", killed after " + stepsBeforeKill + " steps");
        try (PreferenceStore store = new SqlitePreferenceStore(db, 100)) {
            Set<Long> stored = new TreeSet<>();
            for (var v : store.latestVotes(Integer.MAX_VALUE).get()) {
                stored.add(v.id());
                if ((v.choice() == Choice.A || v.choice() == Choice.B) && v.id() > checkpointVote) {
                    abAfterCheckpoint.add(v.id());
                }
            }
            Set<Long> missing = new TreeSet<>(acknowledged);
            missing.removeAll(stored);
            assertTrue(missing.isEmpty(), "acknowledged but lost: " + missing);
        }
        abAfterCheckpoint.sort(null);

        // Restart in-process on the same data. The steps taken after the checkpoint but before the kill are gone
        // (the checkpointed adapter never saw their votes), so those votes are trained again — once — followed by
        // the rest: the trained ids after the restart are exactly the A/B votes after last_vote_id, in order.
        PairwiseServer again = PairwiseServer.start(TestServers.config(dir, Map.of()));
        try {
            Client http = new Client(WebClient.create(vertx), again.port(), again.adminToken());
            JsonArray steps = TestServers.await(() -> http.get("/api/training/metrics?since=" + checkpointStep)
                    .bodyAsJsonObject().getJsonArray("steps"), a -> a.size() >= abAfterCheckpoint.size(),
                    Duration.ofSeconds(90), "the backlog trained");
            List<Long> trained = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                JsonObject s = steps.getJsonObject(i);
                assertEquals(checkpointStep + i + 1, s.getInteger("step"), "steps continue from the checkpoint");
                trained.add(s.getLong("first_vote_id"));
            }
            assertEquals(abAfterCheckpoint, trained);
        } finally {
            again.close();
        }
    }

    /** One voter: posts a vote, waits for the answer, and goes again until told to stop. */
    private static void voteLoop(Vertx vertx, WebClient web, int port, List<String> pairs, String[] choices, AtomicInteger seq,
                                 AtomicBoolean voting, Set<Long> acknowledged) {
        if (!voting.get()) {
            return;
        }
        int n = seq.getAndIncrement();
        JsonObject body = new JsonObject().put("pair_id", pairs.get(n % pairs.size()))
                .put("choice", choices[n % choices.length]).put("annotator", "voter-" + n);
        Future<?> f = web.post(port, "127.0.0.1", "/api/preferences").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(body.encode()))
                .onSuccess(r -> {
                    if (r.statusCode() == 201) {
                        acknowledged.add(r.bodyAsJsonObject().getLong("id"));
                    }
                });
        // A short pause between votes keeps the backlog (re-trained after the restart) small enough to be quick.
        f.onComplete(ar -> {
            if (ar.succeeded()) {
                vertx.setTimer(100, t -> voteLoop(vertx, web, port, pairs, choices, seq, voting, acknowledged));
            }
        });
    }
}
