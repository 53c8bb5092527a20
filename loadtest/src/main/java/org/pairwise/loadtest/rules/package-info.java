/**
 * Scripted preferences of simulated annotators: {@link org.pairwise.loadtest.rules.PreferenceRule#parse} turns a
 * spec such as {@code 0.7*contains:dragon+0.3*random} into a rule, and
 * {@link org.pairwise.loadtest.rules.NoisyRule} adds annotator noise.
 */
package org.pairwise.loadtest.rules;
