-- Global Cybersecurity Index: editions (frameworks as JSON), questionnaire
-- campaigns, every version of every answer, evidence files, and result
-- sets (computed from a campaign or imported from a published edition).

CREATE TABLE gci_editions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    year INTEGER NOT NULL,
    -- The whole framework (rampart_gci::Framework) as JSON.
    framework TEXT NOT NULL,
    -- 1 once frozen: a frozen edition never changes.
    frozen INTEGER NOT NULL,
    based_on TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE gci_campaigns (
    id TEXT PRIMARY KEY,
    edition_code TEXT NOT NULL REFERENCES gci_editions(code),
    name TEXT NOT NULL,
    deadline TEXT NOT NULL,
    -- open, published
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT
);

CREATE TABLE gci_participants (
    campaign_id TEXT NOT NULL REFERENCES gci_campaigns(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    -- not_started, in_progress, submitted, in_review, validated
    status TEXT NOT NULL,
    submitted_at TEXT,
    validated_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, country)
);

-- Append-only: each save or review decision adds a version.
CREATE TABLE gci_answers (
    campaign_id TEXT NOT NULL REFERENCES gci_campaigns(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    question_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    value TEXT NOT NULL,
    comment TEXT NOT NULL,
    -- JSON array of {kind: link|file, url|file_id, name, checked_on}
    evidence TEXT NOT NULL,
    -- draft, submitted, accepted, clarify, changed
    state TEXT NOT NULL,
    review_comment TEXT NOT NULL,
    author_id TEXT,
    author_label TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, country, question_id, version)
);

CREATE TABLE gci_evidence_files (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES gci_campaigns(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX gci_evidence_files_country ON gci_evidence_files(campaign_id, country);

CREATE TABLE gci_result_sets (
    id TEXT PRIMARY KEY,
    edition_code TEXT NOT NULL REFERENCES gci_editions(code),
    name TEXT NOT NULL,
    -- campaign or import
    kind TEXT NOT NULL,
    campaign_id TEXT,
    -- JSON array of rampart_gci::table::Entry
    entries TEXT NOT NULL,
    -- JSON array of strings: rows the import named as inconsistent
    warnings TEXT NOT NULL,
    published_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
