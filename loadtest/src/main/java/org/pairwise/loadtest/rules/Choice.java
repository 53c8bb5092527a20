package org.pairwise.loadtest.rules;

/** A simulated annotator's vote, with the names {@code POST /api/preferences} takes for {@code choice}. */
public enum Choice {
    A("a"),
    B("b"),
    TIE("tie"),
    BOTH_BAD("both_bad");

    private final String wireName;

    Choice(String wireName) {
        this.wireName = wireName;
    }

    /** The value of {@code choice} on the wire. */
    public String wireName() {
        return wireName;
    }

    /** The other side for A/B; ties and both-bad have no direction to flip. */
    public Choice flipped() {
        return switch (this) {
            case A -> B;
            case B -> A;
            default -> this;
        };
    }

    public static Choice fromWire(String name) {
        for (Choice c : values()) {
            if (c.wireName.equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown choice '" + name + "' (expected a, b, tie or both_bad)");
    }

    @Override
    public String toString() {
        return wireName;
    }
}
