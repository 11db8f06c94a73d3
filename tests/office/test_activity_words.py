"""Every kind of entry the services write to the activity log reads in the office's
language: no stored key, no action code and no internal fingerprint on the page."""

from __future__ import annotations

import ast
import html
import re
from dataclasses import fields
from pathlib import Path

from buonispesa.cli.admin_municipality import TOWN_DATA_FIELDS
from core.bootstrap import Core
from core.i18n import LANGUAGES, translations
from core.services import activity, municipalities
from core.services.acts import ActKind
from core.services.appeals import AppealStatus
from core.services.applications import Answers
from office.words import ACTION_NAMES, FIELD_NAMES, HIDDEN_FIELDS, UNNAMED_ACTION
from tests.integration.office_helpers import apply, person
from tests.office.conftest import Towns, signed_in
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


def _functions(tree: ast.AST) -> list[ast.AsyncFunctionDef | ast.FunctionDef]:
    return [
        node for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
    ]


def _writer(call: ast.Call, module: str) -> int | None:
    """Where a call that writes an entry takes its action (activity.record, by_operator,
    by_actor, called by name within activity.py; the command line's logged); None for any
    other call."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return WRITERS.get(func.attr) if func.value.id == "activity" else None
    if isinstance(func, ast.Name):
        return (WRITERS if module == "activity.py" else CLI_WRITERS).get(func.id)
    return None


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """A call's argument at `index`, or given by keyword as `name`."""
    if index < len(call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _actions(
    node: ast.expr,
    function: ast.AsyncFunctionDef | ast.FunctionDef,
    tree: ast.Module,
    module: str,
    depth: int = 0,
) -> set[str]:
    """The actions an expression given as a writer's action can be: what _strings reads,
    the values of a dict it is looked up in, the values a name is given in its function
    (`action = "a" if x else "b"`) and, for a parameter of its function, what every call
    of that function in the module passes (a helper such as fund._logged)."""
    found = set(_strings(node))
    if depth > 3:
        return found
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value  # table.get(kind, "default"): the table, below
    if not isinstance(node, ast.Name):
        return found
    for assigned in ast.walk(function):
        if isinstance(assigned, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == node.id for target in assigned.targets
        ):
            value = assigned.value
            values = value.values if isinstance(value, ast.Dict) else [value]
            for item in values:
                found |= _actions(item, function, tree, module, depth + 1)
    parameters = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if node.id in parameters + [a.arg for a in function.args.kwonlyargs]:
        index = parameters.index(node.id) if node.id in parameters else len(parameters) + 99
        for caller in _functions(tree):
            for call in ast.walk(caller):
                if not isinstance(call, ast.Call) or _writer(call, module) is not None:
                    continue
                callee = call.func
                named = callee.id if isinstance(callee, ast.Name) else None
                if isinstance(callee, ast.Attribute):
                    named = callee.attr
                if named != function.name or caller is function:
                    continue
                given = _argument(call, index, node.id)
                if given is not None:
                    found |= _actions(given, caller, tree, module, depth + 1)
    return found


def written() -> tuple[set[str], set[str]]:
    """The actions and the Before/After keys the services write, read from their source:
    the literal keys of the dicts in every function that writes an entry (and in acts.py,
    whose parameters and outcomes are built apart), plus the answers a correction logs."""
    actions: set[str] = set()
    # The town's data `admin municipality set` logs are named in a table, not literals.
    keys = {field.name for field in fields(Answers)} | set(TOWN_DATA_FIELDS)
    for path in [*SERVICES.rglob("*.py"), *COMMANDS.glob("*.py")]:
        if path.name == "logged.py":
            continue
        tree = ast.parse(path.read_text())
        for function in _functions(tree):
            calls = [
                node
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and _writer(node, path.name) is not None
            ]
            for call in calls:
                index = _writer(call, path.name)
                assert index is not None
                argument = _argument(call, index, "action")
                assert argument is not None, ast.unparse(call)
                actions |= _actions(argument, function, tree, path.name)
            if path.name == "activity.py":  # its writers pass on their callers' actions
                continue
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
    # Nowhere on the page, not even as a row's tooltip.
    assert not [action for action in actions if action in text]
    assert "title=" not in text.split("<tbody>")[1]
    assert "impronta" not in text


# Written by earlier versions only: the logs of a town keep them, and they still read.
RETIRED_ACTIONS = {"citizen.delegate"}


def test_every_action_the_services_write_has_a_label_in_both_languages() -> None:
    actions, _ = written()
    assert sorted(actions - ACTION_NAMES.keys()) == []
    # The reading of the source finds every action the office names (but the retired):
    # an action written some way it cannot follow would be missed above.
    assert sorted(ACTION_NAMES.keys() - actions) == sorted(RETIRED_ACTIONS)
    for language in LANGUAGES:
        catalog = translations(language)
        for code in sorted(ACTION_NAMES.keys() | {"unnamed"}):
            msgid = ACTION_NAMES.get(code, UNNAMED_ACTION).msgid
            said = catalog.gettext(msgid)
            assert said and code not in said, (language, code, said)
            if language == "it":
                assert said != msgid, (code, msgid)


async def test_an_action_without_a_label_shows_no_code(
    core: Core, office: OfficeServer, towns: Towns
) -> None:
    """An action a future service writes before it is given a label (and one retired): the
    log and the application's history say it in words, never its code."""
    [protocol] = await apply(towns.bel, person(1, 2))
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        for action in ("charge.confirmed", "citizen.delegate"):
            await activity.record(
                uow, town.id, "bel.clerk", action, subject=protocol, now=core.now()
            )
        await uow.commit()
    browser = await signed_in(office, "bel.clerk")
    for path in ("/office/activity", f"/office/applications/{protocol}"):
        text = html.unescape((await browser.get(path)).text)
        assert "charge.confirmed" not in text and "citizen.delegate" not in text, path
        assert "azione non ancora descritta qui: il registro scaricato la indica" in text, path
        assert "delegato registrato" in text, path
    await browser.post("/office/language", {"lang": "en"})
    text = html.unescape((await browser.get("/office/activity")).text)
    assert "an action not described here yet: the downloaded log names it" in text
    assert "charge.confirmed" not in text
    # The downloaded log keeps the code, beside the words.
    rows = (await browser.get("/office/activity.csv")).text
    assert "charge.confirmed" in rows
