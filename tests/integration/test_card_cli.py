"""`admin card`, `admin cards` and `admin citizen delegate`, end to end on a SQLite file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from buonispesa.cli import app
from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE
from core.bootstrap import Core
from core.domain.errors import NotFound
from core.services import charges
from core.storage.engine import make_engine
from tests import card_reader
from tests.cli_runner import runner, sqlite_file
from tests.factories import make_cf

HOLDER = DEMO_CITIZENS[0]
DELEGATE = "3471234567"


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_OPERATOR", "Bianchi")  # nobody's office username


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_file(tmp_path, monkeypatch)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return url


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def read_card(path: Path) -> tuple[str, list[str]]:
    """The card page: its text and its QR codes."""
    return card_reader.read_card(path.read_bytes())


PIN = re.compile(r"\b(\d{3} \d{3})\b")


def printed(path: Path) -> tuple[str, str]:
    """(card number, PIN): the number on the card page, the PIN on the slip page only."""
    (card, _), (slip, slip_codes) = card_reader.read_pages(path.read_bytes())
    number = re.search(r"\b([A-Z0-9]{4} [A-Z0-9]{4} [A-Z0-9]{2})\b", card)
    pin = PIN.search(slip)
    assert number and pin, (card, slip)
    assert PIN.search(card) is None and slip_codes == []
    assert number.group(1) not in slip and number.group(1)[-2:] in slip
    return number.group(1).replace(" ", ""), pin.group(1).replace(" ", "")


def find(url: str, reference: str) -> int:
    async def run() -> int:
        core = Core(engine=make_engine(url))
        try:
            async with core.uow() as uow:
                town = await uow.municipalities.by_code(DEMO_CODE)
                assert town is not None
                return (await charges.find_citizen(uow, town.id, reference)).id
        finally:
            await core.close()

    return asyncio.run(run())


def approved_card(*extra: str) -> str:
    """The demo clerk asks the holder's card and the demo manager approves it (four eyes);
    returns the request's number."""
    status, output = invoke(
        "admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", "unused.pdf",
        "--by", "bel.clerk", *extra,
    )  # fmt: skip
    assert status == 0 and "Nothing was written" in output, output
    number = re.search(r"is request (\d+)", output)
    assert number is not None, output
    approve = ["admin", "citizen", "phone-change", "approve", DEMO_CODE, number.group(1)]
    status, output = invoke(*approve, "--by", "bel.clerk")
    assert status == 2 and "(operator.role_refused)" in output
    status, output = invoke(*approve, "--by", "bel.manager")
    assert status == 0 and "approved" in output, output
    return number.group(1)


def test_card_with_pin_then_reissue(database: str, tmp_path: Path) -> None:
    first = tmp_path / "card.pdf"
    # The holder has vouchers: no card without a second operator, whoever runs this.
    status, output = invoke("admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", str(first))
    assert status == 2 and "(card.needs_approval)" in output and not first.exists()
    approved_card()
    assert not Path("unused.pdf").exists()
    status, output = invoke(
        "admin", "card", DEMO_CODE, HOLDER.codice_fiscale.lower(), "--out", str(first),
        "--by", "bel.clerk",
    )  # fmt: skip
    assert status == 0, output
    text, codes = read_card(first)
    number, pin = printed(first)
    assert codes == [number]  # no Telegram: the QR carries the card number
    assert number in output and pin not in output  # the PIN is only on paper
    assert pin not in text  # and not on the card: on its slip
    assert HOLDER.codice_fiscale not in text and HOLDER.codice_fiscale[:6] in text
    assert "t.me" not in text

    again = tmp_path / "again.pdf"
    status, output = invoke(
        "admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", str(again),
        "--by", "bel.manager",
    )  # fmt: skip
    assert status == 2 and "--reissue" in output and "(card.already_issued)" in output
    assert not again.exists()

    second = tmp_path / "new.pdf"
    approved_card("--reissue")
    status, output = invoke(
        "admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--reissue", "--out", str(second),
        "--by", "bel.manager",
    )  # fmt: skip
    assert status == 0, output  # printed by the manager who approved it
    new_number, _ = printed(second)
    assert new_number != number
    assert find(database, new_number) == find(database, HOLDER.codice_fiscale)
    with pytest.raises(NotFound):
        find(database, number)

    status, output = invoke("admin", "cards", DEMO_CODE)
    assert status == 0 and new_number in output and "active" in output
    assert "Codes left" in output and "30" in output and "PIN only" not in output
    assert "Wrong codes (24 h)" in output and "PIN" not in output  # a card with codes
    status, output = invoke("admin", "cards", DEMO_CODE, "--pin-only")
    assert status == 0 and new_number not in output and "Cards with only a PIN" not in output


def test_old_cards_with_only_a_pin_are_listed_to_reissue(database: str, tmp_path: Path) -> None:
    """A card issued before the grids (no card_codes rows) keeps its PIN; the office's
    list names it, to reissue."""
    out = tmp_path / "card.pdf"
    approved_card()
    status, output = invoke(
        "admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", str(out), "--by", "bel.clerk"
    )
    assert status == 0, output
    number, _ = printed(out)

    async def drop_grid() -> None:
        from sqlalchemy import delete

        from core.storage import models as m

        core = Core(engine=make_engine(database))
        try:
            async with core.uow() as uow:
                await uow.session.execute(delete(m.CardCode))
                await uow.commit()
        finally:
            await core.close()

    asyncio.run(drop_grid())
    status, output = invoke("admin", "cards", DEMO_CODE, "--pin-only")
    assert status == 0 and number in output and "PIN only: reissue" in output
    assert "Cards with only a PIN: 1." in output and "--reissue" in output


def test_card_with_a_telegram_deep_link(database: str, tmp_path: Path) -> None:
    out = tmp_path / "card.pdf"
    approved_card()
    status, output = invoke(
        "admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", str(out),
        "--bot-username", "@comune_bot", "--lang", "it", "--by", "bel.clerk",
    )  # fmt: skip
    assert status == 0, output
    text, codes = read_card(out)
    number, _ = printed(out)
    assert codes == [f"https://t.me/comune_bot?start={number}"]
    assert "Carta buoni spesa" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RSSMRA85T10A739X"], "not a valid codice fiscale"),
        ([HOLDER.codice_fiscale, "--out", "x.png"], ".pdf"),
        ([HOLDER.codice_fiscale, "--bot-username", "no"], "not a Telegram bot username"),
        ([HOLDER.codice_fiscale, "--lang", "fr"], "--lang"),
        ([make_cf(9)], "Nobody with this codice fiscale"),
    ],
)
def test_bad_input_writes_nothing(
    database: str, tmp_path: Path, args: list[str], message: str
) -> None:
    argv = ["admin", "card", DEMO_CODE, *args]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "card.pdf")]
    status, output = invoke(*argv)
    assert status == 2 and message in output, output
    assert not (tmp_path / "card.pdf").exists()
    assert "Traceback" not in output


def test_delegate_add_refuse_and_remove(database: str) -> None:
    cf = HOLDER.codice_fiscale
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf, DELEGATE)
    assert status == 2 and "(delegate.needs_approval)" in output, output
    status, output = invoke(
        "admin", "citizen", "delegate", DEMO_CODE, cf, DELEGATE, "--by", "bel.clerk"
    )
    assert status == 0 and "***567" in output and "is request" in output, output
    number = re.search(r"is request (\d+)", output)
    assert number is not None
    status, output = invoke(
        "admin", "citizen", "phone-change", "approve", DEMO_CODE, number.group(1),
        "--by", "bel.manager",
    )  # fmt: skip
    assert status == 0 and "Delegate ***567 registered" in output, output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf, "3470000001")
    assert status == 2 and "(delegate.already)" in output
    other = DEMO_CITIZENS[1].codice_fiscale
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, other, DELEGATE)
    assert status == 2 and "(delegate.phone_taken)" in output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, other, "12")
    assert status == 2 and "phone" in output and "Traceback" not in output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf)
    assert status == 2 and "--remove" in output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf, "--remove")
    assert status == 2 and "the one to remove" in output
    # --remove removes the delegate PHONE names, never another one (replaced meanwhile).
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf, "3470000001", "--remove")
    assert status == 2 and "delegate is ***567, not the number you gave" in output, output
    assert "nothing was done" in output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf, DELEGATE, "--remove")
    assert status == 0 and "removed" in output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, cf, DELEGATE, "--remove")
    assert status == 2 and "(delegate.none)" in output


def test_a_delegate_registered_at_once_is_refused_a_number_a_request_names(
    database: str,
) -> None:
    """`admin citizen delegate` and `admin citizen phone` without an office operator (a
    citizen with nothing to spend) refuse a number another household's waiting request
    names, as asking it would; withdrawn, the request frees the number."""
    status, output = invoke(
        "admin", "citizen", "delegate", DEMO_CODE, HOLDER.codice_fiscale, DELEGATE,
        "--by", "bel.clerk",
    )  # fmt: skip
    number = re.search(r"is request (\d+)", output)
    assert status == 0 and number is not None, output
    nothing_to_spend = DEMO_CITIZENS[3].codice_fiscale
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, nothing_to_spend, DELEGATE)
    assert status == 2 and "(request.number_asked)" in output, output
    assert f"***567 is already asked for another household (request {number.group(1)})" in output
    assert "admin citizen phone-change withdraw" in output and "Traceback" not in output
    # Nor is it given at once as that citizen's own phone.
    status, output = invoke("admin", "citizen", "phone", DEMO_CODE, nothing_to_spend, DELEGATE)
    assert status == 2 and "(request.number_asked)" in output, output
    status, output = invoke(
        "admin", "citizen", "phone-change", "withdraw", DEMO_CODE, number.group(1),
        "--reason", "asked for the wrong household", "--by", "bel.clerk",
    )  # fmt: skip
    assert status == 0, output
    status, output = invoke("admin", "citizen", "delegate", DEMO_CODE, nothing_to_spend, DELEGATE)
    assert status == 0 and "Delegate ***567 registered" in output, output


def test_an_empty_list_of_cards_says_so(database: str) -> None:
    """The demo town has printed no card yet: the list says so, and how to print one,
    rather than an empty table; with a filter it says that none matches."""
    status, output = invoke("admin", "cards", DEMO_CODE)
    assert status == 0 and "No card printed yet" in output, output
    assert f"'admin card {DEMO_CODE} CODICE_FISCALE --out FILE.pdf'" in output
    status, output = invoke("admin", "cards", DEMO_CODE, "--blocked")
    assert status == 0 and "No blocked card." in output, output
    status, output = invoke("admin", "cards", DEMO_CODE, "--pin-only")
    assert status == 0 and "No card with only a PIN." in output, output
