/** Simulated annotators and load generator that talk to a server over HTTP only. */
package org.pairwise.loadtest;
