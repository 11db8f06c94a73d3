"""The predicates of phone_changes' partial unique indexes are the repository's: one
expression each (m.PENDING_REQUEST, m.WAITING_REQUEST), so what the database refuses and
what the services look for cannot drift apart. (tests/integration/test_request_identity.py
checks the same against a migrated database's own index.)"""

from __future__ import annotations

import pytest
from sqlalchemy import ColumnElement, Index, select
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect

from core.storage import models as m
from core.storage.office_repositories import _pending

DIALECTS: list[Dialect] = [SQLiteDialect(), PGDialect()]  # type: ignore[no-untyped-call]


def _index(name: str) -> Index:
    table = m.Base.metadata.tables["phone_changes"]
    return next(index for index in table.indexes if index.name == name)


def _sql(clause: ColumnElement[bool], dialect: Dialect) -> str:
    return str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("uq_phone_changes_waiting", _pending()),
        ("uq_phone_changes_waiting_phone", m.WAITING_REQUEST),
    ],
)
def test_the_index_where_is_the_querys_predicate(
    dialect: Dialect, name: str, query: ColumnElement[bool]
) -> None:
    where = _index(name).dialect_options[dialect.name]["where"]
    assert where is not None
    assert _sql(where, dialect) == _sql(query, dialect)


def test_the_pending_predicate_says_the_rule() -> None:
    said = _sql(m.PENDING_REQUEST, SQLiteDialect())
    assert said == (
        "phone_changes.status = 'waiting' OR phone_changes.kind = 'card' "
        "AND phone_changes.status = 'approved' AND phone_changes.handed_at IS NULL"
    )
    # Beside another condition its OR stays inside parentheses.
    query = select(m.PhoneChange.id).where(m.PhoneChange.citizen_id == 1, _pending())
    compiled = str(query.compile(dialect=SQLiteDialect(), compile_kwargs={"literal_binds": True}))
    assert "citizen_id = 1 AND (phone_changes.status = 'waiting' OR " in compiled
