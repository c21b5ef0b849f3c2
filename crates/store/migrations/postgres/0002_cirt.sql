-- The CIRT desk: constituency registry, incident reports and incidents.
-- Same portable types as 0001 (TEXT ids and times, BIGINT numbers).

-- Networks of constituents. An address range is kept as fixed-width hex
-- keys (8 digits for IPv4, 32 for IPv6) so "which networks contain this
-- address, most specific first" is one indexed range query on both databases.
CREATE TABLE constituency_networks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    family BIGINT NOT NULL,
    prefix_len BIGINT NOT NULL,
    start_key TEXT NOT NULL,
    end_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX constituency_networks_unique ON constituency_networks(org_id, network);
CREATE INDEX constituency_networks_range ON constituency_networks(family, start_key, end_key);

CREATE TABLE constituency_asns (
    org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    asn BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, asn)
);
CREATE INDEX constituency_asns_asn ON constituency_asns(asn);

CREATE TABLE constituency_domains (
    org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, domain)
);
CREATE INDEX constituency_domains_domain ON constituency_domains(domain);

CREATE TABLE notification_preferences (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    language TEXT NOT NULL,
    batch_minutes BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Human references (INC-2026-000123) are numbered per kind and year.
CREATE TABLE reference_counters (
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE incident_reports (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    channel TEXT NOT NULL,
    received_at TEXT NOT NULL,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    reporter_org_id TEXT REFERENCES organisations(id),
    reporter_user_id TEXT REFERENCES users(id),
    reporter_email TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    tlp TEXT NOT NULL,
    status TEXT NOT NULL,
    incident_id TEXT,
    observables TEXT NOT NULL
);
CREATE UNIQUE INDEX incident_reports_reference ON incident_reports(reference);
CREATE INDEX incident_reports_status ON incident_reports(owner_org_id, status);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    rsit_class TEXT NOT NULL,
    rsit_type TEXT NOT NULL,
    tlp TEXT NOT NULL,
    pap TEXT NOT NULL,
    impact TEXT NOT NULL,
    urgency TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    assignee_id TEXT REFERENCES users(id),
    source TEXT NOT NULL,
    merged_into TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    first_response_at TEXT
);
CREATE UNIQUE INDEX incidents_reference ON incidents(reference);
CREATE INDEX incidents_queue ON incidents(owner_org_id, status, priority);
CREATE INDEX incidents_assignee ON incidents(assignee_id, status);

CREATE TABLE incident_constituents (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (incident_id, org_id)
);
CREATE INDEX incident_constituents_org ON incident_constituents(org_id);

CREATE TABLE incident_observables (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (incident_id, kind, value)
);
CREATE INDEX incident_observables_value ON incident_observables(kind, value);

CREATE TABLE incident_tasks (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    done_at TEXT,
    done_by TEXT
);
CREATE INDEX incident_tasks_incident ON incident_tasks(incident_id, position);

-- The timeline: every status change, assignment, note, task and notice.
CREATE TABLE incident_events (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, at);

CREATE TABLE incident_links (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    other_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, other_id)
);
