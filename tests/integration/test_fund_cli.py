"""`admin fund` end to end: record, show, correct; `admin approve` refused beyond the fund,
with the amounts, and told what is left after an approval."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests import cli_runner
from tests.cli_runner import invoke, steady_clock
from tests.integration.test_admin_cli import applications_csv
from tests.integration.test_tranches_cli import rows_now


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file, the office's sentences in English (the assertions read them), and a
    clock away from midnight (the days the tests write are the commands' days)."""
    steady_clock(monkeypatch)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_OPERATOR", "m.rossi")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    return url


def flat(output: str) -> str:
    return " ".join(output.split())


def closed_window(tmp_path: Path) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    time.sleep(1)  # whole seconds in the CSV: one after the opening, none in the future
    source = applications_csv(tmp_path / "in.csv", rows_now())
    assert invoke("admin", "applications", "import", "BEL", str(source))[0] == 0
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0


def test_a_determina_needs_a_fund_and_stays_within_it(tmp_path: Path) -> None:
    closed_window(tmp_path)
    code, output = invoke("admin", "approve", "BEL", "--budget", "450")
    assert code == 2 and "fund.none" in output
    assert "admin fund record BEL --amount EUR --description TEXT" in flat(output)
    code, output = invoke("admin", "fund", "show", "BEL")
    assert code == 0 and "BEL: no fund recorded." in flat(output)

    code, output = invoke(
        "admin", "fund", "record", "BEL", "--amount", "400", "--description",
        "Fondo di solidarietà alimentare", "--date", "2026-03-20",
    )  # fmt: skip
    assert code == 0 and "Recorded in the fund: €400.00 (entry 1)." in flat(output)
    assert "left €400.00" in flat(output)
    code, output = invoke("admin", "fund", "record", "BEL", "--amount", "0", "--description", "x")
    assert code == 2 and "fund.bad_amount" in output

    code, output = invoke("admin", "approve", "BEL", "--budget", "9999999")
    assert code == 2 and "fund.exceeded" in output
    assert (
        "The budget €9,999,999.00 is more than what is left of the municipality's fund: "
        "€400.00 (fund €400.00, of which €0.00 already committed"
    ) in flat(output)
    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 0 and "Left in the fund for new determine: €50.00." in flat(output)

    # Recorded twice by mistake: taken back with a new entry, never edited.
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "400", "--description", "Bis")[0] == 0
    )
    code, output = invoke("admin", "fund", "correct", "BEL", "2", "--description", "Doppione")
    assert code == 0 and "Entry 2 corrected: €400.00 taken back (entry 3)." in flat(output)
    code, output = invoke(
        "admin", "fund", "correct", "BEL", "1", "--amount", "100", "--description", "Errore"
    )
    assert code == 2 and "fund.below_committed" in output  # 350 € are committed
    code, output = invoke("admin", "fund", "show", "BEL")
    shown = flat(output)
    assert code == 0 and "Fondo di solidarietà alimentare" in shown and "m.rossi" in shown
    assert "-€400.00" in shown and "20/03/2026" in shown  # the day as the office writes it
    assert (
        "BEL: fund €400.00; committed by determine €350.00 (approved €350.00, waiting for "
        "approval €0.00); left €50.00."
    ) in shown


def test_fund_commands_speak_italian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    code, output = invoke(
        "admin", "fund", "record", "BEL", "--amount", "1234,50", "--description", "Stato"
    )
    assert code == 0 and "1.234,50" in output


def rome_today() -> date:
    return cli_runner.now().astimezone(ZoneInfo("Europe/Rome")).date()


def entries_shown() -> str:
    code, output = invoke("admin", "fund", "show", "BEL")
    assert code == 0
    return flat(output)


def test_a_receipt_typed_twice_or_misdated_is_refused_and_nothing_recorded() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    day = (rome_today() - timedelta(days=1)).isoformat()
    receipt = ("admin", "fund", "record", "BEL", "--amount", "1.500,00 €", "--description",
               "prova", "--date", day)  # fmt: skip
    code, output = invoke(*receipt)
    assert code == 0 and "(entry 1)" in output
    shown = entries_shown()
    code, output = invoke(*receipt)
    assert code == 2 and "(fund.duplicate)" in output, output
    assert "Entry 1 already records €1,500.00 received on" in flat(output)
    assert "run the command again with --again" in flat(output)
    assert entries_shown() == shown
    code, output = invoke(*receipt, "--again")
    assert code == 0 and "Recorded in the fund: €1,500.00 (entry 2)." in flat(output)
    assert "left €3,000.00" in flat(output)

    shown = entries_shown()
    tomorrow = (rome_today() + timedelta(days=1)).isoformat()
    for bad, why in (
        ("0001-01-01", "fund.date_too_old"),
        ("2019-12-31", "fund.date_too_old"),
        ("9999-12-31", "fund.date_future"),
        (tomorrow, "fund.date_future"),
    ):
        code, output = invoke(
            "admin", "fund", "record", "BEL", "--amount", "10", "--description", "x", "--date", bad
        )
        assert code == 2 and f"({why})" in output, (bad, output)
        code, output = invoke(
            "admin", "fund", "correct", "BEL", "1", "--amount", "10", "--description", "x",
            "--date", bad,
        )  # fmt: skip
        assert code == 2 and f"({why})" in output, (bad, output)
    assert "is still to come" in flat(output) and "Nothing was recorded." in flat(output)
    assert entries_shown() == shown


def test_a_receipt_s_day_is_read_as_the_office_s_pages_read_it() -> None:
    """--date takes the day as the office's pages do: day/month/year or year-month-day in
    the digits 0-9; an ISO week day, a compact day or other digits are refused, nothing
    recorded."""
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    day = rome_today() - timedelta(days=1)
    code, output = invoke(
        "admin", "fund", "record", "BEL", "--amount", "10", "--description", "a",
        "--date", f"{day:%d/%m/%Y}",
    )  # fmt: skip
    assert code == 0 and "(entry 1)" in output, output
    assert f"{day:%d/%m/%Y}" in entries_shown()
    shown = entries_shown()
    week = f"{day:%G-W%V-%u}"
    digits = f"{day:%d/%m/%Y}".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for bad in (week, f"{day:%Y%m%d}", digits):
        code, output = invoke(
            "admin", "fund", "record", "BEL", "--amount", "20", "--description", "b",
            "--date", bad,
        )  # fmt: skip
        assert code == 2, (bad, output)
        assert "write the day as day/month/year or year-month-day" in flat(output), output
    assert entries_shown() == shown


def test_a_correction_is_corrected_through_its_receipt() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert invoke("admin", "fund", "record", "BEL", "--amount", "400", "--description", "S")[0] == 0
    code, output = invoke(
        "admin", "fund", "correct", "BEL", "1", "--amount", "100", "--description", "Errore"
    )
    assert code == 0 and "(entry 2)" in output
    shown = entries_shown()
    code, output = invoke("admin", "fund", "correct", "BEL", "2", "--description", "Errore")
    assert code == 2 and "(fund.entry_is_correction)" in output
    assert (
        "Entry 2 is a correction of entry 1: to take back more of it, run "
        "'admin fund correct BEL 1'."
    ) in flat(output)
    assert "there is no" not in flat(output).lower()
    code, output = invoke("admin", "fund", "correct", "BEL", "9", "--description", "Errore")
    assert code == 2 and "(fund.entry_not_found)" in output
    assert entries_shown() == shown


def test_the_same_correction_run_twice_is_refused() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert invoke("admin", "fund", "record", "BEL", "--amount", "400", "--description", "S")[0] == 0
    again = ("admin", "fund", "correct", "BEL", "1", "--amount", "100", "--description", "errore")
    code, output = invoke(*again)
    assert code == 0 and "(entry 2)" in output
    shown = entries_shown()
    code, output = invoke(*again)
    assert code == 2 and "(fund.duplicate_correction)" in output
    assert (
        "Entry 2 already takes back €100.00 of entry 1 with this description. Nothing was "
        "taken back: if this is another correction, say why in other words."
    ) in flat(output)
    assert entries_shown() == shown


def test_a_budget_the_rules_cannot_spend_is_typed_twice(tmp_path: Path) -> None:
    closed_window(tmp_path)  # 300 € + 150 €, one excluded
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "1000", "--description", "S")[0] == 0
    )
    code, output = invoke("admin", "approve", "BEL", "--budget", "500")
    assert code == 2 and "(act.budget_unspent)" in output, output
    assert "With the budget €500.00 €50.00 would stay unspent" in flat(output)
    assert "--confirm-budget 500.00" in flat(output)
    # A typo in the confirmation: told as such, not as a budget to type again.
    for typed in ("499", "450"):
        code, output = invoke(
            "admin", "approve", "BEL", "--budget", "500", "--confirm-budget", typed
        )
        assert code == 2 and "(act.budget_mismatch)" in output, output
        assert (
            f"--confirm-budget €{typed}.00 and --budget €500.00 differ: nothing was approved."
        ) in flat(output)
    # A confirmation that is no amount is said of --confirm-budget, not of --budget.
    code, output = invoke("admin", "approve", "BEL", "--budget", "500", "--confirm-budget", "0.250")
    assert code == 2 and "--confirm-budget '0.250':" in flat(output), output
    assert "--budget '0.250'" not in flat(output)
    assert "committed by determine €0.00" in entries_shown()
    code, output = invoke(
        "admin", "approve", "BEL", "--budget", "500", "--confirm-budget", "500,00"
    )
    assert code == 0 and "tranche 1 of window 1 approved" in output, output
    assert "€50.00 would stay unspent" in flat(output)


def test_a_confirmation_that_differs_is_refused_even_when_all_would_be_spent(
    tmp_path: Path,
) -> None:
    """400 € is spent in full (450 € are due): no confirmation was needed, but one that is
    not the budget means a typo in one of them, and which one is not known."""
    closed_window(tmp_path)
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "1000", "--description", "S")[0] == 0
    )
    code, output = invoke("admin", "approve", "BEL", "--budget", "400", "--confirm-budget", "40")
    assert code == 2 and "(act.budget_mismatch)" in output, output
    assert "--confirm-budget €40.00 and --budget €400.00 differ: nothing was approved." in flat(
        output
    )
    assert "committed by determine €0.00" in entries_shown()
    code, output = invoke("admin", "approve", "BEL", "--budget", "400", "--confirm-budget", "400")
    assert code == 0 and "tranche 1 of window 1 approved" in output, output


def test_a_tranche_that_pays_nobody_is_refused_even_confirmed(tmp_path: Path) -> None:
    closed_window(tmp_path)
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "1000", "--description", "S")[0] == 0
    )
    code, output = invoke("admin", "approve", "BEL", "--budget", "450")  # all of it: no confirm
    assert code == 0, output
    assert invoke("admin", "credit", "BEL")[0] == 0
    shown = entries_shown()
    assert "committed by determine €450.00" in shown
    for confirm in ((), ("--confirm-budget", "100")):
        code, output = invoke("admin", "approve", "BEL", "--budget", "100", *confirm)
        assert code == 2 and "(allocation.pays_nobody)" in output, output
        assert "With the budget €100.00 this tranche would pay nobody" in flat(output)
        assert "Nothing was approved." in flat(output)
    assert entries_shown() == shown
    code, output = invoke("admin", "credit", "BEL")
    assert code != 0  # nothing waits to be credited


def test_a_window_nobody_applied_to_approves_no_tranche() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "1000", "--description", "S")[0] == 0
    )
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0
    code, output = invoke("admin", "approve", "BEL", "--budget", "100", "--confirm-budget", "100")
    assert code == 2 and "(allocation.pays_nobody)" in output, output
    assert "committed by determine €0.00" in entries_shown()


def test_a_receipt_or_a_budget_of_a_digit_typo_is_refused(tmp_path: Path) -> None:
    closed_window(tmp_path)
    code, output = invoke(
        "admin", "fund", "record", "BEL", "--amount", "999999999999", "--description", "Stato",
        "--date", "2026-03-20",
    )  # fmt: skip
    assert code == 2 and "fund.amount_implausible" in output
    said = flat(output)
    assert "€999,999,999,999.00 is not a plausible amount: at most €50,000,000.00 per" in said
    code, output = invoke("admin", "fund", "show", "BEL")
    assert code == 0 and "BEL: no fund recorded." in flat(output)
    for text in ("Stato", "Regione"):  # the limit itself, twice: a fund of 100 million
        code, output = invoke(
            "admin", "fund", "record", "BEL", "--amount", "50000000", "--description", text,
            "--date", "2026-03-20",
        )  # fmt: skip
        assert code == 0, output
    code, output = invoke(
        "admin", "approve", "BEL", "--budget", "50000000.01", "--confirm-budget", "50000000.01"
    )
    assert code == 2 and "act.budget_implausible" in output
    assert "€50,000,000.01 is not a plausible budget: at most €50,000,000.00" in flat(output)
    code, output = invoke("admin", "fund", "show", "BEL")
    assert "left €100,000,000.00" in flat(output), output


async def _economia(url: str, amount_cents: int) -> None:
    """An economia prepared by a clerk and approved by a manager, as in the office."""
    from core.bootstrap import open_core
    from core.services import acts, economia, municipalities, operators

    core = await open_core(url, clock=cli_runner.now)
    try:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            clerk, _ = await operators.add_operator(uow, town, "bel.clerk", "clerk", core.now())
            boss, _ = await operators.add_operator(uow, town, "bel.boss", "manager", core.now())
            (rest,) = await economia.rests(uow, town)
            await uow.commit()
        today = core.now().astimezone(ZoneInfo("Europe/Rome")).date().isoformat()
        given = {
            "allocation_id": rest.allocation_id,
            "amount_cents": amount_cents,
            "reference": "det. n. 7/2026",
            "act_on": today,
        }
        async with core.uow() as uow:
            act = await acts.prepare(uow, clerk, acts.ActKind.ECONOMIA, given, core.now())
        async with core.uow() as uow:
            await acts.approve(uow, boss, act.id, core.now())
    finally:
        await core.close()


def _credited_determina_of_500(tmp_path: Path) -> None:
    """A closed window, 1,000 € in the fund, a determina of a 500 € budget approved and
    credited."""
    closed_window(tmp_path)
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "1000", "--description", "Stato")[0]
        == 0
    )
    code, output = invoke(
        "admin", "approve", "BEL", "--budget", "500", "--confirm-budget", "500"
    )  # fmt: skip
    assert code == 0, output
    assert invoke("admin", "credit", "BEL")[0] == 0


def test_fund_show_tells_what_the_determine_left_unassigned_and_what_economie_freed(
    tmp_path: Path, database: str
) -> None:
    # The rules give 450 € of a budget of 500 €: 50 € stay unassigned, and committed.
    _credited_determina_of_500(tmp_path)
    code, output = invoke("admin", "fund", "show", "BEL")
    shown = flat(output)
    assert code == 0 and "What the determine left unassigned" in shown
    assert "Tranche 1 of window 1 │ €500.00 │ €450.00 │ €0.00 │ €50.00" in shown, shown
    assert "left €500.00." in shown and "Economie recorded" not in shown

    asyncio.run(_economia(database, 50_00))

    code, output = invoke("admin", "fund", "show", "BEL")
    shown = flat(output)
    assert "Tranche 1 of window 1 │ €500.00 │ €450.00 │ €50.00 │ €0.00" in shown, shown
    assert "Economie recorded" in shown and "det. n. 7/2026" in shown and "bel.boss" in shown
    assert (
        "BEL: fund €1,000.00; committed by determine €450.00 (approved €450.00, waiting for "
        "approval €0.00); left €550.00."
    ) in shown


def test_an_economia_is_prepared_and_approved_by_two_operators_from_the_command_line(
    tmp_path: Path,
) -> None:
    """`admin fund economia prepare` by a clerk, `approve` by a manager who did not prepare
    it: the rest is freed once, as on the office's Fund page; refused, nothing prepared or
    freed: the preparer approving, someone not an operator, a day before the determina or
    in another shape, more than the rest, a tranche with no determina."""
    _credited_determina_of_500(tmp_path)
    for name, role in (("bel.clerk", "clerk"), ("bel.boss", "manager")):
        assert invoke("admin", "operator", "add", "BEL", name, "--role", role)[0] == 0
    today = rome_today()
    prepare = ("admin", "fund", "economia", "prepare", "BEL", "--tranche", "1",
               "--reference", "det. n. 7/2026", "--by", "bel.clerk")  # fmt: skip
    shown = entries_shown()
    for extra, said in (
        (("--date", f"{today - timedelta(days=1):%d/%m/%Y}"), "(economia.date_before_determina)"),
        (("--date", f"{today:%G-W%V-%u}"), "write the day as day/month/year or year-month-day"),
        (("--date", f"{today:%d/%m/%Y}", "--amount", "50,01"), "(economia.bad_amount)"),
        (("--date", f"{today:%d/%m/%Y}", "--window", "2"), "no determina of tranche 1 of window 2"),
    ):
        code, output = invoke(*prepare, *extra)
        assert code == 2 and said in flat(output), (extra, output)
    code, output = invoke(*prepare[:-1], "nobody", "--date", f"{today:%d/%m/%Y}")
    assert code == 2 and "(operator.not_found)" in output, output
    assert entries_shown() == shown

    code, output = invoke(*prepare, "--date", f"{today:%d/%m/%Y}")
    assert code == 0, output
    assert "Prepared: act 1. Another operator with the manager role must approve it." in flat(
        output
    )
    assert "Free €50.00 of tranche 1 of window 1: det. n. 7/2026 of" in flat(output)
    assert "admin fund economia approve BEL 1 --by MANAGER" in flat(output)
    waiting = entries_shown()  # waiting, it frees nothing, and `fund show` names it
    assert waiting.startswith(shown), waiting
    assert "Economia act 1, prepared by bel.clerk, waits for a manager's approval" in waiting
    assert "Free €50.00 of tranche 1 of window 1: det. n. 7/2026" in waiting

    approve = ("admin", "fund", "economia", "approve", "BEL", "1")
    code, output = invoke(*approve, "--by", "bel.clerk")
    assert code == 2 and "(operator.role_refused)" in output, output  # a clerk does not approve
    assert entries_shown() == waiting
    code, output = invoke(*approve, "--by", "bel.boss")
    assert code == 0, output
    assert "Act 1 approved and carried out." in flat(output)
    assert "Tranche 1 of window 1: €0.00 left unassigned." in flat(output)
    assert "left €550.00." in flat(output)
    code, output = invoke(*approve, "--by", "bel.boss")
    assert code == 2 and "(act.not_open)" in output, output
    shown = entries_shown()
    assert "Tranche 1 of window 1 │ €500.00 │ €450.00 │ €50.00 │ €0.00" in shown, shown
    assert "det. n. 7/2026" in shown and "bel.boss" in shown
    code, output = invoke(*prepare, "--date", f"{today:%d/%m/%Y}")
    assert code == 2 and "(economia.nothing_left)" in output, output


def test_an_economia_prepared_by_a_manager_is_not_approved_by_the_same_manager(
    tmp_path: Path,
) -> None:
    closed_window(tmp_path)
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "1000", "--description", "S")[0] == 0
    )
    assert invoke("admin", "approve", "BEL", "--budget", "500", "--confirm-budget", "500")[0] == 0
    assert invoke("admin", "credit", "BEL")[0] == 0
    assert invoke("admin", "operator", "add", "BEL", "bel.boss", "--role", "manager")[0] == 0
    code, output = invoke(
        "admin", "fund", "economia", "prepare", "BEL", "--tranche", "1", "--reference", "d. 1",
        "--date", f"{rome_today():%Y-%m-%d}", "--by", "bel.boss",
    )  # fmt: skip
    assert code == 0, output
    code, output = invoke("admin", "fund", "economia", "approve", "BEL", "1", "--by", "bel.boss")
    assert code == 2 and "(act.same_person)" in output, output
    code, output = invoke(
        "admin", "fund", "economia", "withdraw", "BEL", "1", "--reason", "doppio", "--by",
        "bel.boss",
    )  # fmt: skip
    assert code == 0 and "Act 1 withdrawn: nothing was freed." in flat(output), output
    assert "€0.00 │ €50.00" in entries_shown()


def test_every_day_option_reads_the_two_shapes_of_the_office_s_pages(tmp_path: Path) -> None:
    """--execution-date of `admin reimburse`, --from and --to of `admin documents statement`
    read a day as --date and the office's pages do: an ISO week day or Arabic-Indic digits
    are refused with the shape to write, nothing written."""
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    sepa, pdf = tmp_path / "x.xml", tmp_path / "x.pdf"
    for bad in ("2026-W49-1", "٠٦/٠٤/٢٠٢٦"):
        for arguments in (
            ("admin", "reimburse", "BEL", "--out", str(sepa), "--execution-date", bad),
            ("admin", "documents", "statement", "BEL", "1", "--from", bad, "--out", str(pdf)),
            ("admin", "documents", "statement", "BEL", "1", "--to", bad, "--out", str(pdf)),
        ):
            code, output = invoke(*arguments)
            assert code == 2, (arguments, output)
            assert "write the day as day/month/year or year-month-day" in flat(output), output
    assert not sepa.exists() and not pdf.exists()
