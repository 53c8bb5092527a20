package org.pairwise.server.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.gen.PairPool.ServedPair;
import org.pairwise.server.store.PreferenceStore.LeasedPair;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.VoteRecord;

/** The JSON shapes of the API, in one place so the page, the tests and the docs agree. */
final class Wire {
    private Wire() {}

    /** {pair_id, prompt, messages?, a: {text, finish_reason}, b: {...}, policy_version}; never which sample is A. */
    static JsonObject pair(ServedPair p) {
        JsonObject o = new JsonObject().put("pair_id", p.pairId());
        prompt(o, p.prompt());
        return o.put("a", side(p.a().text(), p.a().finishReason())).put("b", side(p.b().text(), p.b().finishReason()))
                .put("policy_version", p.policyVersion());
    }

    /** A leased stored pair in the shape of {@link #pair}: a gold pair reads like any other (shownVersion). */
    static JsonObject leased(LeasedPair l, int shownVersion) {
        PairRecord p = l.pair();
        JsonObject o = new JsonObject().put("pair_id", p.pairId()).put("prompt", l.prompt().text());
        if (l.prompt().messagesJson() != null) {
            o.put("messages", new JsonArray(l.prompt().messagesJson()));
        }
        return o.put("a", side(p.aText(), p.aFinish())).put("b", side(p.bText(), p.bFinish()))
                .put("policy_version", shownVersion);
    }

    static JsonObject storedPair(PairRecord p) {
        return new JsonObject().put("pair_id", p.pairId()).put("prompt", p.promptText())
                .put("a", side(p.aText(), p.aFinish())).put("b", side(p.bText(), p.bFinish()))
                .put("policy_version", p.policyVersion()).put("created_at", p.createdAtMillis());
    }

    static JsonObject vote(VoteRecord v) {
        return new JsonObject().put("id", v.id()).put("pair_id", v.pairId()).put("choice", v.choice().wire())
                .put("annotator", v.annotator()).put("idempotency_key", v.idempotencyKey())
                .put("comment", v.comment()).put("created_at", v.createdAtMillis())
                .put("trained_at_version", v.trainedAtVersion());
    }

    private static void prompt(JsonObject o, PromptInput p) {
        o.put("prompt", p.display());
        if (p.messages() != null) {
            JsonArray m = new JsonArray();
            for (Map<String, Object> msg : p.messages()) {
                m.add(new JsonObject(new java.util.LinkedHashMap<>(msg)));
            }
            o.put("messages", m);
        }
    }

    private static JsonObject side(String text, String finish) {
        return new JsonObject().put("text", text).put("finish_reason", finish);
    }
}
