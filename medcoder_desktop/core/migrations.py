"""Named, recorded schema migrations for the product's SQLite databases.

Each migration is a function taking a sqlite-utils ``Database``; it runs once, in its own
transaction, and its name is recorded in ``_migrations``. Ten lines do what we need, so no
migration framework is pulled in (sqlite-migrate is still alpha).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlite_utils

from medcoder_desktop.core.clock import now

Migration = Callable[[sqlite_utils.Database], None]


def applied(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations already applied, oldest first."""
    if "_migrations" not in db.table_names():
        return []
    return [r["name"] for r in db.query("select name from _migrations order by id")]


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not applied yet; return the names applied now."""
    db.execute(
        "create table if not exists _migrations "
        "(id integer primary key, name text unique not null, applied_at text not null)"
    )
    done = set(applied(db))
    now_applied = []
    for fn in migrations:
        if fn.__name__ in done:
            continue
        with db.conn:
            fn(db)
            db.execute(
                "insert into _migrations (name, applied_at) values (?, ?)",
                [fn.__name__, now()],
            )
        now_applied.append(fn.__name__)
    return now_applied
