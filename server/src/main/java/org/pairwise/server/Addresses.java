package org.pairwise.server;

/**
 * Event-bus addresses, in one place. Messages are JSON objects (they would cross a clustered bus unchanged); the
 * payload of each is described here.
 */
public final class Addresses {
    private Addresses() {}

    /** A vote was committed: {id, pair_id, choice, annotator, created_at}. Wakes the trainer; shown live. */
    public static final String PREFERENCES_RECORDED = "preferences.recorded";

    /** A new policy version was published: {policy_version, step, adapter_dir}. The generator switches to it. */
    public static final String POLICY_UPDATED = "policy.updated";

    /**
     * Serve this kept version, newer or older, from the next generation on (a guard tripped, or the admin rolled
     * back): {policy_version, adapter_dir (null: the base model)}. Publishing is held meanwhile.
     */
    public static final String POLICY_SERVE = "policy.serve";

    /** A DPO step finished: {step, first_vote_id, last_vote_id, votes, ...TRL metric names}. */
    public static final String TRAINING_STEP = "training.step";

    /** The trainer's state changed: {state, steps, policy_version, last_vote_id}. */
    public static final String TRAINER_STATE = "trainer.state";

    /** Request/reply: body "pause" or "resume"; the reply is the trainer's state object. */
    public static final String TRAINER_CONTROL = "trainer.control";

    /** A pair was generated and stored: {pair_id, policy_version, source}. */
    public static final String PAIR_GENERATED = "pairs.generated";

    /**
     * A cluster node says how it is, every 2 s: {node_id, url, role, served_version, pool: {ready, size}, trainer
     * (whether it trains), trainer_status (its trainer loop's status, when it trains)}.
     */
    public static final String NODE_STATUS = "cluster.node.status";
}
