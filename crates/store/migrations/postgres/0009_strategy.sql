-- National strategy and CIRT maturity: a strategy record per country with
-- its lifecycle timeline, documents and stakeholders; every version of
-- every self-assessment answer; the action plan (objectives, actions, KPIs
-- and their measured values); SIM3 assessments and service catalogues per
-- CIRT organisation.

CREATE TABLE strategy_records (
    country TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    -- initiation, stocktaking, production, implementation, monitoring
    phase TEXT NOT NULL,
    summary TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The lifecycle timeline: when each phase started and ended (planned or actual).
CREATE TABLE strategy_phases (
    country TEXT NOT NULL,
    phase TEXT NOT NULL,
    started_on TEXT NOT NULL,
    ended_on TEXT,
    note TEXT NOT NULL,
    PRIMARY KEY (country, phase)
);

CREATE TABLE strategy_documents (
    id TEXT PRIMARY KEY,
    country TEXT NOT NULL,
    title TEXT NOT NULL,
    -- strategy, action_plan, law, report, other
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    issued_on TEXT,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX strategy_documents_country ON strategy_documents(country);

CREATE TABLE strategy_stakeholders (
    id TEXT PRIMARY KEY,
    country TEXT NOT NULL,
    name TEXT NOT NULL,
    -- government, private, civil_society, academia, international
    sector TEXT NOT NULL,
    role TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX strategy_stakeholders_country ON strategy_stakeholders(country);

-- Append-only: every save adds a version.
CREATE TABLE strategy_answers (
    country TEXT NOT NULL,
    framework TEXT NOT NULL,
    element_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    -- in_place, partial, not_in_place, not_applicable
    status TEXT NOT NULL,
    -- high, medium, low
    priority TEXT NOT NULL,
    evidence TEXT NOT NULL,
    comment TEXT NOT NULL,
    author_id TEXT,
    author_label TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (country, framework, element_id, version)
);

CREATE TABLE strategy_objectives (
    id TEXT PRIMARY KEY,
    country TEXT NOT NULL,
    title TEXT NOT NULL,
    -- a focus area of the guide, or empty
    area TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX strategy_objectives_country ON strategy_objectives(country);

CREATE TABLE strategy_actions (
    id TEXT PRIMARY KEY,
    country TEXT NOT NULL,
    objective_id TEXT NOT NULL REFERENCES strategy_objectives(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    lead_org TEXT NOT NULL,
    -- supporting organisations, one per line
    supporting TEXT NOT NULL,
    -- whole units of `currency`
    budget BIGINT,
    currency TEXT NOT NULL,
    start_on TEXT NOT NULL,
    end_on TEXT NOT NULL,
    -- planned, in_progress, done, cancelled
    status TEXT NOT NULL,
    -- where it came from: gap:<element>, sim3:<parameter> or empty
    origin TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX strategy_actions_country ON strategy_actions(country);

CREATE TABLE strategy_kpis (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES strategy_actions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    baseline DOUBLE PRECISION NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX strategy_kpis_action ON strategy_kpis(action_id);

CREATE TABLE strategy_kpi_values (
    kpi_id TEXT NOT NULL REFERENCES strategy_kpis(id) ON DELETE CASCADE,
    measured_on TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL,
    author_label TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (kpi_id, measured_on)
);

CREATE TABLE maturity_assessments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    country TEXT NOT NULL,
    model TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    -- JSON objects parameter id -> level 0..4
    levels TEXT NOT NULL,
    targets TEXT NOT NULL,
    notes TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX maturity_assessments_org ON maturity_assessments(org_id, assessed_on);

CREATE TABLE cirt_services (
    org_id TEXT NOT NULL REFERENCES organisations(id),
    service_id TEXT NOT NULL,
    -- none, basic, standard, advanced
    level TEXT NOT NULL,
    audience TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, service_id)
);
