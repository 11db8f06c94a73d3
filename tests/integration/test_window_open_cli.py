"""`admin window open` says what opening means and asks first, as the office's page does
(office/templates/round_open.html): which window opens, until when, what the window before
holds, that it cannot be undone. A no (or no answer) opens nothing; `--yes` does not ask."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, admin, app
from core.bootstrap import open_core
from core.services import activity, municipalities
from tests.factories import make_town

_register()
runner = CliRunner()


@pytest.fixture
def town(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """TST, its window 1 closed with two households credited 150 € each out of a tranche
    of 100.000 €; the office reads English; the real clock (the commands use it)."""
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")

    async def build() -> None:
        core = await open_core(database_url)
        try:
            await make_town(core, citizens=2)
        finally:
            await core.close()

    asyncio.run(build())
    return "TST"


def invoke(*args: str, answer: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=answer)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, " ".join(result.output.split())


def opened(url: str) -> tuple[list[int], list[str]]:
    """The town's windows by number, and the windows its activity log says were opened."""

    async def read() -> tuple[list[int], list[Any]]:
        core = await open_core(url)
        try:
            async with core.uow() as uow:
                town = await municipalities.require(uow, "TST")
                rounds = [r.number for r in await uow.rounds.of_municipality(town.id)]
                log = await activity.entries(uow, town.id)
                return rounds, [e.subject for e in log if e.action == "window.open"]
        finally:
            await core.close()

    return asyncio.run(read())


FACTS = (
    "Window 2 opens now and accepts applications until ",
    "It lasts 4 days.",
    "From the moment you open it, citizens apply in the chat and by SMS",
    "The determina, the credit and the paper applications then work on window 2 only",
    "Window 1 stays as it is: 2 applications, tranches approved €100,000.00, credited "
    "€300.00. Its figures stay in its transparency report ('admin report TST --window 1').",
    "An opened window cannot be undone: it can only be closed early, and a closed window is "
    "never reopened.",
)


def test_answering_no_opens_nothing(town: str, database_url: str) -> None:
    code, output = invoke("admin", "window", "open", town, answer="n\n")
    assert code == 1, output
    for fact in FACTS:
        assert fact in output, (fact, output)
    assert "Open window 2 now? [y/N]:" in output
    assert output.endswith("Nothing was opened."), output
    assert "open until" not in output
    assert opened(database_url) == ([1], [])
    # No answer at all (the end of the input, a script without --yes) is a no too.
    code, output = invoke("admin", "window", "open", town, answer="")
    assert code == 1 and output.endswith("Nothing was opened."), output
    assert opened(database_url) == ([1], [])


def test_answering_yes_opens_the_window_said(town: str, database_url: str) -> None:
    code, output = invoke("admin", "window", "open", town, "--days", "3", answer="y\n")
    assert code == 0, output
    assert "Window 2 opens now" in output and "It lasts 3 days." in output
    assert "Open window 2 now? [y/N]:" in output
    assert "TST: application window 2 open until " in output
    assert opened(database_url) == ([1, 2], ["TST 2"])


def test_yes_opens_without_asking_and_still_says_what_it_opens(
    town: str, database_url: str
) -> None:
    code, output = invoke("admin", "window", "open", town, "--yes")
    assert code == 0, output
    for fact in FACTS:
        assert fact in output, (fact, output)
    assert "now? [y/N]" not in output
    assert "TST: application window 2 open until " in output
    assert opened(database_url) == ([1, 2], ["TST 2"])


def test_a_refusal_comes_before_the_question(town: str, database_url: str) -> None:
    assert invoke("admin", "window", "open", town, "--yes")[0] == 0
    code, output = invoke("admin", "window", "open", town, answer="y\n")
    assert code == 2 and "(window.already_open)" in output, output
    assert "now? [y/N]" not in output and "Window 3" not in output
    assert opened(database_url) == ([1, 2], ["TST 2"])


def test_the_office_is_asked_in_italian(
    town: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke("admin", "window", "open", town, answer="n\n")
    assert code == 1, output
    assert "Il bando 2 si apre ora e accetta domande fino al " in output
    assert "Il bando 1 resta com'è: 2 domande, tranche approvate 100.000,00 €" in output
    assert "Apro ora il bando 2? [s/N]:" in output
    assert output.endswith("Non è stato aperto nulla."), output
    assert opened(database_url) == ([1], [])


def test_the_office_answers_in_its_own_words(
    town: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Italian office answers "s" or "sì", which click's y/n would refuse; an answer that
    is neither is asked again, not read as a no or a yes."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke("admin", "window", "open", town, answer="boh\nno\n")
    assert code == 1 and output.count("Apro ora il bando 2? [s/N]:") == 2, output
    assert opened(database_url) == ([1], [])
    code, output = invoke("admin", "window", "open", town, answer="sì\n")
    assert code == 0, output
    assert opened(database_url) == ([1, 2], ["TST 2"])


def test_a_window_opened_and_closed_meanwhile_is_not_opened_in_its_place(
    town: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the question waits, the office's page opens window 2 and closes it: the yes
    was for window 2, so window 3 is not opened in its place; the refusal says why."""
    asked = admin.confirmed

    def meanwhile() -> None:
        async def from_the_page() -> None:
            core = await open_core(database_url)
            try:
                async with core.uow() as uow:
                    place = await municipalities.require(uow, town)
                    await municipalities.open_window(uow, place, core.now(), expected_number=2)
                    await uow.commit()
                async with core.uow() as uow:
                    place = await municipalities.require(uow, town)
                    await municipalities.close_window(uow, place, core.now())
                    await uow.commit()
            finally:
                await core.close()

        # The command's own loop is running: the office's page is another process.
        with ThreadPoolExecutor(1) as other:
            other.submit(asyncio.run, from_the_page()).result()

    def answered_after_the_page(question: Any) -> bool:
        meanwhile()
        return asked(question)

    monkeypatch.setattr(admin, "confirmed", answered_after_the_page)
    code, output = invoke("admin", "window", "open", town, answer="y\n")
    assert code == 2, output
    assert "Open window 2 now? [y/N]:" in output
    assert (
        "Nothing was opened: window 2 is no longer the next one, because a window was opened "
        "or closed in the meantime (the next is now window 3). Look again at what opening it "
        "means. (window.changed)"
    ) in output, output
    assert "open until" not in output
    assert opened(database_url)[0] == [1, 2]
