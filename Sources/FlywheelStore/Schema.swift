import GRDB

/// The database schema, as an ordered list of migrations.
///
/// Shipped migrations are never edited: a change to the schema is a new migration appended here.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-foundation") { db in
            // Where events came from: a file path, "stdin", or an HTTP listener. `offset` is the byte
            // offset up to which a followed file has been committed (used by the collector).
            try db.execute(sql: """
                -- Facts about the database itself (e.g. that it is a disposable demo database).
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

                CREATE TABLE ingest_sources (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    "offset" INTEGER NOT NULL DEFAULT 0,
                    size INTEGER,
                    inode INTEGER,
                    lines INTEGER NOT NULL DEFAULT 0,
                    ingested INTEGER NOT NULL DEFAULT 0,
                    duplicates INTEGER NOT NULL DEFAULT 0,
                    quarantined INTEGER NOT NULL DEFAULT 0,
                    first_seen INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL
                );

                -- Every accepted event, verbatim: nothing a producer sent is lost, unknown fields included.
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    ts INTEGER NOT NULL,
                    session_id TEXT,
                    request_id TEXT,
                    source_id INTEGER REFERENCES ingest_sources(id),
                    line INTEGER,
                    raw TEXT NOT NULL
                );

                CREATE TABLE sessions (
                    session_id TEXT PRIMARY KEY,
                    user_id TEXT,
                    first_ts INTEGER NOT NULL,
                    last_ts INTEGER NOT NULL,
                    turn_count INTEGER NOT NULL DEFAULT 0,
                    ended_at INTEGER,
                    analyzed_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX sessions_last_ts ON sessions(last_ts);

                -- Images are content-addressed: `image_key` is "sha256:<hex>" when the bytes are known,
                -- else "missing:<path>" or "url:<url>", so one picture is one row however often it is sent.
                CREATE TABLE images (
                    id INTEGER PRIMARY KEY,
                    image_key TEXT NOT NULL UNIQUE,
                    sha256 TEXT,
                    ref TEXT NOT NULL,
                    path TEXT,
                    status TEXT NOT NULL CHECK (status IN ('present', 'missing', 'url', 'unreadable')),
                    bytes INTEGER,
                    width INTEGER,
                    height INTEGER,
                    format TEXT,
                    first_seen INTEGER NOT NULL
                );
                CREATE INDEX images_sha256 ON images(sha256);

                CREATE TABLE turns (
                    id INTEGER PRIMARY KEY REFERENCES events(id),
                    session_id TEXT NOT NULL,
                    turn_index INTEGER NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
                    content TEXT NOT NULL,
                    request_id TEXT,
                    user_id TEXT,
                    ts INTEGER NOT NULL,
                    image_id INTEGER REFERENCES images(id),
                    response_ms INTEGER,
                    model TEXT,
                    prompt_version TEXT,
                    task_type TEXT
                );
                CREATE INDEX turns_session ON turns(session_id, turn_index);
                CREATE INDEX turns_request ON turns(request_id);

                CREATE TABLE feedback (
                    id INTEGER PRIMARY KEY REFERENCES events(id),
                    session_id TEXT,
                    request_id TEXT NOT NULL,
                    user_id TEXT,
                    kind TEXT NOT NULL CHECK (kind IN ('thumbs_up', 'thumbs_down', 'correction', 'tags')),
                    corrected_response TEXT,
                    is_correct INTEGER,
                    ts INTEGER NOT NULL
                );
                CREATE INDEX feedback_request ON feedback(request_id);

                -- Per-tag verdicts of `tags` feedback.
                CREATE TABLE feedback_tags (
                    feedback_id INTEGER NOT NULL REFERENCES feedback(id),
                    tag TEXT NOT NULL,
                    verdict TEXT NOT NULL CHECK (verdict IN ('wrong', 'missing')),
                    PRIMARY KEY (feedback_id, verdict, tag)
                ) WITHOUT ROWID;

                CREATE TABLE recognitions (
                    id INTEGER PRIMARY KEY REFERENCES events(id),
                    request_id TEXT NOT NULL,
                    session_id TEXT,
                    user_id TEXT,
                    image_id INTEGER REFERENCES images(id),
                    model TEXT,
                    prompt_version TEXT,
                    ts INTEGER NOT NULL
                );
                CREATE INDEX recognitions_request ON recognitions(request_id);

                CREATE TABLE recognition_tags (
                    recognition_id INTEGER NOT NULL REFERENCES recognitions(id),
                    position INTEGER NOT NULL,
                    tag TEXT NOT NULL,
                    score REAL,
                    PRIMARY KEY (recognition_id, position)
                ) WITHOUT ROWID;

                CREATE TABLE error_logs (
                    id INTEGER PRIMARY KEY REFERENCES events(id),
                    request_id TEXT NOT NULL,
                    session_id TEXT,
                    kind TEXT NOT NULL CHECK (kind IN ('format_error', 'timeout', 'retry', 'exception')),
                    detail TEXT,
                    ts INTEGER NOT NULL
                );
                CREATE INDEX error_logs_request ON error_logs(request_id);

                -- Implicit signals mined from sessions. One row per (request, kind, rule).
                CREATE TABLE signals (
                    id INTEGER PRIMARY KEY,
                    session_id TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('correction', 'repeated_question', 'slow_response', 'error_log')),
                    confidence REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
                    rule TEXT NOT NULL,
                    evidence TEXT,
                    evidence_turn_id INTEGER REFERENCES turns(id),
                    created_at INTEGER NOT NULL,
                    UNIQUE (request_id, kind, rule)
                );
                CREATE INDEX signals_session ON signals(session_id);

                CREATE TABLE prompt_versions (
                    name TEXT PRIMARY KEY,
                    template TEXT,
                    parent TEXT REFERENCES prompt_versions(name),
                    author TEXT,
                    created_at INTEGER NOT NULL,
                    status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired')),
                    task_type TEXT,
                    seen_in_events INTEGER NOT NULL DEFAULT 0
                );

                CREATE TABLE training_samples (
                    id INTEGER PRIMARY KEY,
                    source TEXT NOT NULL,
                    quality TEXT NOT NULL CHECK (quality IN ('high', 'medium', 'low')),
                    state TEXT NOT NULL,
                    task_type TEXT NOT NULL DEFAULT 'vqa',
                    question TEXT,
                    wrong_answer TEXT,
                    correct_answer TEXT,
                    error_category TEXT NOT NULL DEFAULT 'unknown',
                    session_id TEXT,
                    request_id TEXT,
                    question_turn_id INTEGER REFERENCES turns(id),
                    answer_turn_id INTEGER REFERENCES turns(id),
                    image_id INTEGER REFERENCES images(id),
                    signal_id INTEGER REFERENCES signals(id),
                    feedback_id INTEGER REFERENCES feedback(id),
                    evidence TEXT,
                    extraction TEXT,
                    model TEXT,
                    prompt_version TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX training_samples_state ON training_samples(state, id);
                CREATE INDEX training_samples_request ON training_samples(request_id);

                -- Append-only audit of review decisions: rows are never updated or deleted.
                CREATE TABLE review_actions (
                    id INTEGER PRIMARY KEY,
                    sample_id INTEGER NOT NULL REFERENCES training_samples(id),
                    reviewer TEXT NOT NULL,
                    action TEXT NOT NULL,
                    before TEXT,
                    after TEXT,
                    at INTEGER NOT NULL
                );
                CREATE INDEX review_actions_sample ON review_actions(sample_id);
                CREATE TRIGGER review_actions_no_update BEFORE UPDATE ON review_actions
                    BEGIN SELECT RAISE(ABORT, 'review_actions is append-only'); END;
                CREATE TRIGGER review_actions_no_delete BEFORE DELETE ON review_actions
                    BEGIN SELECT RAISE(ABORT, 'review_actions is append-only'); END;

                -- Lines that could not be ingested, kept byte for byte with where they came from and why.
                CREATE TABLE quarantine (
                    id INTEGER PRIMARY KEY,
                    source TEXT NOT NULL,
                    line INTEGER,
                    reason_kind TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    raw BLOB NOT NULL,
                    -- FNV-1a of raw: the same bad line from the same place is kept once.
                    raw_hash INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    UNIQUE (source, line, raw_hash)
                );
                """)
        }
        m.registerMigration("v2-samples-unique-per-source") { db in
            // One sample per request and source, so analysis can run again and again without duplicates.
            try db.execute(sql: """
                CREATE UNIQUE INDEX training_samples_request_source ON training_samples(request_id, source);
                CREATE INDEX signals_kind ON signals(kind, id);
                CREATE INDEX feedback_kind ON feedback(kind, id);
                """)
        }
        m.registerMigration("v3-review-queue") { db in
            // The review console's queue order, highest value first: pending before needs_answer; then quality
            // high, medium, low; then source user_correction, implicit_correction, seed_label, thumbs_down
            // (anything else last). Virtual, so it costs nothing to store and follows every state change; the
            // partial index holds only the samples waiting for a decision, in queue order.
            try db.execute(sql: """
                ALTER TABLE training_samples ADD COLUMN review_rank INTEGER GENERATED ALWAYS AS (
                    (state = 'needs_answer') * 100
                    + (CASE quality WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END) * 10
                    + (CASE source WHEN 'user_correction' THEN 0 WHEN 'implicit_correction' THEN 1
                                   WHEN 'seed_label' THEN 2 WHEN 'thumbs_down' THEN 3 ELSE 9 END)
                ) VIRTUAL;
                CREATE INDEX training_samples_review_queue ON training_samples(review_rank, id)
                    WHERE state IN ('pending', 'needs_answer');
                """)
            // Sessions page newest first on sessions_last_ts: in a WITHOUT ROWID table that index is
            // (last_ts, session_id), which is exactly the console's order and cursor, so none is added.
        }
        m.registerMigration("v4-tags-annotation-synthetic") { db in
            try db.execute(sql: """
                -- Image-tagging samples (task_type 'tags'): one row per tag of the sample, with the model's score
                -- (NULL for a tag the model missed) and the verdict so far. Partial correctness is kept per tag.
                CREATE TABLE sample_tags (
                    sample_id INTEGER NOT NULL REFERENCES training_samples(id),
                    tag TEXT NOT NULL,
                    score REAL,
                    verdict TEXT NOT NULL CHECK (verdict IN ('unreviewed', 'correct', 'wrong', 'missing')),
                    PRIMARY KEY (sample_id, tag)
                ) WITHOUT ROWID;

                -- Cold-start annotation: images (flywheel seed-images) and answered turns without feedback,
                -- waiting for a human label. A label becomes a training sample (source seed_label).
                CREATE TABLE annotation_tasks (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('vqa', 'tags')),
                    image_id INTEGER REFERENCES images(id),
                    turn_id INTEGER REFERENCES turns(id),
                    question TEXT,
                    suggested TEXT,
                    origin TEXT NOT NULL CHECK (origin IN ('seed_images', 'unlabelled_turn')),
                    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'skipped')),
                    sample_id INTEGER REFERENCES training_samples(id),
                    annotator TEXT,
                    created_at INTEGER NOT NULL,
                    done_at INTEGER
                );
                CREATE UNIQUE INDEX annotation_tasks_image ON annotation_tasks(kind, image_id) WHERE turn_id IS NULL;
                CREATE UNIQUE INDEX annotation_tasks_turn ON annotation_tasks(turn_id) WHERE turn_id IS NOT NULL;
                CREATE INDEX annotation_tasks_open ON annotation_tasks(status, id);

                -- Samples derived from others (flywheel augment) are marked, linked to their source, and never
                -- exported unless asked.
                ALTER TABLE training_samples ADD COLUMN synthetic INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE training_samples ADD COLUMN derived_from INTEGER REFERENCES training_samples(id);
                """)
        }
        m.registerMigration("v5-team-review") { db in
            try db.execute(sql: """
                -- Team members and their roles. While the table is empty nothing is guarded (one-person installs).
                CREATE TABLE users (
                    name TEXT PRIMARY KEY,
                    role TEXT NOT NULL CHECK (role IN ('annotator', 'reviewer', 'pm', 'admin')),
                    adjudicator INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    created_by TEXT
                ) WITHOUT ROWID;

                -- Team settings (review.overlap, review.reservation_minutes); absent keys take their defaults.
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

                -- Who is looking at which sample, until when. Ephemeral: expired rows are deleted when seen.
                CREATE TABLE reservations (
                    sample_id INTEGER NOT NULL REFERENCES training_samples(id),
                    reviewer TEXT NOT NULL,
                    reserved_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (sample_id, reviewer)
                ) WITHOUT ROWID;
                CREATE INDEX reservations_reviewer ON reservations(reviewer);

                -- Independent decisions (one per reviewer per sample) until the overlap is reached; kept after
                -- the sample is final, for agreement figures. An undo removes the reviewer's row (the audit keeps both).
                -- A tag fix on an image-tagging sample keeps its per-tag verdicts in tags
                -- ([{"tag":…,"score":…,"verdict":…}, …], the whole set as the reviewer left it) and the corrected
                -- list in correct_answer; tags is NULL for every other decision.
                CREATE TABLE sample_decisions (
                    sample_id INTEGER NOT NULL REFERENCES training_samples(id),
                    reviewer TEXT NOT NULL,
                    verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'fix')),
                    correct_answer TEXT,
                    tags TEXT,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (sample_id, reviewer)
                ) WITHOUT ROWID;

                -- Every state change that is not a sample review (those are in review_actions): users, roles,
                -- settings, prompts, annotation, held feedback, end-user flags. Append-only.
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    entity_id TEXT NOT NULL,
                    before TEXT,
                    after TEXT,
                    note TEXT
                );
                CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
                CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

                -- Review decisions carry the vote behind them (verdict, answer, votes so far, overlap).
                ALTER TABLE review_actions ADD COLUMN detail TEXT;
                CREATE INDEX review_actions_at ON review_actions(at);

                -- Trust in end users' explicit feedback, recomputed by analysis; override is an admin's word
                -- ('trusted' ignores the abuse rules, 'flagged' holds the user's feedback regardless).
                CREATE TABLE end_user_trust (
                    user_id TEXT PRIMARY KEY,
                    feedback INTEGER NOT NULL,
                    reviewed INTEGER NOT NULL,
                    agreed INTEGER NOT NULL,
                    score REAL NOT NULL,
                    weight REAL NOT NULL,
                    flags TEXT NOT NULL DEFAULT '[]',
                    flagged INTEGER NOT NULL DEFAULT 0,
                    override TEXT CHECK (override IN ('trusted', 'flagged')),
                    computed_at INTEGER NOT NULL
                ) WITHOUT ROWID;

                -- The end user a sample comes from (feedback author, else the session's or recognition's user),
                -- the weight their trust gives it, and for a held sample the state it gets when released.
                ALTER TABLE training_samples ADD COLUMN end_user TEXT;
                ALTER TABLE training_samples ADD COLUMN weight REAL NOT NULL DEFAULT 1.0;
                ALTER TABLE training_samples ADD COLUMN held_state TEXT;
                CREATE INDEX training_samples_end_user ON training_samples(end_user);
                CREATE INDEX training_samples_disputed ON training_samples(id) WHERE state = 'disputed';
                CREATE INDEX training_samples_held ON training_samples(id) WHERE state = 'held';
                CREATE INDEX feedback_user ON feedback(user_id, ts);
                CREATE INDEX training_samples_feedback ON training_samples(feedback_id) WHERE feedback_id IS NOT NULL;
                UPDATE training_samples SET end_user = coalesce(
                    (SELECT f.user_id FROM feedback f WHERE f.id = training_samples.feedback_id),
                    (SELECT se.user_id FROM sessions se WHERE se.session_id = training_samples.session_id),
                    (SELECT r.user_id FROM recognitions r WHERE r.request_id = training_samples.request_id LIMIT 1));
                """)
        }
        return m
    }

    /// Tables shown by `flywheel stats`, in display order.
    static let countedTables = [
        "events", "sessions", "turns", "images", "feedback", "feedback_tags", "recognitions",
        "recognition_tags", "error_logs", "signals", "training_samples", "review_actions",
        "prompt_versions", "quarantine", "ingest_sources", "sample_tags", "annotation_tasks",
        "users", "reservations", "sample_decisions", "audit_log", "end_user_trust",
    ]
}
