/**
 * Annotation quality statistics: Cohen's kappa per pair of annotators, Fleiss' kappa and Krippendorff's alpha
 * (nominal) over everyone, each annotator's agreement with the majority and pace, and the Wilson score interval for
 * any count of successes. The math is pure computation, no I/O; {@link org.pairwise.server.quality.QualityService}
 * alone reads votes from the store. Labels are nominal strings (the vote choices a, b, tie, both_bad, or any other
 * small set of categories).
 */
package org.pairwise.server.quality;
