package org.pairwise.server.eval;

import java.util.Objects;
import org.pairwise.server.store.PreferenceStore.Choice;

/** One vote on a battle: player A's response was shown against player B's, and the annotator chose. */
public record Battle(String playerA, String playerB, Choice choice) {
    public Battle {
        Objects.requireNonNull(playerA, "playerA");
        Objects.requireNonNull(playerB, "playerB");
        Objects.requireNonNull(choice, "choice");
        if (playerA.equals(playerB)) {
            throw new IllegalArgumentException("a battle needs two different players, got '" + playerA + "' twice");
        }
    }
}
