package org.pairwise.server.quality;

import java.util.Map;
import org.pairwise.server.store.PreferenceStore.AnnotatorFlag;
import org.pairwise.server.store.PreferenceStore.SkipReason;

/**
 * One annotator's figures: their pace, their agreement with the majority of the others on shared items (compared 0,
 * no rate, when they share no item with a clear majority of the others), the time from being handed a pair to their
 * vote, their accuracy on gold pairs (answered 0 without a gold vote), their skips by reason, and their
 * quality-control flag (null when none was ever set).
 */
public record AnnotatorStats(String annotator, Pace pace, MajorityAgreement agreement, LeaseToVote leaseToVote,
                             GoldAccuracy gold, Map<SkipReason, Long> skips, AnnotatorFlag flag) {}
