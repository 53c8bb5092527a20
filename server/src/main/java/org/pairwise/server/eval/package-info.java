/**
 * Evaluation of policy versions from blind battles (pure computation, no I/O): Bradley-Terry strengths on the
 * Elo-like scale Chatbot Arena uses, fitted by Newton's method or by Hunter's minorize-maximize iteration, with
 * bootstrap intervals, and the pairwise win-rate matrix.
 */
package org.pairwise.server.eval;
