package org.pairwise.server.quality;

/**
 * One annotator's figures: their pace and their agreement with the majority of the others on shared items (compared
 * 0, no rate, when they share no item with a clear majority of the others).
 */
public record AnnotatorStats(String annotator, Pace pace, MajorityAgreement agreement) {}
