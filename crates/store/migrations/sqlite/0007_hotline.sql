-- Child online protection: hotline reports, the URLs they name (each
-- assessed, traced and referred on its own), referrals with their
-- notice-and-takedown milestones, hash lists, and guidance pages.
--
-- No table holds reported images or videos: only URLs, metadata and hashes.
-- Personal data (the reporter's name, e-mail and free-text description) is
-- blanked by the retention purge, which sets purged_at.
CREATE TABLE hotline_reports (
    id TEXT PRIMARY KEY,
    -- Shown to the reporter; random, so it also serves to check the status.
    receipt TEXT NOT NULL UNIQUE,
    hotline_org_id TEXT NOT NULL REFERENCES organisations(id),
    -- public | partner | analyst
    channel TEXT NOT NULL,
    received_at TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    reporter_name TEXT,
    reporter_email TEXT,
    -- Partner hotline submissions: the sender and its own reference.
    partner_org_id TEXT,
    partner_reference TEXT,
    purged_at TEXT
);
CREATE INDEX hotline_reports_time ON hotline_reports(received_at);

CREATE TABLE hotline_items (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES hotline_reports(id),
    hotline_org_id TEXT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    normalised_url TEXT NOT NULL,
    host TEXT NOT NULL,
    -- new | assessed | referred | notice_sent | removed | confirmed | closed
    status TEXT NOT NULL,
    -- illegal_national | illegal_interpol | not_illegal | duplicate | unreachable
    outcome TEXT,
    duplicate_of TEXT,
    assessed_by TEXT,
    assessed_at TEXT,
    assessment_note TEXT NOT NULL DEFAULT '',
    ip TEXT,
    hosting_country TEXT,
    network TEXT,
    asn BIGINT,
    as_org TEXT,
    -- The national organisation whose registered network holds the address.
    hosting_org_id TEXT,
    traced_at TEXT,
    -- Hashes of material the analyst had hashed (the file itself is not kept).
    pdq TEXT,
    md5 TEXT,
    sha256 TEXT,
    -- What a hash matched: "<list name>: <hash> (distance d)".
    known_match TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX hotline_items_queue ON hotline_items(hotline_org_id, status);
CREATE INDEX hotline_items_url ON hotline_items(normalised_url);
CREATE INDEX hotline_items_report ON hotline_items(report_id);

CREATE TABLE hotline_referrals (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES hotline_items(id),
    from_org_id TEXT NOT NULL REFERENCES organisations(id),
    to_org_id TEXT NOT NULL REFERENCES organisations(id),
    country TEXT NOT NULL,
    -- referred | notice_sent | removed | confirmed
    status TEXT NOT NULL,
    referred_at TEXT NOT NULL,
    referred_by TEXT NOT NULL,
    notice_sent_at TEXT,
    removed_at TEXT,
    confirmed_at TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hotline_referrals_to ON hotline_referrals(to_org_id, status);
CREATE INDEX hotline_referrals_item ON hotline_referrals(item_id);

CREATE TABLE hotline_events (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES hotline_items(id),
    at TEXT NOT NULL,
    actor_id TEXT,
    actor_org_id TEXT,
    -- Order within the item: events of one request share a timestamp.
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX hotline_events_item ON hotline_events(item_id, seq);

CREATE TABLE hash_lists (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    tlp TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX hash_lists_name ON hash_lists(org_id, name);

CREATE TABLE hash_list_shares (
    list_id TEXT NOT NULL REFERENCES hash_lists(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (list_id, org_id)
);

CREATE TABLE hash_entries (
    list_id TEXT NOT NULL REFERENCES hash_lists(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    added_by TEXT,
    item_id TEXT,
    PRIMARY KEY (list_id, kind, hash)
);

CREATE TABLE guidance_pages (
    audience TEXT NOT NULL,
    language TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (audience, language)
);
