package org.pairwise.server.eval;

import java.util.List;
import org.pairwise.server.store.PreferenceStore.Choice;

/**
 * The pairwise win-rate matrix with its counts: cell (i, j) holds player i's record against player j. The rate is
 * (wins + ½·ties) / counted battles, with both-bad votes counted as ties or left out as {@link BradleyTerry.BothBad}
 * says (left out, they still appear in {@code bothBad} and {@code battles}); NaN when no counted battle.
 */
public record WinRates(List<String> players, Cell[][] cells) {

    /** Player i's record against j: battles (all votes), wins, losses, ties, bothBad and the win rate. */
    public record Cell(int battles, int wins, int losses, int ties, int bothBad, double winRate) {}

    public Cell cell(String player, String opponent) {
        return cells[index(player)][index(opponent)];
    }

    private int index(String player) {
        int i = players.indexOf(player);
        if (i < 0) {
            throw new IllegalArgumentException("no player '" + player + "' in the win-rate matrix");
        }
        return i;
    }

    static WinRates of(List<String> players, int[] a, int[] b, Choice[] choices, BradleyTerry.BothBad bothBad) {
        int k = players.size();
        int[][][] c = new int[5][k][k]; // battles, wins, losses, ties, bothBad, from the row player's side
        for (int t = 0; t < a.length; t++) {
            int i = a[t];
            int j = b[t];
            c[0][i][j]++;
            c[0][j][i]++;
            switch (choices[t]) {
                case A -> {
                    c[1][i][j]++;
                    c[2][j][i]++;
                }
                case B -> {
                    c[1][j][i]++;
                    c[2][i][j]++;
                }
                case TIE -> {
                    c[3][i][j]++;
                    c[3][j][i]++;
                }
                case BOTH_BAD -> {
                    c[4][i][j]++;
                    c[4][j][i]++;
                }
            }
        }
        Cell[][] cells = new Cell[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                int halves = c[3][i][j] + (bothBad == BradleyTerry.BothBad.TIE ? c[4][i][j] : 0);
                int counted = c[1][i][j] + c[2][i][j] + halves;
                double rate = counted == 0 ? Double.NaN : (c[1][i][j] + 0.5 * halves) / counted;
                cells[i][j] = new Cell(c[0][i][j], c[1][i][j], c[2][i][j], c[3][i][j], c[4][i][j], rate);
            }
        }
        return new WinRates(List.copyOf(players), cells);
    }
}
