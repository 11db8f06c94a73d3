"""A database error's message holds the statement, not its values: what a server logs of a
failed statement carries no codice fiscale or phone (a trial of the server log)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core


async def test_a_failed_statement_does_not_show_its_values(core: Core) -> None:
    async with core.uow() as uow:
        with pytest.raises(DBAPIError) as failed:
            await uow.session.execute(
                text("SELECT * FROM no_such_table WHERE codice_fiscale = :cf"),
                {"cf": "RSSMRA85T10A562S"},
            )
    said = str(failed.value)
    assert "no_such_table" in said
    assert "RSSMRA85T10A562S" not in said
