"""Repositories and read models (core/storage) are the only place that queries: a service,
a flow, the outbox, an adapter or the composition root neither builds SQL nor reaches
past the unit of work to its database session."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ["core/services", "core/dialogue", "outbox", "bot", "sms", "office", "buonispesa"]
# What these rooms may import from SQLAlchemy: its errors (a unique key taken meanwhile),
# and reading a database URL (the CLI prints it without the password).
ALLOWED = {("sqlalchemy.exc", "*"), ("sqlalchemy.engine", "make_url")}


def _modules() -> list[Path]:
    return sorted(path for room in ROOMS for path in (ROOT / room).rglob("*.py"))


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "sqlalchemy"
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            module = node.module or ""
            found += [
                f"from {module} import {alias.name}"
                for alias in node.names
                if (module, "*") not in ALLOWED and (module, alias.name) not in ALLOWED
            ]
        elif isinstance(node, ast.Attribute) and node.attr == "session":
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "uow") or (
                isinstance(owner, ast.Attribute) and owner.attr == "uow"
            ):
                found.append(f"line {node.lineno}: uow.session")
    return found


def test_the_rooms_are_found() -> None:
    modules = _modules()
    assert len(modules) > 100
    assert ROOT / "core/services/charges/confirming.py" in modules


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_query_outside_storage(path: Path) -> None:
    assert _violations(path) == []


def test_the_check_sees_a_query_and_a_session(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from sqlalchemy import select\n"
        "from sqlalchemy.exc import IntegrityError\n"
        "async def f(uow):\n"
        "    return await uow.session.scalar(select(1))\n"
        "async def g(turn):\n"
        "    await turn.uow.session.flush()\n",
        encoding="utf-8",
    )
    assert _violations(bad) == [
        "from sqlalchemy import select",
        "line 4: uow.session",
        "line 6: uow.session",
    ]
