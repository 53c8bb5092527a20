package org.pairwise.loadtest;

import io.vertx.core.json.JsonObject;

/** The parts of a pair a simulated annotator reads: what the preference rule judges and what the audit expects. */
record ServedPair(String id, String prompt, String a, String b) {

    /** From the API's pair JSON ({pair_id, prompt, a: {text}, b: {text}, ...}); null fields fail loudly. */
    static ServedPair fromJson(JsonObject o) {
        String id = o.getString("pair_id");
        JsonObject a = o.getJsonObject("a"), b = o.getJsonObject("b");
        if (id == null || a == null || b == null || a.getString("text") == null || b.getString("text") == null) {
            throw new IllegalArgumentException("not a pair: " + abbreviate(o.encode()));
        }
        return new ServedPair(id, o.getString("prompt", ""), a.getString("text"), b.getString("text"));
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
