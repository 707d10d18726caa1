"""The one schema definition shared by every SQL backend.

Column types are written with placeholders that each backend's dialect fills in (``{real}`` is
``REAL`` in SQLite and ``DOUBLE PRECISION`` in PostgreSQL; see ``dialect.py``), so a PostgreSQL
store can follow without a second copy of the tables. ``TABLES`` is the baseline (version 1);
``MIGRATIONS[v]`` takes a store from version ``v`` to ``v + 1``. A new store is created at the
baseline and migrated like an old one, so every store at a given version has exactly the same
schema.
"""

from __future__ import annotations

from .migrations import MIGRATIONS as MIGRATIONS

BASELINE_VERSION = 1
SCHEMA_VERSION = 13

TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_info (
        version INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS experiments (
        name TEXT PRIMARY KEY,
        created {real} NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        name TEXT,
        parent_id TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        started {real} NOT NULL,
        ended {real},
        duration {real},
        seed {bigint},
        notebook TEXT,
        execution_count INTEGER,
        code_sha TEXT,
        history TEXT,
        peak_memory {bigint},
        git_commit TEXT,
        git_branch TEXT,
        git_dirty INTEGER,
        git_diff_hash TEXT,
        environment_id TEXT,
        error TEXT,
        stdout_tail TEXT,
        host TEXT,
        pid INTEGER,
        pid_start TEXT,
        heartbeat {real},
        warnings TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS runs_experiment_started ON runs (experiment, started)",
    "CREATE INDEX IF NOT EXISTS runs_started ON runs (started)",
    "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)",
    "CREATE INDEX IF NOT EXISTS runs_parent ON runs (parent_id)",
    """CREATE TABLE IF NOT EXISTS params (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (run_id, key)
    )""",
    """CREATE TABLE IF NOT EXISTS metrics (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        step {bigint} NOT NULL,
        value {real},
        time {real} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS metrics_run_key ON metrics (run_id, key, step)",
    # The newest value per (run, key): what runs() shows and filters on, kept so that listing
    # 10,000 runs never scans every step of every curve.
    """CREATE TABLE IF NOT EXISTS latest_metrics (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        step {bigint} NOT NULL,
        value {real},
        time {real} NOT NULL,
        PRIMARY KEY (run_id, key)
    )""",
    "CREATE INDEX IF NOT EXISTS latest_metrics_key_value ON latest_metrics (key, value)",
    """CREATE TABLE IF NOT EXISTS tags (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (run_id, key)
    )""",
    "CREATE INDEX IF NOT EXISTS tags_key_value ON tags (key, value)",
    """CREATE TABLE IF NOT EXISTS data (
        run_id TEXT NOT NULL,
        role TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        hash TEXT NOT NULL,
        shape TEXT,
        schema TEXT,
        parts TEXT,
        nbytes {bigint},
        path TEXT,
        PRIMARY KEY (run_id, role, name)
    )""",
    "CREATE INDEX IF NOT EXISTS data_hash ON data (hash)",
    """CREATE TABLE IF NOT EXISTS artifacts (
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size {bigint} NOT NULL,
        uri TEXT NOT NULL,
        PRIMARY KEY (run_id, name)
    )""",
    """CREATE TABLE IF NOT EXISTS environments (
        id TEXT PRIMARY KEY,
        python TEXT NOT NULL,
        platform TEXT NOT NULL,
        packages TEXT NOT NULL
    )""",
    # Cell sources, content-addressed: a session history is a list of these hashes, so a
    # 300-cell session stores each cell once however many runs it records.
    """CREATE TABLE IF NOT EXISTS code (
        sha TEXT PRIMARY KEY,
        text TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS pipelines (
        name TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        notebook TEXT NOT NULL,
        notebook_hash TEXT NOT NULL,
        schedule TEXT,
        updated {real} NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS gate_results (
        run_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        gate TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        result TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    )""",
    """CREATE TABLE IF NOT EXISTS model_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        artifact_uri TEXT NOT NULL,
        artifact_sha TEXT NOT NULL,
        size {bigint} NOT NULL,
        stage TEXT NOT NULL,
        created {real} NOT NULL,
        updated {real} NOT NULL,
        metrics TEXT,
        data TEXT,
        pipeline TEXT,
        PRIMARY KEY (name, version)
    )""",
    "CREATE INDEX IF NOT EXISTS model_versions_stage ON model_versions (name, stage)",
    """CREATE TABLE IF NOT EXISTS model_events (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT,
        reason TEXT,
        time {real} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS model_events_name ON model_events (name, time)",
)


def render(types: dict[str, str]) -> list[str]:
    """The baseline CREATE statements with this backend's column types."""
    return [stmt.format(**types) for stmt in TABLES]


def render_migration(version: int, types: dict[str, str]) -> list[str]:
    """The statements that take a store at ``version`` to ``version + 1``."""
    return [stmt.format(**types) for stmt in MIGRATIONS[version]]
