"""`admin window open` and `admin window close` say what the act means and ask first, as the
office's pages do (office/templates/round_open.html, round_close.html). Opening: which window
opens, until when, what the window before holds, that it cannot be undone. Closing: which
window closes, when it opened and until when it was open, how many applications came, that a
closed window is never reopened. A no (or no answer) changes nothing; `--yes` does not ask;
the yes acts on the window the question named or on nothing. The two commands behave alike,
so each test but the race's runs for both."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, admin, admin_window, app
from core.bootstrap import open_core
from core.services import activity, allocation, municipalities
from core.services.applications import ApplicationInput, submit_application
from tests.factories import make_cf, make_town

_register()
runner = CliRunner()


@dataclass(frozen=True)
class Act:
    """What one of the two commands says and does, in English and in Italian."""

    verb: str
    facts: tuple[str, ...]
    question: str
    nothing: str
    done: str
    refusal: str
    # What the question names, never said when the refusal comes first.
    named: str
    before: dict[int, bool]
    after: dict[int, bool]
    facts_it: tuple[str, ...]
    question_it: str
    nothing_it: str


OPEN = Act(
    verb="open",
    facts=(
        "Window 2 opens now and accepts applications until ",
        "It lasts 4 days.",
        "From the moment you open it, citizens apply in the chat and by SMS",
        "The determina, the credit and the paper applications then work on window 2 only",
        "Window 1 stays as it is: 2 applications, tranches approved €100,000.00, credited "
        "€300.00. Its figures stay in its transparency report ('admin report TST --window 1').",
        "An opened window cannot be undone: it can only be closed early, and a closed window "
        "is never reopened.",
    ),
    question="Open window 2 now? [y/N]:",
    nothing="Nothing was opened.",
    done="TST: application window 2 open until ",
    refusal="(window.already_open)",
    named="Window 3",
    before={1: False},
    after={1: False, 2: True},
    facts_it=(
        "Il bando 2 si apre ora e accetta domande fino al ",
        "Il bando 1 resta com'è: 2 domande, tranche approvate 100.000,00 €",
    ),
    question_it="Apro ora il bando 2? [s/N]:",
    nothing_it="Non è stato aperto nulla.",
)
CLOSE = Act(
    verb="close",
    facts=(
        "Window 2 opened on ",
        " and is open until ",
        "1 application so far.",
        "From the moment you close it, no application is accepted any more: not in the chat, "
        "not by SMS, not from a paper import.",
        "A closed window cannot be reopened: whoever has not applied yet can only apply in a "
        "new window, which is a new bando.",
        "After closing, you prepare the determina on the applications received.",
    ),
    question="Close window 2 now? [y/N]:",
    nothing="Nothing was closed.",
    done="TST: application window 2 closed.",
    refusal="(window.not_open)",
    named="Window 2 opened",
    before={1: False, 2: True},
    after={1: False, 2: False},
    facts_it=("Il bando 2 è aperto dal ", "1 domanda finora."),
    question_it="Chiudo ora il bando 2? [s/N]:",
    nothing_it="Non è stato chiuso nulla.",
)


@pytest.fixture(params=[OPEN, CLOSE], ids=lambda act: act.verb)
def act(request: pytest.FixtureRequest, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Act:
    """TST, its window 1 closed with two households credited 150 € each out of a tranche
    of 100.000 €; to close, window 2 open for a day with three days to go and one
    application. The office reads English; the real clock (the commands use it)."""
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    chosen: Act = request.param

    async def build() -> None:
        core = await open_core(database_url)
        try:
            await make_town(core, citizens=2)
            if chosen is CLOSE:
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
    return chosen


def invoke(*args: str, answer: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=answer)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, " ".join(result.output.split())


def state(url: str, act: Act) -> tuple[dict[int, bool], list[tuple[str, Any, Any]]]:
    """Each window by number and whether it is open now; the act's entries in the activity
    log (subject, before, after)."""

    async def read() -> tuple[dict[int, bool], list[tuple[str, Any, Any]]]:
        core = await open_core(url)
        try:
            async with core.uow() as uow:
                town = await municipalities.require(uow, "TST")
                rounds = {
                    r.number: municipalities.is_open(r, core.now())
                    for r in await uow.rounds.of_municipality(town.id)
                }
                log = await activity.entries(uow, town.id)
                return rounds, [
                    (e.subject, e.before, e.after) for e in log if e.action == f"window.{act.verb}"
                ]
        finally:
            await core.close()

    return asyncio.run(read())


def test_answering_no_changes_nothing(act: Act, database_url: str) -> None:
    code, output = invoke("admin", "window", act.verb, "TST", answer="n\n")
    assert code == 1, output
    for fact in act.facts:
        assert fact in output, (fact, output)
    assert act.question in output
    assert output.endswith(act.nothing), output
    assert act.done not in output
    assert state(database_url, act) == (act.before, [])
    # No answer at all (the end of the input, a script without --yes) is a no too.
    code, output = invoke("admin", "window", act.verb, "TST", answer="")
    assert code == 1 and output.endswith(act.nothing), output
    assert state(database_url, act) == (act.before, [])


@pytest.mark.parametrize(
    ("act", "option", "said"),
    [
        (OPEN, ("--days", "3"), ("Window 2 opens now", "It lasts 3 days.")),
        (CLOSE, ("--by", "anna"), ("Window 2 opened on ", "1 application so far.")),
    ],
    indirect=["act"],
    ids=["open", "close"],
)
def test_answering_yes_does_what_was_said(
    act: Act, option: tuple[str, ...], said: tuple[str, ...], database_url: str
) -> None:
    code, output = invoke("admin", "window", act.verb, "TST", *option, answer="y\n")
    assert code == 0, output
    for fact in said:
        assert fact in output, (fact, output)
    assert act.question in output
    assert act.done in output
    windows, log = state(database_url, act)
    assert windows == act.after
    [(subject, before, after)] = log
    assert subject == "TST 2" and "closes_at" in after
    # Closing records when the window was to close before it was closed now.
    assert (before is not None and "closes_at" in before) is (act is CLOSE)


def test_yes_acts_without_asking_and_still_says_what_it_does(act: Act, database_url: str) -> None:
    code, output = invoke("admin", "window", act.verb, "TST", "--yes")
    assert code == 0, output
    for fact in act.facts:
        assert fact in output, (fact, output)
    assert "now? [y/N]" not in output
    assert act.done in output
    windows, log = state(database_url, act)
    assert windows == act.after and [entry[0] for entry in log] == ["TST 2"]


def test_a_refusal_comes_before_the_question(act: Act, database_url: str) -> None:
    assert invoke("admin", "window", act.verb, "TST", "--yes")[0] == 0
    code, output = invoke("admin", "window", act.verb, "TST", answer="y\n")
    assert code == 2 and act.refusal in output, output
    assert "now? [y/N]" not in output and act.named not in output
    windows, log = state(database_url, act)
    assert windows == act.after and [entry[0] for entry in log] == ["TST 2"]


def test_the_office_is_asked_in_italian(
    act: Act, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke("admin", "window", act.verb, "TST", answer="no\n")
    assert code == 1, output
    for fact in act.facts_it:
        assert fact in output, (fact, output)
    assert act.question_it in output
    assert output.endswith(act.nothing_it), output
    assert state(database_url, act) == (act.before, [])


def test_the_office_answers_in_its_own_words(
    act: Act, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Italian office answers "s" or "sì", which click's y/n would refuse; an answer that
    is neither is asked again, not read as a no or a yes."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke("admin", "window", act.verb, "TST", answer="boh\nno\n")
    assert code == 1 and output.count(act.question_it) == 2, output
    assert state(database_url, act) == (act.before, [])
    code, output = invoke("admin", "window", act.verb, "TST", answer="sì\n")
    assert code == 0, output
    assert state(database_url, act)[0] == act.after


def answered_after(meanwhile: Any) -> Any:
    """admin.confirmed, answered only once `meanwhile` has run in another process's stead
    (the command's own loop is running: the office's page is another process)."""
    asked = admin.confirmed

    def answer(question: Any) -> bool:
        with ThreadPoolExecutor(1) as other:
            other.submit(asyncio.run, meanwhile()).result()
        return asked(question)

    return answer


@pytest.mark.parametrize("act", [OPEN], indirect=True, ids=["open"])
def test_a_window_opened_and_closed_meanwhile_is_not_opened_in_its_place(
    act: Act, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the question waits, the office's page opens window 2 and closes it: the yes
    was for window 2, so window 3 is not opened in its place; the refusal says why."""

    async def from_the_page() -> None:
        core = await open_core(database_url)
        try:
            async with core.uow() as uow:
                place = await municipalities.require(uow, "TST")
                await municipalities.open_window(uow, place, core.now(), expected_number=2)
                await uow.commit()
            async with core.uow() as uow:
                place = await municipalities.require(uow, "TST")
                await municipalities.close_window(uow, place, core.now())
                await uow.commit()
        finally:
            await core.close()

    # Held where the window commands read it (admin_window imports it from admin).
    monkeypatch.setattr(admin_window, "confirmed", answered_after(from_the_page))
    code, output = invoke("admin", "window", "open", "TST", answer="y\n")
    assert code == 2, output
    assert "Open window 2 now? [y/N]:" in output
    assert (
        "Nothing was opened: window 2 is no longer the next one, because a window was opened "
        "or closed in the meantime (the next is now window 3). Look again at what opening it "
        "means. (window.changed)"
    ) in output, output
    assert "open until" not in output
    assert state(database_url, act)[0] == {1: False, 2: False}


@pytest.mark.parametrize("act", [CLOSE], indirect=True, ids=["close"])
def test_a_window_closed_and_another_opened_meanwhile_is_not_closed_in_its_place(
    act: Act, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the question waits, a colleague closes window 2 from the office's page and
    opens window 3: the yes was for window 2, so window 3 stays open; the refusal says why."""

    async def from_the_page() -> None:
        core = await open_core(database_url)
        try:
            async with core.uow() as uow:
                place = await municipalities.require(uow, "TST")
                await municipalities.close_window(uow, place, core.now(), expected_number=2)
                await uow.commit()
            async with core.uow() as uow:
                # Window 2's tranche approved and credited, so that window 3 may open.
                place = await municipalities.require(uow, "TST")
                await allocation.approve(uow, place, 500_00, core.now())
                await allocation.credit(uow, place, core.now())
                await municipalities.open_window(uow, place, core.now(), expected_number=3)
                await uow.commit()
        finally:
            await core.close()

    # Held where the window commands read it (admin_window imports it from admin).
    monkeypatch.setattr(admin_window, "confirmed", answered_after(from_the_page))
    code, output = invoke("admin", "window", "close", "TST", answer="y\n")
    assert code == 2, output
    assert "Close window 2 now? [y/N]:" in output
    assert "Nothing was closed: window 2 is no longer the open one" in output, output
    assert "(window.changed)" in output
    assert "application window 2 closed" not in output
    assert state(database_url, act) == ({1: False, 2: False, 3: True}, [])
