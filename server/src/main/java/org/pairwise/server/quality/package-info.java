/**
 * Annotation quality statistics (pure computation, no I/O): Cohen's kappa per pair of annotators, Fleiss' kappa and
 * Krippendorff's alpha (nominal) over everyone, each annotator's agreement with the majority, and the Wilson score
 * interval for any count of successes. Labels are nominal strings (the vote choices a, b, tie, both_bad, or any
 * other small set of categories).
 */
package org.pairwise.server.quality;
