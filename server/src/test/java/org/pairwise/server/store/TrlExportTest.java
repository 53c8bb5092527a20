package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.VoteRequest;

@ParameterizedClass
@EnumSource(StoreKind.class)
class TrlExportTest extends StoreContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MESSAGES =
            "[{\"role\":\"system\",\"content\":\"Answer in \\\"quotes\\\".\"},{\"role\":\"user\",\"content\":\"hi\\nthere\"}]";
    private static final int PAIRS = 30;
    private static final int VOTES = 3000; // three export chunks

    JdbcPreferenceStore store;
    /** What each exported line must say, in vote id order: {pair index, a wins}. */
    final List<int[]> expected = new ArrayList<>();

    @BeforeEach
    void fill() throws Exception {
        store = db.open(VOTES);
        long plain = store.addPrompt("test", "plain prompt", null).join();
        long chat = store.addPrompt("upload", "hi there", MESSAGES).join();
        for (int n = 0; n < PAIRS; n++) {
            store.addPair(Fixtures.pair("p" + n, n % 2 == 0 ? plain : chat, n, 0)).join();
        }
        Choice[] cycle = {Choice.A, Choice.B, Choice.TIE, Choice.B, Choice.BOTH_BAD};
        List<CompletableFuture<?>> votes = new ArrayList<>();
        for (int i = 0; i < VOTES; i++) {
            int n = i % PAIRS;
            Choice c = cycle[i % cycle.length];
            votes.add(store.recordVote(new VoteRequest("p" + n, c, null, null, null)));
            if (c == Choice.A || c == Choice.B) {
                expected.add(new int[] {n, c == Choice.A ? 1 : 0});
            }
        }
        CompletableFuture.allOf(votes.toArray(CompletableFuture[]::new)).join();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private List<JsonNode> export(String format) throws Exception {
        StringWriter out = new StringWriter();
        store.exportVotes(format, out);
        String text = out.toString();
        assertFalse(text.isEmpty());
        assertEquals('\n', text.charAt(text.length() - 1));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void standardFormatHasThePreferredResponseAsChosen() throws Exception {
        List<JsonNode> lines = export("standard");
        assertEquals(expected.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            int n = expected.get(i)[0];
            boolean aWins = expected.get(i)[1] == 1;
            JsonNode line = lines.get(i);
            assertEquals(3, line.size(), line::toString);
            assertEquals("prompt " + n, line.get("prompt").asText());
            assertEquals((aWins ? "answer a" : "answer b") + n, line.get("chosen").asText(), "line " + i);
            assertEquals((aWins ? "answer b" : "answer a") + n, line.get("rejected").asText(), "line " + i);
        }
    }

    @Test
    void conversationalFormatUsesMessageLists() throws Exception {
        List<JsonNode> lines = export("conversational");
        assertEquals(expected.size(), lines.size());
        JsonNode conversation = JSON.readTree(MESSAGES);
        for (int i = 0; i < lines.size(); i++) {
            int n = expected.get(i)[0];
            boolean aWins = expected.get(i)[1] == 1;
            JsonNode line = lines.get(i);
            JsonNode prompt = n % 2 == 0
                    ? JSON.readTree("[{\"role\":\"user\",\"content\":\"prompt " + n + "\"}]")
                    : conversation;
            assertEquals(prompt, line.get("prompt"), "line " + i);
            assertEquals(JSON.readTree("[{\"role\":\"assistant\",\"content\":\"" + (aWins ? "answer a" : "answer b")
                    + n + "\"}]"), line.get("chosen"), "line " + i);
            assertEquals(JSON.readTree("[{\"role\":\"assistant\",\"content\":\"" + (aWins ? "answer b" : "answer a")
                    + n + "\"}]"), line.get("rejected"), "line " + i);
        }
    }

    @Test
    void anUnknownFormatWritesNothing() {
        StringWriter out = new StringWriter();
        assertThrows(IllegalArgumentException.class, () -> store.exportVotes("sharegpt", out));
        assertEquals("", out.toString());
    }
}
