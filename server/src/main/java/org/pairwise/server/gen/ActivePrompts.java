package org.pairwise.server.gen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.PromptRecord;

/**
 * The prompts the pool draws from, each stored (it has a prompt id) and tokenized once. Drawn in a shuffled cycle so
 * that every prompt comes up before any repeats. Thread-safe; the blocking methods wait on the store.
 */
final class ActivePrompts {
    /** Uploaded through POST /api/prompts; they stay active across restarts. */
    static final String UPLOAD_SOURCE = "upload";

    record Active(long id, PromptInput input, int[] ids) {}

    private final PairGenerator generator;
    private final PreferenceStore store;
    private final int contextLength;
    private final Random random;
    private final List<Active> prompts = new ArrayList<>();
    private List<Active> cycle = List.of();
    private int cursor;

    ActivePrompts(PairGenerator generator, PreferenceStore store, int contextLength, long seed) {
        this.generator = generator;
        this.store = store;
        this.contextLength = contextLength;
        this.random = new Random(seed);
    }

    /**
     * The configured prompts plus earlier uploads. A prompt already stored under the same source keeps its id, so a
     * restart does not duplicate the prompt table.
     */
    void load(List<PromptInput> configured, String source) throws InterruptedException, ExecutionException {
        Map<String, PromptRecord> known = new HashMap<>();
        List<PromptRecord> uploads = new ArrayList<>();
        for (PromptRecord r : store.prompts(Integer.MAX_VALUE).get()) {
            known.putIfAbsent(key(r.source(), r.text(), r.messagesJson()), r);
            if (r.source().equals(UPLOAD_SOURCE)) {
                uploads.add(r);
            }
        }
        List<PromptInput> fresh = new ArrayList<>();
        for (PromptInput p : configured) {
            PromptRecord r = known.get(key(source, p.display(), PromptSet.messagesJson(p)));
            if (r == null) {
                fresh.add(p);
            } else {
                put(new Active(r.id(), p, encode(p)));
            }
        }
        add(fresh, source);
        for (PromptRecord r : uploads) {
            PromptInput p = PromptSet.fromRecord(r.text(), r.messagesJson());
            put(new Active(r.id(), p, encode(p)));
        }
    }

    /** Validates every prompt (tokenizes it) before storing any, so a bad upload adds nothing. */
    int add(List<PromptInput> inputs, String source) throws InterruptedException, ExecutionException {
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            try {
                ids.add(encode(inputs.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        for (int i = 0; i < inputs.size(); i++) {
            PromptInput p = inputs.get(i);
            long id = store.addPrompt(source, p.display(), PromptSet.messagesJson(p)).get();
            put(new Active(id, p, ids.get(i)));
        }
        return inputs.size();
    }

    /** Tokenizes and checks that a response fits after the prompt. */
    int[] encode(PromptInput p) {
        int[] ids = generator.encode(p);
        if (ids.length >= contextLength) {
            throw new IllegalArgumentException("the prompt has " + ids.length + " tokens, but the model's context is "
                    + contextLength + " positions");
        }
        return ids;
    }

    synchronized Active next() {
        if (prompts.isEmpty()) {
            return null;
        }
        if (cursor >= cycle.size()) {
            List<Active> order = new ArrayList<>(prompts);
            Collections.shuffle(order, random);
            cycle = order;
            cursor = 0;
        }
        return cycle.get(cursor++);
    }

    synchronized int size() {
        return prompts.size();
    }

    private synchronized void put(Active a) {
        prompts.add(a);
    }

    private static String key(String source, String text, String messagesJson) {
        return source + "\u0000" + (messagesJson != null ? messagesJson : text);
    }
}
