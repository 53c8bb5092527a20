package org.pairwise.model.tokenizer;

import org.pairwise.model.SharedModels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Hugging Face folder with vocab.json, merges.txt and tokenizer_config.json but no tokenizer.json (Qwen3's):
 * the added tokens, EOS and chat template come from the config, and the rendered ChatML prompt tokenizes with
 * each control token as one id.
 */
class HuggingFaceDirectoryTest {

    @Test
    void qwen3FolderWithoutTokenizerJson() {
        try (Tokenizer t = Tokenizer.fromDirectory(SharedModels.require("qwen3-tokenizer"))) {
            assertEquals(151669, t.vocabSize());
            assertEquals(151645, t.eosId());
            assertEquals(-1, t.bosId());
            String prompt = t.chatTemplate().orElseThrow().renderMessages(
                    List.of(Message.system("You are a helpful assistant."), Message.user("Hello!")), true);
            int[] ids = t.encode(prompt, true);
            assertArrayEquals(new int[] {151644, 8948, 198}, Arrays.copyOf(ids, 3), "<|im_start|>system\\n");
            assertArrayEquals(new int[] {151644, 77091, 198}, Arrays.copyOfRange(ids, ids.length - 3, ids.length),
                    "<|im_start|>assistant\\n");
            assertEquals(prompt, t.decode(ids, false));
            assertEquals("system\nYou are a helpful assistant.\nuser\nHello!\nassistant\n", t.decode(ids, true));
            // <think> is an added but not special token: one id, and kept when special tokens are skipped.
            int[] think = t.encode("<think>\nhi\n</think>", false);
            assertEquals(151667, think[0]);
            assertEquals(151668, think[think.length - 1]);
            assertTrue(t.decode(think, true).startsWith("<think>"));
        }
    }
}
