package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MajorityAgreementTest {

    @Test
    void comparesEachAnnotatorWithTheOthersAndSetsTiesAside() {
        AnnotationTable t = AnnotationTable.of(List.of(
                // p1: x, y, v say a, z says b -> x, y and v agree with the others' majority (a), z does not
                new Annotation("p1", "x", "a"), new Annotation("p1", "y", "a"), new Annotation("p1", "v", "a"),
                new Annotation("p1", "z", "b"),
                // p2: x says a, y says b: each has one other vote, a clear "majority" of one -> both disagree
                new Annotation("p2", "x", "a"), new Annotation("p2", "y", "b"),
                // p3: x a, y b, z tie: for each of them the two others are split -> tied, not compared
                new Annotation("p3", "x", "a"), new Annotation("p3", "y", "b"), new Annotation("p3", "z", "tie"),
                // p4: one vote only: not used
                new Annotation("p4", "w", "a")));
        Map<String, MajorityAgreement> byName = MajorityAgreement.perAnnotator(t).stream()
                .collect(Collectors.toMap(MajorityAgreement::annotator, Function.identity()));
        assertEquals(new MajorityAgreement("x", 2, 1, 1), byName.get("x"));
        assertEquals(new MajorityAgreement("y", 2, 1, 1), byName.get("y"));
        assertEquals(new MajorityAgreement("z", 1, 0, 1), byName.get("z"));
        assertEquals(new MajorityAgreement("v", 1, 1, 0), byName.get("v"));
        assertTrue(!byName.containsKey("w"), "w voted only on a single-vote item");
        Wilson.Proportion x = byName.get("x").rate().orElseThrow();
        assertEquals(Wilson.interval(1, 2), x);
    }

    @Test
    void anAnnotatorWithOnlyTiedItemsHasNoRate() {
        AnnotationTable t = AnnotationTable.of(List.of(new Annotation("p", "x", "a"), new Annotation("p", "y", "b"),
                new Annotation("p", "z", "tie")));
        for (MajorityAgreement m : MajorityAgreement.perAnnotator(t)) {
            assertEquals(0, m.compared());
            assertEquals(1, m.tied());
            assertTrue(m.rate().isEmpty());
        }
    }

    @Test
    void aSecondLabelBySameAnnotatorOnOneItemIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnnotationTable.of(List.of(
                new Annotation("p", "x", "a"), new Annotation("p", "x", "b"))));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
    }
}
