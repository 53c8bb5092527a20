package org.pairwise.server.store;

import java.util.List;

/**
 * The schema of a preference campaign (migration 2): who was handed which pair (assignments), skips with reasons,
 * per-pair flags, annotator flags, gold pairs, undo, and the trainer's queue (training_items). Each rule is the
 * database's own: "at most k people per pair" is {@code CHECK (assigned <= votes_wanted)}, raised only inside the
 * lease's transaction; "nobody sees a pair twice" is the primary key of assignments; "trained once" is the uniqueness
 * of a training item. Standard SQL types only, so the same statements run on PostgreSQL.
 */
final class CampaignSchema {
    private CampaignSchema() {}

    /** The largest k a gold pair takes: every annotator may see each gold pair once. */
    static final int GOLD_VOTES_WANTED = 1_000_000;

    static final List<String> STATEMENTS = List.of(
            "ALTER TABLE pairs ADD COLUMN kind TEXT NOT NULL DEFAULT 'policy'"
                    + " CHECK (kind IN ('policy', 'gold', 'battle'))",
            "ALTER TABLE pairs ADD COLUMN votes_wanted INTEGER NOT NULL DEFAULT 1 CHECK (votes_wanted >= 1)",
            "ALTER TABLE pairs ADD COLUMN assigned INTEGER NOT NULL DEFAULT 0"
                    + " CHECK (assigned >= 0 AND assigned <= votes_wanted)",
            "ALTER TABLE pairs ADD COLUMN gold_choice TEXT CHECK (gold_choice IN ('a', 'b'))",
            "ALTER TABLE pairs ADD COLUMN parent_pair_id TEXT REFERENCES pairs(pair_id)",
            "ALTER TABLE pairs ADD COLUMN a_policy_version INTEGER",
            "ALTER TABLE pairs ADD COLUMN b_policy_version INTEGER",
            "ALTER TABLE pairs ADD COLUMN flagged_harmful INTEGER NOT NULL DEFAULT 0"
                    + " CHECK (flagged_harmful IN (0, 1))",
            // The aggregation decision, made once: 'per_vote' marks pairs voted on before aggregation existed
            // (their votes were trained one by one), 'tie' an A/B tie, 'no_preference' a plurality of tie/both-bad.
            "ALTER TABLE pairs ADD COLUMN aggregated_at INTEGER",
            "ALTER TABLE pairs ADD COLUMN aggregate_outcome TEXT"
                    + " CHECK (aggregate_outcome IN ('a', 'b', 'tie', 'no_preference', 'per_vote'))",
            "UPDATE pairs SET aggregated_at = created_at, aggregate_outcome = 'per_vote'"
                    + " WHERE EXISTS (SELECT 1 FROM preferences v WHERE v.pair_id = pairs.pair_id)",
            "CREATE INDEX pairs_open ON pairs(kind, assigned) WHERE assigned < votes_wanted",
            "CREATE INDEX pairs_unaggregated ON pairs(created_at) WHERE aggregated_at IS NULL AND kind = 'policy'",
            """
            CREATE TABLE assignments (
                pair_id   TEXT    NOT NULL REFERENCES pairs(pair_id),
                annotator TEXT    NOT NULL,
                leased_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                state     TEXT    NOT NULL CHECK (state IN ('leased', 'voted', 'skipped', 'expired')),
                PRIMARY KEY (pair_id, annotator)
            )""",
            "CREATE INDEX assignments_leased ON assignments(expires_at) WHERE state = 'leased'",
            "ALTER TABLE preferences ADD COLUMN guideline_version INTEGER",
            "ALTER TABLE preferences ADD COLUMN retracted_at INTEGER",
            "ALTER TABLE preferences ADD COLUMN changed_at INTEGER",
            // A withdrawn vote stays as a row; the person may vote on the pair again.
            "DROP INDEX preferences_annotator_pair",
            """
            CREATE UNIQUE INDEX preferences_annotator_pair ON preferences(annotator, pair_id)
                WHERE annotator IS NOT NULL AND retracted_at IS NULL""",
            "CREATE INDEX preferences_created ON preferences(created_at)",
            // The stats' counts of withdrawn votes and untrained items, without scanning the tables.
            "CREATE INDEX preferences_retracted ON preferences(id) WHERE retracted_at IS NOT NULL",
            """
            CREATE TABLE skips (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                pair_id    TEXT    NOT NULL REFERENCES pairs(pair_id),
                annotator  TEXT,
                reason     TEXT    NOT NULL CHECK (reason IN ('cant_judge', 'harmful', 'prompt_unclear')),
                comment    TEXT,
                created_at INTEGER NOT NULL,
                UNIQUE (pair_id, annotator)
            )""",
            """
            CREATE TABLE pair_flags (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                pair_id    TEXT    NOT NULL REFERENCES pairs(pair_id),
                annotator  TEXT,
                comment    TEXT    NOT NULL,
                created_at INTEGER NOT NULL
            )""",
            "CREATE INDEX pair_flags_pair ON pair_flags(pair_id)",
            """
            CREATE TABLE annotator_flags (
                annotator  TEXT    PRIMARY KEY,
                flagged    INTEGER NOT NULL CHECK (flagged IN (0, 1)),
                reason     TEXT,
                changed_at INTEGER NOT NULL,
                changed_by TEXT
            )""",
            """
            CREATE TABLE training_items (
                id                 INTEGER PRIMARY KEY AUTOINCREMENT,
                pair_id            TEXT    NOT NULL REFERENCES pairs(pair_id),
                vote_id            INTEGER UNIQUE REFERENCES preferences(id),
                chosen             TEXT    NOT NULL CHECK (chosen IN ('a', 'b')),
                label_smoothing    REAL    CHECK (label_smoothing >= 0 AND label_smoothing < 1),
                weight             REAL    CHECK (weight >= 0),
                votes              INTEGER NOT NULL CHECK (votes >= 1),
                created_at         INTEGER NOT NULL,
                trained_at_version INTEGER
            )""",
            "CREATE UNIQUE INDEX training_items_one_per_pair ON training_items(pair_id) WHERE vote_id IS NULL",
            "CREATE INDEX training_items_untrained ON training_items(id) WHERE trained_at_version IS NULL",
            // Votes from before the queue existed become its first items, under their own ids: a trainer
            // checkpoint of an older build (its position a vote id) then resumes at the same place in the queue.
            """
            INSERT INTO training_items (id, pair_id, vote_id, chosen, votes, created_at, trained_at_version)
                SELECT id, pair_id, id, choice, 1, created_at, trained_at_version FROM preferences
                WHERE choice IN ('a', 'b')""");
}
