package org.pairwise.server.quality;

import java.util.Objects;

/** One annotator's nominal label for one item (for Pairwise: a vote's choice on a pair). */
public record Annotation(String item, String annotator, String label) {
    public Annotation {
        Objects.requireNonNull(item, "item");
        Objects.requireNonNull(annotator, "annotator");
        Objects.requireNonNull(label, "label");
    }
}
