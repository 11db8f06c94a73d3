"""Every kind of entry the services write to the activity log reads in the office's
language: no stored key, no action code and no internal fingerprint on the page."""

from __future__ import annotations

import ast
import html
import re
from dataclasses import fields
from pathlib import Path

from buonispesa.cli.admin import TOWN_DATA_FIELDS
from core.bootstrap import Core
from core.i18n import translations
from core.services import activity, municipalities
from core.services.acts import ActKind
from core.services.appeals import AppealStatus
from core.services.applications import Answers
from office.words import FIELD_NAMES, HIDDEN_FIELDS
from tests.office.conftest import signed_in
from tests.office.harness import OfficeServer

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "core" / "services"
# The command line logs what it changes itself (buonispesa/cli/logged.py): read it too.
COMMANDS = ROOT / "buonispesa" / "cli"
WRITERS = {"record": 3, "by_operator": 2, "by_actor": 3}
CLI_WRITERS = {"logged": 3}


def _strings(node: ast.AST) -> list[str]:
    """The actions a call's argument can be: literals, both sides of `a if x else b`, the
    values of a dict it is looked up in, and f-strings over the act kinds or appeal outcomes."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.Call):  # action.get(kind, "card.withdraw")
        return [s for arg in node.args for s in _strings(arg)]
    if isinstance(node, ast.JoinedStr):
        text = ast.unparse(node)
        tail = text.split("}")[-1].rstrip("'\"")
        # An appeal is decided upheld or rejected, never "open".
        decided = [s.value for s in AppealStatus if s is not AppealStatus.OPEN]
        values = decided if "status" in text else list(ActKind)
        prefix = "appeal." if "status" in text else ""
        return [f"{prefix}{value}{tail}" for value in values]
    return []


def _dict_keys(tree: ast.AST, names: set[str] | None) -> set[str]:
    """The literal keys of the dicts in `tree`; with `names`, only of the dicts assigned
    (=, |=) to one of those names, and of the keys stored into them (name["key"] = ...)."""
    keys: set[str] = set()
    dicts: list[ast.AST] = []
    for node in ast.walk(tree):
        if names is None:
            if isinstance(node, ast.Dict):
                dicts.append(node)
            continue
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets):
                dicts.append(node.value)
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in names
                    and isinstance(target.slice, ast.Constant)
                    and isinstance(target.slice.value, str)
                ):
                    keys.add(target.slice.value)
    for found in dicts:
        for node in ast.walk(found):
            if isinstance(node, ast.Dict):
                keys |= {
                    k.value
                    for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
    return keys


def written() -> tuple[set[str], set[str]]:
    """The actions and the Before/After keys the services write, read from their source:
    the literal keys of the dicts in every function that writes an entry (and in acts.py,
    whose parameters and outcomes are built apart), plus the answers a correction logs."""
    actions: set[str] = set()
    # The town's data `admin municipality set` logs are named in a table, not literals.
    keys = {field.name for field in fields(Answers)} | set(TOWN_DATA_FIELDS)
    for path in [*SERVICES.glob("*.py"), *COMMANDS.glob("*.py")]:
        if path.name in ("activity.py", "logged.py"):
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            calls = [
                node
                for node in ast.walk(function)
                if isinstance(node, ast.Call)
                and (
                    (
                        isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "activity"
                        and node.func.attr in WRITERS
                    )
                    or (isinstance(node.func, ast.Name) and node.func.id in CLI_WRITERS)
                )
            ]
            lookups = {
                target.id: node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict)
            }
            for call in calls:
                if isinstance(call.func, ast.Name):
                    argument = call.args[CLI_WRITERS[call.func.id]]
                else:
                    assert isinstance(call.func, ast.Attribute)
                    argument = call.args[WRITERS[call.func.attr]]
                if isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute):
                    table = argument.func.value
                    if isinstance(table, ast.Name) and table.id in lookups:
                        actions |= {
                            s for value in lookups[table.id].values for s in _strings(value)
                        }
                actions |= set(_strings(argument))
            if path.name == "acts.py":  # parameters and outcomes, built apart
                keys |= _dict_keys(function, None)
                continue
            for call in calls:
                for keyword in call.keywords:
                    if keyword.arg in ("before", "after"):
                        keys |= _dict_keys(keyword.value, None)
                        names = {n.id for n in ast.walk(keyword.value) if isinstance(n, ast.Name)}
                        keys |= _dict_keys(function, names)
    return actions, keys


def test_the_source_reading_finds_what_it_should() -> None:
    actions, keys = written()
    assert {"card.reissue", "determina.approve", "appeal.upheld", "citizen.delegate_withdraw"} <= (
        actions
    )
    # From the command line's own entries.
    assert {"municipality.set", "outbox.retry", "credit.approve"} <= actions
    assert {"households", "transfers", "cancelled_charges"} <= keys
    assert {"approved_by", "reissue", "state", "budget_cents", "has_pension"} <= keys


async def test_every_kind_of_entry_reads_without_a_stored_key(
    core: Core, office: OfficeServer
) -> None:
    actions, keys = written()
    values = {key: 1 for key in keys}
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        for action in sorted(actions):
            await activity.record(
                uow,
                town.id,
                "bel.clerk",
                action,
                subject="BEL-2026-000001",
                before=values,
                after=values,
                now=core.now(),
            )
        await uow.commit()
    browser = await signed_in(office, "bel.clerk")
    text = html.unescape((await browser.get("/office/activity")).text)
    assert sorted(keys - FIELD_NAMES.keys() - HIDDEN_FIELDS) == []
    italian = translations("it")
    labels = set(re.findall(r"<dt>([^<]*):</dt>", text))
    # A key shown as stored: one whose Italian label is not the key itself ("tranche").
    raw = sorted(k for k in keys & labels if italian.gettext(FIELD_NAMES[k].msgid) != k)
    assert raw == [], raw
    assert not [action for action in actions if f">{action}<" in text]
    assert "impronta" not in text
