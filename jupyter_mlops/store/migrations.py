"""The schema's migrations: ``MIGRATIONS[v]`` takes a store from version ``v`` to ``v + 1``
(see :mod:`.schema`, whose baseline they start from). Kept apart from the baseline tables so each
file stays readable as the schema grows."""

from __future__ import annotations


def _with_id(table: str, columns: str, names: str, order: str) -> tuple[str, ...]:
    """Rebuild ``table`` with an ``id`` key numbering its rows in their insertion order."""
    return (
        f"CREATE TABLE {table}_new (id {{serial_pk}}, {columns})",
        f"INSERT INTO {table}_new ({names}) SELECT {names} FROM {table}"
        f" ORDER BY {order}, {{row_order}}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_new RENAME TO {table}",
    )


# version -> statements that migrate a store at that version to the next one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1 -> 2: the embedded scheduler's state (survives restarts) and its log (missed runs).
    1: (
        """CREATE TABLE IF NOT EXISTS schedule_state (
            pipeline TEXT PRIMARY KEY,
            last_fire {real} NOT NULL,
            updated {real} NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS schedule_log (
            pipeline TEXT NOT NULL,
            scheduled_for {real} NOT NULL,
            outcome TEXT NOT NULL,
            run_id TEXT,
            message TEXT,
            time {real} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS schedule_log_pipeline ON schedule_log (pipeline, time)",
    ),
    # 2 -> 3: the two logs ordered by insertion (events at the same time: register before bless)
    # get an explicit integer key, which every backend has, instead of SQLite's implicit row number.
    2: (
        *_with_id(
            "model_events",
            "name TEXT NOT NULL, version INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT,"
            " reason TEXT, time {real} NOT NULL",
            "name, version, action, actor, reason, time",
            "time",
        ),
        "CREATE INDEX IF NOT EXISTS model_events_name ON model_events (name, time)",
        *_with_id(
            "schedule_log",
            "pipeline TEXT NOT NULL, scheduled_for {real} NOT NULL, outcome TEXT NOT NULL,"
            " run_id TEXT, message TEXT, time {real} NOT NULL",
            "pipeline, scheduled_for, outcome, run_id, message, time",
            "time",
        ),
        "CREATE INDEX IF NOT EXISTS schedule_log_pipeline ON schedule_log (pipeline, time)",
    ),
    # 3 -> 4: production monitoring. Each scored batch (blessed and shadow versions), the
    # predictions by row id that delayed labels join onto, the labels, and the monitor's own
    # evaluations and actions. Raw rows are never stored here (only profiles).
    3: (
        """CREATE TABLE IF NOT EXISTS monitor_batches (
            id {serial_pk},
            batch_id TEXT NOT NULL,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            role TEXT NOT NULL,
            time {real} NOT NULL,
            n_rows {bigint} NOT NULL,
            latency {real},
            profile TEXT,
            predictions TEXT,
            rows_uri TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS monitor_batches_name ON monitor_batches (name, time)",
        """CREATE TABLE IF NOT EXISTS monitor_predictions (
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            row_id TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            prediction TEXT,
            slice TEXT,
            time {real} NOT NULL,
            PRIMARY KEY (name, version, row_id)
        )""",
        """CREATE TABLE IF NOT EXISTS monitor_labels (
            name TEXT NOT NULL,
            row_id TEXT NOT NULL,
            label TEXT,
            time {real} NOT NULL,
            PRIMARY KEY (name, row_id)
        )""",
        """CREATE TABLE IF NOT EXISTS monitor_events (
            id {serial_pk},
            name TEXT NOT NULL,
            time {real} NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS monitor_events_name ON monitor_events (name, time)",
    ),
    # 4 -> 5: runs by tag key, so "are there any reproductions?" (tag `reproduces`), asked by
    # every runs() listing, costs one index probe instead of a scan of all runs.
    4: ("CREATE INDEX IF NOT EXISTS tags_key_value ON tags (key, value)",),
    # 5 -> 6: leases, so that schedulers on one store (or, on a server database, on several
    # hosts) never start the same firing twice. A row is held by ``holder`` until ``expires``
    # (epoch seconds); the holder renews it by heartbeat, anyone may take it once it expired.
    5: (
        """CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            acquired {real} NOT NULL,
            expires {real} NOT NULL
        )""",
    ),
    # 6 -> 7: metrics, the one table without a key, number their rows (in insertion order), so
    # that `store migrate` copies every table by its key: a second or resumed copy leaves the
    # rows already there alone instead of duplicating every curve.
    6: (
        *_with_id(
            "metrics",
            "run_id TEXT NOT NULL, key TEXT NOT NULL, step {bigint} NOT NULL, value {real},"
            " time {real} NOT NULL",
            "run_id, key, step, value, time",
            "time",
        ),
        "CREATE INDEX IF NOT EXISTS metrics_run_key ON metrics (run_id, key, step)",
    ),
    # 7 -> 8: model pins. A rollback (or `models pin`) holds a model at a version: automated
    # runs register candidates but do not bless until it is unpinned or ``until`` passes. One
    # row per pinned model; the bless transaction reads it, so a pin and a bless never race.
    7: (
        """CREATE TABLE IF NOT EXISTS model_pins (
            name TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            origin TEXT NOT NULL,
            actor TEXT,
            reason TEXT,
            since {real} NOT NULL,
            until {real}
        )""",
    ),
    # 8 -> 9: the notification outbox. A notification is written here when its run ends and
    # delivered by whichever sender (scheduler, Jupyter server, CLI) gets to it, at least once:
    # ``id`` is the idempotency key receivers see. A sender claims a due row by moving its
    # ``next_attempt`` past the claim's expiry (``claimed_by`` says who), so a sender killed
    # mid-delivery leaves the row due again instead of lost.
    8: (
        """CREATE TABLE IF NOT EXISTS notifications (
            id TEXT PRIMARY KEY,
            created {real} NOT NULL,
            event TEXT NOT NULL,
            channel TEXT NOT NULL,
            target TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt {real} NOT NULL,
            last_error TEXT,
            status TEXT NOT NULL,
            delivered {real},
            claimed_by TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS notifications_due ON notifications (status, next_attempt)",
        "CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created)",
    ),
    # 9 -> 10: tags of any length (up to MAX_TAG_VALUE) on PostgreSQL, whose btree refuses an
    # entry over ~2.7 kB: the index holds the dialect's {tag_value_key} (md5 of the value there,
    # the value itself in SQLite), and equality filters compare it too. The background writer's
    # journal marks (store/journal.py): how far each spilled journal was written, kept in the
    # transaction that writes its records, so a replay after a crash never writes one twice.
    9: (
        "DROP INDEX IF EXISTS tags_key_value",
        "CREATE INDEX IF NOT EXISTS tags_key_value ON tags (key, {tag_value_key})",
        """CREATE TABLE IF NOT EXISTS journal_marks (
            journal TEXT PRIMARY KEY,
            position {bigint} NOT NULL
        )""",
    ),
    # 10 -> 11: what users attach to a model version, as MLflow's registry has it: a
    # description (a column: one per version), aliases (one row per name and alias, pointing at
    # one version; setting it again moves it) and tags (key/value per version). Each change is
    # also a model_events row, like a bless.
    10: (
        "ALTER TABLE model_versions ADD COLUMN description TEXT",
        """CREATE TABLE IF NOT EXISTS model_aliases (
            name TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (name, alias)
        )""",
        """CREATE TABLE IF NOT EXISTS model_tags (
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (name, version, key)
        )""",
    ),
    # 11 -> 12: a monitor's evaluation reads only its window. Labels by the time they came
    # (the performance window), a batch's predictions by its id (the per-batch window), and a
    # version's batches by time (its drift window; its first batch, which bins the others when
    # it has no training profile): index probes, so neither an evaluation nor predict's
    # look-up of the bins grows with the history kept.
    11: (
        "CREATE INDEX IF NOT EXISTS monitor_labels_time ON monitor_labels (name, time)",
        "CREATE INDEX IF NOT EXISTS monitor_predictions_batch"
        " ON monitor_predictions (name, batch_id)",
        "CREATE INDEX IF NOT EXISTS monitor_batches_version"
        " ON monitor_batches (name, version, time)",
    ),
    # 12 -> 13: serving. A version's input contract (its signature, recorded at registration,
    # and the policy for a request that breaks it), and staged rollouts: one row per canary
    # (its spec and state as JSON, a revision for compare-and-set so two schedulers never
    # double-step), and each look at it with its decision and evidence.
    12: (
        """CREATE TABLE IF NOT EXISTS model_signatures (
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            signature TEXT NOT NULL,
            policy TEXT NOT NULL,
            PRIMARY KEY (name, version)
        )""",
        """CREATE TABLE IF NOT EXISTS rollouts (
            name TEXT NOT NULL,
            candidate INTEGER NOT NULL,
            baseline INTEGER NOT NULL,
            state TEXT NOT NULL,
            spec TEXT NOT NULL,
            step INTEGER NOT NULL,
            share {real} NOT NULL,
            started {real} NOT NULL,
            updated {real} NOT NULL,
            revision INTEGER NOT NULL,
            PRIMARY KEY (name, candidate)
        )""",
        """CREATE TABLE IF NOT EXISTS rollout_looks (
            name TEXT NOT NULL,
            candidate INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            time {real} NOT NULL,
            decision TEXT NOT NULL,
            evidence TEXT NOT NULL,
            PRIMARY KEY (name, candidate, seq)
        )""",
    ),
}
