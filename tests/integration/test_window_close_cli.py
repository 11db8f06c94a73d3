"""`admin window close` says what closing means and asks first, as the office's page does
(office/templates/round_close.html) and as `admin window open` does: which window closes,
when it opened and until when it was open, how many applications came, that a closed window
is never reopened. A no (or no answer) closes nothing; `--yes` does not ask; the yes closes
the window the question named or nothing."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, admin, app
from core.bootstrap import open_core
from core.services import activity, allocation, municipalities
from core.services.applications import ApplicationInput, submit_application
from tests.factories import make_cf, make_town

_register()
runner = CliRunner()


@pytest.fixture
def town(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """TST, its window 1 closed and credited, window 2 open for a day with three days to go
    and one application; the office reads English; the real clock (the commands use it)."""
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")

    async def build() -> None:
        core = await open_core(database_url)
        try:
            await make_town(core, citizens=2)
            async with core.uow() as uow:
                place = await municipalities.require(uow, "TST")
                opened = core.now() - timedelta(days=1)
                await municipalities.open_window(uow, place, opened, days=4, expected_number=2)
                await submit_application(
                    uow,
                    place,
                    ApplicationInput(make_cf(7), "+393332000007", 2, False, False, 0, 0, 0),
                    source="paper",
                    now=opened + timedelta(hours=1),
                )
                await uow.commit()
        finally:
            await core.close()

    asyncio.run(build())
    return "TST"


def invoke(*args: str, answer: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=answer)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, " ".join(result.output.split())


def state(url: str) -> tuple[dict[int, bool], list[tuple[str, Any]]]:
    """Each window by number and whether it is open now; the closings in the activity log,
    with what each says was before."""

    async def read() -> tuple[dict[int, bool], list[tuple[str, Any]]]:
        core = await open_core(url)
        try:
            async with core.uow() as uow:
                town = await municipalities.require(uow, "TST")
                rounds = {
                    r.number: municipalities.is_open(r, core.now())
                    for r in await uow.rounds.of_municipality(town.id)
                }
                log = await activity.entries(uow, town.id)
                return rounds, [(e.subject, e.before) for e in log if e.action == "window.close"]
        finally:
            await core.close()

    return asyncio.run(read())


FACTS = (
    "Window 2 opened on ",
    " and is open until ",
    "1 application so far.",
    "From the moment you close it, no application is accepted any more: not in the chat, not "
    "by SMS, not from a paper import.",
    "A closed window cannot be reopened: whoever has not applied yet can only apply in a new "
    "window, which is a new bando.",
    "After closing, you prepare the determina on the applications received.",
)


def test_answering_no_closes_nothing(town: str, database_url: str) -> None:
    code, output = invoke("admin", "window", "close", town, answer="n\n")
    assert code == 1, output
    for fact in FACTS:
        assert fact in output, (fact, output)
    assert "Close window 2 now? [y/N]:" in output
    assert output.endswith("Nothing was closed."), output
    assert state(database_url) == ({1: False, 2: True}, [])
    # No answer at all (the end of the input, a script without --yes) is a no too.
    code, output = invoke("admin", "window", "close", town, answer="")
    assert code == 1 and output.endswith("Nothing was closed."), output
    assert state(database_url) == ({1: False, 2: True}, [])


def test_answering_yes_closes_the_window_said(town: str, database_url: str) -> None:
    code, output = invoke("admin", "window", "close", town, "--by", "anna", answer="y\n")
    assert code == 0, output
    assert "Window 2 opened on " in output and "1 application so far." in output
    assert "Close window 2 now? [y/N]:" in output
    assert output.endswith("TST: application window 2 closed."), output
    windows, closings = state(database_url)
    assert windows == {1: False, 2: False}
    [(subject, before)] = closings
    assert subject == "TST 2" and "closes_at" in before


def test_yes_closes_without_asking_and_still_says_what_it_closes(
    town: str, database_url: str
) -> None:
    code, output = invoke("admin", "window", "close", town, "--yes")
    assert code == 0, output
    for fact in FACTS:
        assert fact in output, (fact, output)
    assert "now? [y/N]" not in output
    assert output.endswith("TST: application window 2 closed."), output
    assert state(database_url)[0] == {1: False, 2: False}


def test_a_refusal_comes_before_the_question(town: str, database_url: str) -> None:
    assert invoke("admin", "window", "close", town, "--yes")[0] == 0
    code, output = invoke("admin", "window", "close", town, answer="y\n")
    assert code == 2 and "(window.not_open)" in output, output
    assert "now? [y/N]" not in output and "Window 2 opened" not in output
    assert len(state(database_url)[1]) == 1


def test_the_office_is_asked_in_italian(
    town: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke("admin", "window", "close", town, answer="no\n")
    assert code == 1, output
    assert "Il bando 2 è aperto dal " in output and "1 domanda finora." in output
    assert "Chiudo ora il bando 2? [s/N]:" in output
    assert output.endswith("Non è stato chiuso nulla."), output
    code, output = invoke("admin", "window", "close", town, answer="sì\n")
    assert code == 0, output
    assert state(database_url)[0] == {1: False, 2: False}


def test_a_window_closed_and_another_opened_meanwhile_is_not_closed_in_its_place(
    town: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the question waits, a colleague closes window 2 from the office's page and
    opens window 3: the yes was for window 2, so window 3 stays open; the refusal says why."""
    asked = admin.confirmed

    def meanwhile() -> None:
        async def from_the_page() -> None:
            core = await open_core(database_url)
            try:
                async with core.uow() as uow:
                    place = await municipalities.require(uow, town)
                    await municipalities.close_window(uow, place, core.now(), expected_number=2)
                    await uow.commit()
                async with core.uow() as uow:
                    # Window 2's tranche approved and credited, so that window 3 may open.
                    place = await municipalities.require(uow, town)
                    await allocation.approve(uow, place, 500_00, core.now())
                    await allocation.credit(uow, place, core.now())
                    await municipalities.open_window(uow, place, core.now(), expected_number=3)
                    await uow.commit()
            finally:
                await core.close()

        with ThreadPoolExecutor(1) as other:
            other.submit(asyncio.run, from_the_page()).result()

    def answered_after_the_page(question: Any) -> bool:
        meanwhile()
        return asked(question)

    monkeypatch.setattr(admin, "confirmed", answered_after_the_page)
    code, output = invoke("admin", "window", "close", town, answer="y\n")
    assert code == 2, output
    assert "Close window 2 now? [y/N]:" in output
    assert "Nothing was closed: window 2 is no longer the open one" in output, output
    assert "(window.changed)" in output
    assert "application window 2 closed" not in output
    assert state(database_url) == ({1: False, 2: False, 3: True}, [])
