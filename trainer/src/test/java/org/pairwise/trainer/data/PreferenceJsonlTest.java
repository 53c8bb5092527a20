package org.pairwise.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.SharedModels;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.tokenizer.Tokenizer;

/** TRL's four dataset formats, tokenized the way TRL tokenizes them, with the real Qwen3 tokenizer and template. */
class PreferenceJsonlTest {
    static Tokenizer qwen3;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        qwen3 = Tokenizer.fromDirectory(SharedModels.require("qwen3-tokenizer"));
    }

    @AfterAll
    static void close() {
        if (qwen3 != null) {
            qwen3.close();
        }
    }

    List<PreferencePair> read(String... lines) throws Exception {
        Path f = tmp.resolve("data.jsonl");
        Files.write(f, List.of(lines));
        return new PreferenceJsonl(qwen3, qwen3.vocabSize()).read(f);
    }

    static int[] withEos(int[] ids) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = qwen3.eosId();
        return out;
    }

    @Test
    void standardRecordsTokenizePromptAndCompletionsSeparatelyAndAppendEos() throws Exception {
        PreferencePair e = read("{\"prompt\":\"The sky is\",\"chosen\":\" blue.\",\"rejected\":\" green.\"}").getFirst();
        assertEquals("<|im_end|>", qwen3.tokenText(qwen3.eosId()));
        assertArrayEquals(qwen3.encode("The sky is", false), e.promptIds());
        assertArrayEquals(withEos(qwen3.encode(" blue.", false)), e.chosenIds());
        assertArrayEquals(withEos(qwen3.encode(" green.", false)), e.rejectedIds());
        assertEquals(1, e.id());
    }

    @Test
    void implicitPromptIsTheSharedPrefixWithoutItsTrailingSpace() throws Exception {
        PreferencePair e = read("{\"chosen\":\"The sky is blue.\",\"rejected\":\"The sky is green.\"}").getFirst();
        assertArrayEquals(qwen3.encode("The sky is", false), e.promptIds());
        assertArrayEquals(withEos(qwen3.encode(" blue.", false)), e.chosenIds());
    }

    @Test
    void conversationalRecordsRenderTheChatTemplate() throws Exception {
        String user = "{\"role\":\"user\",\"content\":\"What color is the sky?\"}";
        PreferencePair explicit = read("{\"prompt\":[" + user + "],"
                + "\"chosen\":[{\"role\":\"assistant\",\"content\":\"Blue.\"}],"
                + "\"rejected\":[{\"role\":\"assistant\",\"content\":\"Green.\"}]}").getFirst();
        assertEquals("<|im_start|>user\nWhat color is the sky?<|im_end|>\n<|im_start|>assistant\n",
                qwen3.decode(explicit.promptIds(), false));
        // Qwen3's template gives the final assistant turn an empty think block; TRL keeps what the template renders.
        assertEquals("<think>\n\n</think>\n\nBlue.<|im_end|>\n<|im_end|>", qwen3.decode(explicit.chosenIds(), false));
        PreferencePair implicit = read("{\"chosen\":[" + user + ",{\"role\":\"assistant\",\"content\":\"Blue.\"}],"
                + "\"rejected\":[" + user + ",{\"role\":\"assistant\",\"content\":\"Green.\"}]}").getFirst();
        assertArrayEquals(explicit.promptIds(), implicit.promptIds());
        assertArrayEquals(explicit.chosenIds(), implicit.chosenIds());
        assertArrayEquals(explicit.rejectedIds(), implicit.rejectedIds());
    }

    @Test
    void aConversationalRecordOnAModelWithoutATemplateSaysWhichLineAndWhatToDo() throws Exception {
        Path f = tmp.resolve("mixed.jsonl");
        Files.write(f, List.of("{\"prompt\":\"Once\",\"chosen\":\" upon\",\"rejected\":\" a\"}",
                "{\"prompt\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                        + "\"chosen\":[{\"role\":\"assistant\",\"content\":\"Hello.\"}],"
                        + "\"rejected\":[{\"role\":\"assistant\",\"content\":\"Go.\"}]}"));
        // stories260K's GGUF has no chat template.
        try (Checkpoint ck = ModelSource.open(SharedModels.require("stories260K/stories260K.gguf").toString(), null);
             Tokenizer plain = Tokenizer.fromJson(ck.tokenizerJson(), null, 1, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new PreferenceJsonl(plain, plain.vocabSize()).read(f));
            assertTrue(e.getMessage().startsWith(f + ":2: a conversational record (message lists) needs a chat "
                    + "template, and this model has none: give one with --chat-template FILE"), e.getMessage());
        }
    }

    @Test
    void pretokenizedIdsAreUsedExactlyAsGiven() throws Exception {
        List<PreferencePair> r = read(
                "{\"prompt_input_ids\":[1,2,3],\"chosen_input_ids\":[4],\"rejected_input_ids\":[5,6]}",
                "{\"prompt_ids\":[7],\"chosen_ids\":[8,9],\"rejected_ids\":[10]}");
        assertArrayEquals(new int[] {1, 2, 3}, r.get(0).promptIds());
        assertArrayEquals(new int[] {4}, r.get(0).chosenIds());
        assertArrayEquals(new int[] {8, 9}, r.get(1).chosenIds());
    }

    @Test
    void malformedLinesNameTheirLineNumber() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(
                "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}", "", "{\"prompt\":\"a\",\"chosen\":\"b\"}"));
        assertTrue(e.getMessage().contains(":3: missing field 'rejected'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read("\"just text\""));
        assertTrue(e.getMessage().contains(":1: expected a JSON object"), e.getMessage());
        // A file that starts with '[' is one JSON array of records; its records are named by position.
        e = assertThrows(IllegalArgumentException.class, () -> read("[{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}, 2]"));
        assertTrue(e.getMessage().contains(": record 2: expected a JSON object"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> read("{\"prompt_ids\":[1],\"chosen_ids\":[-4],\"rejected_ids\":[5]}"));
        assertTrue(e.getMessage().contains("chosen_ids[0] = -4 is not a token id"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> read("{\"prompt\":\"x\",\"chosen\":[{\"role\":\"assistant\",\"content\":\"a\"}],\"rejected\":\"b\"}"));
        assertTrue(e.getMessage().contains("both be strings or both be message lists"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(""));
        assertTrue(e.getMessage().contains("no records"), e.getMessage());
    }
}
