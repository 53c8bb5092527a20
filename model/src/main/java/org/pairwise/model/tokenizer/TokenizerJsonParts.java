package org.pairwise.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** The pieces of a tokenizer.json that {@link TokenizerJsonBuilder} assembles, in HF tokenizers' serialised form. */
final class TokenizerJsonParts {

    static final int CONTROL = TokenizerJsonBuilder.CONTROL;
    static final int UNKNOWN = TokenizerJsonBuilder.UNKNOWN;
    static final int USER_DEFINED = TokenizerJsonBuilder.USER_DEFINED;
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerJsonParts() {}

    static ObjectNode header() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        return root;
    }

    /**
     * Control and unknown tokens become special added tokens, user-defined ones non-special added tokens: HF matches
     * added tokens in the raw text before the model sees it, which is how SentencePiece and llama.cpp treat them.
     */
    static ArrayNode addedTokens(List<String> tokens, int[] types) {
        ArrayNode added = JSON.createArrayNode();
        for (int i = 0; i < tokens.size(); i++) {
            int t = types[i];
            if (t != CONTROL && t != UNKNOWN && t != USER_DEFINED) continue;
            added.addObject()
                    .put("id", i)
                    .put("content", tokens.get(i))
                    .put("single_word", false)
                    .put("lstrip", false)
                    .put("rstrip", false)
                    .put("normalized", false)
                    .put("special", t != USER_DEFINED);
        }
        return added;
    }

    /**
     * Every token goes into the model vocabulary, special ones included: tokenizers assigns an added token the id
     * the model already has for its text and otherwise numbers it past the vocabulary, ignoring the id written in
     * added_tokens. A later duplicate of a text keeps the first id (a JSON object cannot hold both).
     */
    static ObjectNode vocab(List<String> tokens) {
        ObjectNode vocab = JSON.createObjectNode();
        for (int i = 0; i < tokens.size(); i++) {
            if (!vocab.has(tokens.get(i))) vocab.put(tokens.get(i), i);
        }
        return vocab;
    }

    static ArrayNode pairs(List<String[]> merges) {
        ArrayNode array = JSON.createArrayNode();
        for (String[] m : merges) array.addArray().add(m[0]).add(m[1]);
        return array;
    }

    static ObjectNode replace(String pattern, String content) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "Replace");
        node.putObject("pattern").put("String", pattern);
        node.put("content", content);
        return node;
    }

    static ObjectNode byteLevelStep(boolean useRegex) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", false);
        node.put("trim_offsets", false);
        node.put("use_regex", useRegex);
        return node;
    }

    static ObjectNode splitThenByteLevel(String regex) {
        ObjectNode seq = JSON.createObjectNode();
        seq.put("type", "Sequence");
        ArrayNode list = seq.putArray("pretokenizers");
        ObjectNode split = list.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        list.add(byteLevelStep(false));
        return seq;
    }

    static ObjectNode prependBos(String bos, int bosId) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "TemplateProcessing");
        ArrayNode single = node.putArray("single");
        single.add(special(bos, 0));
        single.add(sequence("A", 0));
        ArrayNode pair = node.putArray("pair");
        pair.add(special(bos, 0));
        pair.add(sequence("A", 0));
        pair.add(special(bos, 1));
        pair.add(sequence("B", 1));
        ObjectNode entry = node.putObject("special_tokens").putObject(bos);
        entry.put("id", bos);
        entry.putArray("ids").add(bosId);
        entry.putArray("tokens").add(bos);
        return node;
    }

    static ObjectNode special(String id, int typeId) {
        ObjectNode node = JSON.createObjectNode();
        node.putObject("SpecialToken").put("id", id).put("type_id", typeId);
        return node;
    }

    static ObjectNode sequence(String id, int typeId) {
        ObjectNode node = JSON.createObjectNode();
        node.putObject("Sequence").put("id", id).put("type_id", typeId);
        return node;
    }
}
