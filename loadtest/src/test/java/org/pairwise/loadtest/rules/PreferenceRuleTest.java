package org.pairwise.loadtest.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PreferenceRuleTest {

    private static final String SHORT = "The cat sat.";
    private static final String LONG = "Once upon a time there was a big red ball in the park.";

    @Test
    void shorterAndLongerPickBySideNotByPosition() {
        SplittableRandom rng = new SplittableRandom(1);
        PreferenceRule shorter = PreferenceRule.parse("shorter");
        PreferenceRule longer = PreferenceRule.parse("longer");
        assertEquals(Choice.A, shorter.choose("", SHORT, LONG, rng));
        assertEquals(Choice.B, shorter.choose("", LONG, SHORT, rng));
        assertEquals(Choice.B, longer.choose("", SHORT, LONG, rng));
        assertEquals(Choice.A, longer.choose("", LONG, SHORT, rng));
    }

    @Test
    void lengthIgnoresSurroundingWhitespace() {
        // " ab " and "abc": stripped lengths 2 < 3, although the raw string is longer.
        assertEquals(Choice.A, LengthRule.SHORTER.choose("", "  ab  ", "abc", new SplittableRandom(3)));
    }

    @Test
    void equalLengthsAreACoinFlip() {
        Map<Choice, Integer> counts = tally(LengthRule.SHORTER, "abc", "xyz", 4000, 7);
        assertBalanced(counts, 4000);
    }

    @Test
    void containsMatchesWholeWordsCaseInsensitively() {
        WordRule dog = WordRule.contains("dog");
        assertTrue(dog.matches("The Dog ran."));
        assertTrue(dog.matches("dog"));
        assertTrue(dog.matches("a big, DOG!"));
        assertTrue(dog.matches("\"dog\""));
        assertFalse(dog.matches("Two dogs ran."));
        assertFalse(dog.matches("a hotdog stand"));
        assertFalse(dog.matches("dog_house"));
        assertFalse(dog.matches("dog2"));
        assertFalse(dog.matches(""));
    }

    @Test
    void wordIsMatchedLiterallyNotAsARegex() {
        WordRule dot = WordRule.contains("a.b");
        assertTrue(dot.matches("see a.b here"));
        assertFalse(dot.matches("see axb here"));
    }

    @Test
    void wordBoundariesHandleNonAsciiLetters() {
        WordRule cafe = WordRule.contains("café");
        assertTrue(cafe.matches("at the CAFÉ today"));
        assertFalse(cafe.matches("cafés"));
    }

    @Test
    void containsPrefersTheResponseWithTheWord() {
        SplittableRandom rng = new SplittableRandom(2);
        PreferenceRule r = PreferenceRule.parse("contains:dragon");
        assertEquals(Choice.A, r.choose("p", "A Dragon flew.", "A bird flew.", rng));
        assertEquals(Choice.B, r.choose("p", "A bird flew.", "the dragon.", rng));
    }

    @Test
    void avoidsPrefersTheResponseWithoutTheWord() {
        SplittableRandom rng = new SplittableRandom(2);
        PreferenceRule r = PreferenceRule.parse("avoids:dragon");
        assertEquals(Choice.B, r.choose("p", "A Dragon flew.", "A bird flew.", rng));
        assertEquals(Choice.A, r.choose("p", "A bird flew.", "the dragon.", rng));
    }

    @Test
    void bothOrNeitherContainingIsACoinFlip() {
        PreferenceRule r = PreferenceRule.parse("contains:dragon");
        assertBalanced(tally(r, "a dragon", "the dragon", 4000, 11), 4000);
        assertBalanced(tally(r, "a bird", "the cat", 4000, 12), 4000);
    }

    @Test
    void randomIsFairAndNeverTiesOrBothBad() {
        Map<Choice, Integer> counts = tally(PreferenceRule.parse("random"), SHORT, LONG, 10_000, 5);
        assertBalanced(counts, 10_000);
    }

    @Test
    void mixFollowsItsWeights() {
        // The word rule always says A here; random says A half the time: P(A) = 0.8 + 0.2 * 0.5 = 0.9.
        PreferenceRule r = PreferenceRule.parse("0.8*contains:dragon+0.2*random");
        assertInstanceOf(WeightedRule.class, r);
        int n = 20_000;
        int a = tally(r, "dragon", "bird", n, 9).getOrDefault(Choice.A, 0);
        assertEquals(0.9, a / (double) n, 4 * Math.sqrt(0.9 * 0.1 / n));
    }

    @Test
    void mixWeightsNeedNotSumToOneAndDefaultToOne() {
        // 3 : 1 is the same mix as 0.75 : 0.25; "longer" alone has weight 1.
        PreferenceRule r = PreferenceRule.parse("3*shorter + longer");
        int n = 20_000;
        int a = tally(r, SHORT, LONG, n, 10).getOrDefault(Choice.A, 0);
        assertEquals(0.75, a / (double) n, 4 * Math.sqrt(0.75 * 0.25 / n));
    }

    @Test
    void noiseFlipsAndAddsTiesAndBothBadInTheStatedProportions() {
        PreferenceRule r = NoisyRule.withNoise(PreferenceRule.parse("shorter"), 0.2);
        int n = 40_000;
        Map<Choice, Integer> c = tally(r, SHORT, LONG, n, 13);
        // tie 0.1, both_bad 0.1, and of the remaining 0.8: 80% A (the rule), 20% B (flipped).
        double tol = 4 * Math.sqrt(0.25 / n);
        assertEquals(0.10, c.getOrDefault(Choice.TIE, 0) / (double) n, tol);
        assertEquals(0.10, c.getOrDefault(Choice.BOTH_BAD, 0) / (double) n, tol);
        assertEquals(0.64, c.getOrDefault(Choice.A, 0) / (double) n, tol);
        assertEquals(0.16, c.getOrDefault(Choice.B, 0) / (double) n, tol);
    }

    @Test
    void zeroNoiseIsTheRuleItself() {
        PreferenceRule base = PreferenceRule.parse("shorter");
        assertTrue(NoisyRule.withNoise(base, 0) == base);
        PreferenceRule explicit = new NoisyRule(base, 0, 0, 0);
        assertEquals(Map.of(Choice.A, 1000), tally(explicit, SHORT, LONG, 1000, 14));
    }

    @Test
    void fullFlipInvertsTheRule() {
        PreferenceRule r = new NoisyRule(PreferenceRule.parse("contains:dragon"), 1, 0, 0);
        assertEquals(Map.of(Choice.B, 500), tally(r, "dragon", "bird", 500, 15));
    }

    @Test
    void sameSeedSameVotes() {
        PreferenceRule r = NoisyRule.withNoise(PreferenceRule.parse("0.5*contains:dragon+0.5*random"), 0.3);
        assertEquals(votes(r, 99), votes(r, 99));
        assertFalse(votes(r, 99).equals(votes(r, 100)), "different seeds should give different vote sequences");
    }

    @Test
    void specRoundTrips() {
        for (String spec : List.of("shorter", "longer", "random", "contains:dragon", "avoids:Sun",
                "0.7*contains:dragon+0.3*random", "3*shorter+1*longer")) {
            PreferenceRule r = PreferenceRule.parse(spec);
            assertEquals(spec, r.spec());
            assertEquals(votes(r, 4), votes(PreferenceRule.parse(r.spec()), 4));
        }
    }

    @Test
    void choicesHaveTheApiWireNames() {
        assertEquals("a", Choice.A.wireName());
        assertEquals("b", Choice.B.wireName());
        assertEquals("tie", Choice.TIE.wireName());
        assertEquals("both_bad", Choice.BOTH_BAD.wireName());
        for (Choice c : Choice.values()) {
            assertEquals(c, Choice.fromWire(c.wireName()));
        }
        assertThrows(IllegalArgumentException.class, () -> Choice.fromWire("A"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "shortest", "contains", "contains:", "avoids:  ", "shorter:5", "random:x",
            "0.7*contains:dragon+", "+random", "x*random", "-1*random", "0*random", "0.5*random+0.5*bogus",
            "NaN*random", "Infinity*random", "0.5*"})
    void badSpecsAreRejectedWithAClearMessage(String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreferenceRule.parse(spec));
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void badSpecMessageNamesTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PreferenceRule.parse("0.5*random+0.5*bogus"));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PreferenceRule.parse("contains:"));
        assertTrue(e.getMessage().contains("needs a word"), e.getMessage());
    }

    @Test
    void noiseProbabilitiesAreValidated() {
        PreferenceRule r = PreferenceRule.parse("random");
        assertThrows(IllegalArgumentException.class, () -> NoisyRule.withNoise(r, -0.1));
        assertThrows(IllegalArgumentException.class, () -> NoisyRule.withNoise(r, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new NoisyRule(r, 0, 0.6, 0.6));
        assertThrows(IllegalArgumentException.class, () -> new NoisyRule(null, 0, 0, 0));
    }

    private static Map<Choice, Integer> tally(PreferenceRule r, String a, String b, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<Choice, Integer> counts = new EnumMap<>(Choice.class);
        for (int i = 0; i < n; i++) {
            counts.merge(r.choose("prompt", a, b, rng), 1, Integer::sum);
        }
        return counts;
    }

    private static List<Choice> votes(PreferenceRule r, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        String[][] pairs = {{"a dragon", "a bird"}, {"short", "much longer text"}, {"x", "y"}, {"dragon", "dragon"}};
        List<Choice> out = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String[] p = pairs[i % pairs.length];
            out.add(r.choose("prompt", p[0], p[1], rng));
        }
        return out;
    }

    private static void assertBalanced(Map<Choice, Integer> counts, int n) {
        assertEquals(0, counts.getOrDefault(Choice.TIE, 0));
        assertEquals(0, counts.getOrDefault(Choice.BOTH_BAD, 0));
        double a = counts.getOrDefault(Choice.A, 0) / (double) n;
        assertEquals(0.5, a, 4 * Math.sqrt(0.25 / n), "P(A) should be 1/2, counts " + counts);
    }
}
