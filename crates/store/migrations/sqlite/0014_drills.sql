-- Cyberdrills: scenarios (kept whole as validated JSON), exercises that
-- instantiate them for teams, the exercise clock and its pauses, inject
-- delivery per team, responses and their evaluation, technical challenges
-- with attempts, solves and hints, the hot wash and the improvement plan.

CREATE TABLE drill_scenarios (
    id TEXT PRIMARY KEY,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    title TEXT NOT NULL,
    -- the whole scenario as JSON (see rampart-drills' scenario module)
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE drill_exercises (
    id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL REFERENCES drill_scenarios(id),
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    title TEXT NOT NULL,
    -- scheduled, running, paused, finished, cancelled
    state TEXT NOT NULL,
    -- exercise seconds per real second
    speed DOUBLE PRECISION NOT NULL,
    -- the scenario as it was when the exercise was made
    scenario TEXT NOT NULL,
    scheduled_for TEXT,
    started_at TEXT,
    -- the real time of the last start or resume, and the exercise seconds
    -- elapsed at that moment: elapsed = anchor_elapsed + (now - anchor_at) * speed
    anchor_at TEXT,
    anchor_elapsed DOUBLE PRECISION NOT NULL,
    ended_at TEXT,
    -- a counter bumped on every change players or the scoreboard can see
    revision BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE drill_pauses (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    paused_at TEXT NOT NULL,
    paused_elapsed DOUBLE PRECISION NOT NULL,
    resumed_at TEXT,
    paused_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (exercise_id, paused_at)
);

CREATE TABLE drill_teams (
    id TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    country TEXT,
    -- which injects reach the team: an inject for audience X reaches teams of audience X
    audience TEXT NOT NULL,
    comm_check_sent_at TEXT,
    comm_check_confirmed_at TEXT,
    comm_check_confirmed_by TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (exercise_id, name)
);

-- People of an exercise: director, controller, evaluator, observer, player.
CREATE TABLE drill_members (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    team_id TEXT REFERENCES drill_teams(id) ON DELETE CASCADE,
    PRIMARY KEY (exercise_id, user_id)
);

CREATE TABLE drill_injects (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    -- exercise seconds from the start
    offset_seconds BIGINT NOT NULL,
    channel TEXT NOT NULL,
    -- JSON array of audiences; [] for every team
    audiences TEXT NOT NULL,
    sender TEXT NOT NULL,
    content TEXT NOT NULL,
    -- JSON array of {inject, when: delivered|responded}
    depends_on TEXT NOT NULL,
    -- JSON array of attachments {name, sha256, size}, their bytes in drill_files
    files TEXT NOT NULL,
    -- pending, delivered, cancelled
    status TEXT NOT NULL,
    delivered_at TEXT,
    delivered_elapsed DOUBLE PRECISION,
    position BIGINT NOT NULL,
    PRIMARY KEY (exercise_id, key)
);

CREATE TABLE drill_deliveries (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    inject_key TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    delivered_at TEXT NOT NULL,
    delivered_elapsed DOUBLE PRECISION NOT NULL,
    acknowledged_at TEXT,
    acknowledged_elapsed DOUBLE PRECISION,
    acknowledged_by TEXT,
    PRIMARY KEY (exercise_id, inject_key, team_id)
);

CREATE TABLE drill_expectations (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    inject_key TEXT NOT NULL,
    -- manual, text, document, challenge
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    expected_score BIGINT NOT NULL,
    -- exercise seconds after delivery; NULL: no deadline
    deadline_seconds BIGINT,
    -- any (one player of the team) or all (every player of the team)
    scope TEXT NOT NULL,
    objective TEXT,
    challenge_key TEXT,
    PRIMARY KEY (exercise_id, key)
);

CREATE TABLE drill_responses (
    id TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    inject_key TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    file_name TEXT,
    file_sha256 TEXT,
    file_content BLOB,
    at TEXT NOT NULL,
    elapsed DOUBLE PRECISION NOT NULL
);
CREATE INDEX drill_responses_team ON drill_responses(exercise_id, team_id, at);

-- One evaluation per expectation and team; a later one replaces it.
CREATE TABLE drill_evaluations (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    expectation_key TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    score BIGINT NOT NULL,
    comment TEXT NOT NULL,
    evaluator TEXT NOT NULL,
    response_id TEXT,
    at TEXT NOT NULL,
    elapsed DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (exercise_id, expectation_key, team_id)
);

CREATE TABLE drill_challenges (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    -- static, linear, logarithmic
    scoring TEXT NOT NULL,
    initial BIGINT NOT NULL,
    minimum BIGINT NOT NULL,
    decay BIGINT NOT NULL,
    -- JSON: static flags as salted SHA-256, regular expressions as written
    flags TEXT NOT NULL,
    max_attempts BIGINT NOT NULL,
    -- JSON arrays: hints {text, cost}, prerequisite challenge keys, files {name, sha256}
    hints TEXT NOT NULL,
    prerequisites TEXT NOT NULL,
    files TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (exercise_id, key)
);

CREATE TABLE drill_files (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (exercise_id, sha256)
);

-- The attempt counter: taken with a conditional UPDATE so the limit holds
-- exactly under racing submissions on both databases.
CREATE TABLE drill_attempt_counts (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    challenge_key TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (exercise_id, challenge_key, team_id)
);

CREATE TABLE drill_attempts (
    id TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    challenge_key TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    correct BIGINT NOT NULL,
    -- a wrong answer as typed (for the organisers); a right one is never kept
    submitted TEXT,
    at TEXT NOT NULL
);
CREATE INDEX drill_attempts_team ON drill_attempts(exercise_id, team_id, at);

-- One solve per challenge and team: the primary key makes two racing
-- correct submissions score once.
CREATE TABLE drill_solves (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    challenge_key TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    at TEXT NOT NULL,
    elapsed DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (exercise_id, challenge_key, team_id)
);

CREATE TABLE drill_hint_unlocks (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    challenge_key TEXT NOT NULL,
    hint_index BIGINT NOT NULL,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    cost BIGINT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (exercise_id, challenge_key, hint_index, team_id)
);

CREATE TABLE drill_team_log (
    id TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES drill_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    at TEXT NOT NULL,
    elapsed DOUBLE PRECISION NOT NULL
);
CREATE INDEX drill_team_log_team ON drill_team_log(exercise_id, team_id, at);

-- Hot-wash answers; user_id and team_id are NULL when the person chose to
-- answer anonymously. Who has answered is kept apart, unlinked from what.
CREATE TABLE drill_hotwash_done (
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    PRIMARY KEY (exercise_id, user_id)
);

CREATE TABLE drill_hotwash (
    id TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    user_id TEXT,
    team_id TEXT,
    rating BIGINT NOT NULL,
    went_well TEXT NOT NULL,
    to_improve TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE drill_improvements (
    id TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL REFERENCES drill_exercises(id) ON DELETE CASCADE,
    objective TEXT,
    -- strength or improvement
    kind TEXT NOT NULL,
    observation TEXT NOT NULL,
    action TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
