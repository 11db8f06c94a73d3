"""A plan's values reach SQLite as the ORM's column types store them (core/storage/trips.py)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite

from core.storage.models import UTCDateTime
from core.storage.trips import Plan, drive_sqlite, utc

DIALECT = sqlite.dialect()


def as_bound(value: Any) -> Any:
    """What sqlite3 receives for `value` when a plan passes it."""

    def plan() -> Plan[Any]:
        rows = yield "SELECT ?", (value,)
        return rows[0][0]

    return drive_sqlite(sqlite3.connect(":memory:"), plan())


def as_the_orm_stores(value: datetime) -> str:
    utc = UTCDateTime().process_bind_param(value, DIALECT)
    processor = sqlite.DATETIME().bind_processor(DIALECT)  # type: ignore[no-untyped-call]
    assert processor is not None
    text = processor(utc)
    assert isinstance(text, str)
    return text


def test_datetimes_are_stored_as_the_orm_stores_them() -> None:
    for value in [
        datetime(2026, 4, 6, 8, 0, tzinfo=UTC),
        datetime(2026, 4, 6, 8, 0, 0, 5, tzinfo=UTC),
        datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Rome")),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime.now(UTC),
    ]:
        assert as_bound(value) == as_the_orm_stores(value), value


def test_json_and_plain_values() -> None:
    data = {"options": [{"k": "balance", "w": ["saldo"]}], "phone": "+393331234567"}
    assert json.loads(as_bound(data)) == data
    assert as_bound(data) == json.dumps(data)  # the ORM's text, byte for byte
    accented = {"texts": [{"msgid": "Città", "params": {"n": 1.5, "ok": True, "none": None}}]}
    assert as_bound(accented) == json.dumps(accented)
    # The encoder made once (trips._json_text) writes what json.dumps writes.
    odd: dict[str, Any] = {
        "": {},
        "nested": [[], {}, [{"a": []}]],
        "floats": [float("nan"), float("inf"), -0.0, 1e300],
        "ints": [2**70, -1, True, False],
        "quotes": '"\\\n\u2028 ☕',
        "1": None,
    }
    assert as_bound({}) == "{}"
    assert as_bound(odd) == json.dumps(odd)
    with pytest.raises(TypeError):
        as_bound({"a": object()})
    for plain in ["SALDO", "", 0, -15_00, 2**40, 1.5, None, b"\x00\xff"]:
        assert as_bound(plain) == plain
    assert as_bound(True) == 1 and as_bound(False) == 0


def test_a_datetime_converted_again_gives_its_own_text() -> None:
    """The last datetime's text is kept (a plan binds the same `now` several times): the
    same value again, another value in between, and an equal instant written in another
    zone each give what the ORM stores."""
    now = datetime(2026, 12, 6, 6, 0, 0, 1, tzinfo=UTC)
    later = now + timedelta(microseconds=1)
    same_instant = now.astimezone(timezone(timedelta(hours=1)))

    def plan() -> Plan[list[Any]]:
        rows = yield "SELECT ?, ?, ?, ?, ?", (now, now, later, now, same_instant)
        return list(rows[0])

    bound = drive_sqlite(sqlite3.connect(":memory:"), plan())
    expected = [as_the_orm_stores(v) for v in (now, now, later, now, same_instant)]
    assert bound == expected
    assert bound[0] == bound[4]


def utc_as_before(value: datetime | str | None) -> datetime | None:
    """trips.utc before it read SQLite's naive text as UTC in one parse."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_a_datetime_read_back_is_the_same_instant_in_utc() -> None:
    moment = datetime(2026, 4, 6, 21, 30, 15, 123456, tzinfo=UTC)
    texts = [
        as_the_orm_stores(moment),
        as_the_orm_stores(moment.replace(microsecond=0)),
        "2026-04-06 21:30:15",
        "2026-04-06T21:30:15.5",
        "2026-04-06 23:30:15+02:00",
        "2026-04-06T21:30:15Z",
        "2026-04-06",
    ]
    values: list[datetime | str | None] = [
        *texts,
        None,
        moment,
        moment.astimezone(ZoneInfo("Europe/Rome")),
        moment.replace(tzinfo=None),
    ]
    for value in values:
        read = utc(value)
        assert read == utc_as_before(value), value
        assert read is None or read.tzinfo is UTC, value
    assert utc(as_the_orm_stores(moment)) == moment


def test_sqlite_is_sent_an_insert_without_returning() -> None:
    """SQLite runs RETURNING through a temporary table: a one-row INSERT that returns its
    id is sent without it, the id read as the rowid, a skipped row (DO NOTHING) giving
    no row, as RETURNING would have; other statements are sent as they are."""
    connection = sqlite3.connect(":memory:", isolation_level=None)  # no BEGIN traced
    connection.execute(
        "CREATE TABLE t (id INTEGER NOT NULL, k VARCHAR(8), v INTEGER, PRIMARY KEY (id), "
        "UNIQUE (k))"
    )
    sent: list[str] = []
    connection.set_trace_callback(sent.append)
    insert = "INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING RETURNING id"
    update = "UPDATE t SET v = v + 1 WHERE k = ? RETURNING id"

    def plan() -> Plan[list[list[Any]]]:
        return [
            list((yield insert, ("a", 1))),
            list((yield insert, ("b", 2))),
            list((yield insert, ("a", 3))),
            list((yield "INSERT INTO t (k, v) VALUES (?, 0) RETURNING id", ("c",))),
            list((yield update, ("b",))),
        ]

    assert drive_sqlite(connection, plan()) == [[(1,)], [(2,)], [], [(3,)], [(2,)]]
    assert [statement.split(" RETURNING")[0] for statement in sent] == [
        "INSERT INTO t (k, v) VALUES ('a', 1) ON CONFLICT (k) DO NOTHING",
        "INSERT INTO t (k, v) VALUES ('b', 2) ON CONFLICT (k) DO NOTHING",
        "INSERT INTO t (k, v) VALUES ('a', 3) ON CONFLICT (k) DO NOTHING",
        "INSERT INTO t (k, v) VALUES ('c', 0)",
        "UPDATE t SET v = v + 1 WHERE k = 'b'",
    ]
    assert [s.endswith("RETURNING id") for s in sent] == [False] * 4 + [True]
    assert connection.execute("SELECT id, k, v FROM t ORDER BY id").fetchall() == [
        (1, "a", 1),
        (2, "b", 3),
        (3, "c", 0),
    ]
