"""`buonispesa admin card …`: the printed card for citizens without a phone.

`admin card CODE CF --out FILE.pdf` issues a card (a new number and grid of one-time
codes) and writes the pages to print; `--reissue` replaces a lost or blocked card, and
the old number and codes stop working. `admin cards CODE [--blocked] [--pin-only]` lists
the cards, which are blocked, how many codes each has left, and which are old cards with
only a PIN (issued before the grids) that the office should reissue.
docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import Force, admin, out, tell
from buonispesa.cli.common import OPERATOR_VARIABLE, fail, office_language, operator_name, say
from buonispesa.cli.outfile import OutFile
from buonispesa.cli.work import run_with_core, town_work
from core.domain.errors import InvalidIdentifier
from core.domain.messages import Moment, t
from core.i18n import LANGUAGES, format_param

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.storage import models as m


@admin.command("card")
def card(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. BEL")],
    codice_fiscale: Annotated[str, typer.Argument(help="The card holder's codice fiscale")],
    out_file: Annotated[Path, typer.Option("--out", help="The card to print (.pdf)")],
    language: Annotated[str, typer.Option("--lang", help="Language of the card: it or en")] = "it",
    reissue: Annotated[
        bool,
        typer.Option(help="Replace the holder's card: the old number and codes stop working"),
    ] = False,
    bot_username: Annotated[
        str | None,
        typer.Option(
            help="A Telegram bot's @username: the QR opens the bot on the card "
            "(default: the QR carries the card number)"
        ),
    ] = None,
    force: Force = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help=f"your office username, to ask or print a card under four eyes "
            f"(default: ${OPERATOR_VARIABLE})",
        ),
    ] = None,
) -> None:
    """Issue a card and write its PDF to print: the card, then the slip of its codes.

    With --by naming an office operator the card is asked (nothing is written), and a
    manager who did not ask approves it with `citizen phone-change approve`; then the
    operator who asked it, or the approver, runs this again to print it, once. Otherwise
    the card is issued at once, only for a citizen without vouchers to spend."""
    from core.domain.errors import NotFound
    from core.domain.identity import normalize_codice_fiscale
    from core.services import cards, identity, phone_changes

    if out_file.suffix.lower() != ".pdf":
        fail(t("--out: use a .pdf file name, not {name}.", name=repr(out_file.name)))
    target = OutFile(out_file, force=force, personal=True)  # the slip of codes is in it
    target.check()
    if language not in LANGUAGES:
        fail(t("--lang: one of {languages}.", languages=", ".join(LANGUAGES)))
    try:
        cf = normalize_codice_fiscale(codice_fiscale)
    except InvalidIdentifier as error:
        fail(
            t(
                "'{value}' is not a valid codice fiscale ({reason}).",
                value=codice_fiscale,
                reason=error.reason,
            )
        )
    # fpdf and segno only when a card is printed: the other commands start without them.
    from core.documents.card import card_pdf, deep_link

    username = (bot_username or "").lstrip("@")
    if username:
        try:
            deep_link(username, "CARD")
        except ValueError:
            fail(t("--bot-username: {name} is not a Telegram bot username.", name=repr(username)))

    operator = operator_name(by)

    async def work(core: Core) -> cards.CardData | tuple[int, m.PhoneChange | None]:
        async with town_work(core, code) as (uow, town):
            try:
                account = await phone_changes.operator_named(uow, town, operator)
            except NotFound:
                # Not an operator of the office: a card at once, only where nothing can be
                # spent with it yet (cards.issue_card refuses the rest).
                issued = await cards.issue_card(uow, town, cf, core.now(), reissue=reissue)
            else:
                citizen = await identity.office_citizen(uow, town.id, cf)
                if await phone_changes.printable_card(uow, citizen, core.now()) is None:
                    # An approved card past its deadline expires here: a new one is asked.
                    expired = await phone_changes.expire_card(uow, account, citizen, core.now())
                    change = await phone_changes.request_card(
                        uow, account, town, cf, core.now(), reissue=reissue
                    )
                    await uow.commit()
                    return change.id, expired
                issued = await phone_changes.print_card(uow, account, town, citizen, core.now())
            link = deep_link(username, issued.card_code) if username else None
            # The codes exist in clear only here: the file is written before the commit and
            # appears only once it succeeded, so a card on paper always matches the database.
            with target.staged(card_pdf(issued, language, link)):
                await uow.commit()
            return issued

    issued = run_with_core(work)
    if isinstance(issued, tuple):
        asked, expired = issued
        if expired is not None and expired.print_by is not None:
            tell(
                t(
                    "Card request {number} was approved but not printed by {until}: it "
                    "expired, and no card or codes were made.",
                    number=str(expired.id),
                    until=Moment(expired.print_by),
                )
            )
        tell(
            t(
                "The card for {cf} is request {number}, waiting for another operator's "
                "approval ('admin citizen phone-change approve {code} {number} --by "
                "MANAGER'); then print it with this command and --by. Nothing was written.",
                cf=cf,
                number=str(asked),
                code=code,
            )
        )
        return
    tell(
        t(
            "Card {card} ({holder}) written to {file}: print both pages, the card and the "
            "slip of its one-time codes, and give them to the holder in person.",
            card=issued.card_code,
            holder=issued.holder,
            file=str(out_file),
        )
    )


@admin.command("cards")
def cards_list(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. BEL")],
    blocked: Annotated[bool, typer.Option(help="Only the blocked cards")] = False,
    pin_only: Annotated[
        bool,
        typer.Option(help="Only the old cards with a PIN and no grid of codes: to reissue"),
    ] = False,
) -> None:
    """The printed cards: number, holder, wrong codes of the last 24 hours, codes left
    (or an old card with only a PIN, to reissue), blocked or not."""
    from core.services import cards

    async def work(core: Core) -> list[cards.CardStatus]:
        async with town_work(core, code) as (uow, town):
            return await cards.card_statuses(uow, town.id, core.now(), blocked_only=blocked)

    found = run_with_core(work)
    if pin_only:
        found = [item for item in found if item.codes_left is None]
    table = Table(
        say(t("Codice fiscale")),
        say(t("Card number")),
        say(t("Issued")),
        say(t("Wrong codes (24 h)")),
        say(t("Codes left")),
        say(t("Status")),
    )
    for item in found:
        status = (
            say(t("blocked since {when}", when=Moment(item.blocked_at)))
            if item.blocked_at is not None
            else say(t("active"))
        )
        table.add_row(
            item.codice_fiscale,
            item.card_code,
            format_param(Moment(item.issued_at), office_language()) if item.issued_at else "",
            str(item.failures),
            say(t("PIN only: reissue")) if item.codes_left is None else str(item.codes_left),
            status,
        )
    out.print(table)
    if not found:
        if pin_only:
            empty = t("No card with only a PIN.")
        elif blocked:
            empty = t("No blocked card.")
        else:
            empty = t(
                "No card printed yet: 'admin card {town} CODICE_FISCALE --out FILE.pdf' "
                "issues one.",
                town=code.upper(),
            )
        tell(empty)
    pin_only_count = sum(1 for item in found if item.codes_left is None)
    if pin_only_count:
        tell(
            t(
                "Cards with only a PIN: {count}. They still pay with it, but a cashier who "
                "learnt a PIN can reuse it: reissue them with "
                "'admin card {town} CODICE_FISCALE --reissue --out FILE.pdf'.",
                count=str(pin_only_count),
                town=code.upper(),
            )
        )
    blocked_count = sum(1 for item in found if item.blocked_at is not None)
    if blocked_count:
        tell(
            t(
                "Blocked cards: {count}. Give the holder a new one with "
                "'admin card {town} CODICE_FISCALE --reissue --out FILE.pdf'.",
                count=str(blocked_count),
                town=code.upper(),
            )
        )
