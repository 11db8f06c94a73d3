"""`buonispesa admin citizen …`: what the office records about one citizen.

`phone` binds a citizen to a phone (the person came in), or asks it under four eyes when
the citizen has vouchers to spend (`phone-change list|check|approve|withdraw`, docs/office.md);
`delegate` registers a delegate who pays for the citizen (docs/cards-and-delegates.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import admin, out, tell
from buonispesa.cli.common import (
    LoggedByOption,
    OfficeUserOption,
    codice_fiscale_or_exit,
    fail,
    operator_name,
    say,
)
from buonispesa.cli.work import operator_work, run_with_core, town_work
from core.domain.errors import InvalidIdentifier
from core.domain.messages import Moment, t, tn

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services.identity import Rebinding
    from core.services.phone_changes import Approved, Asked, Waiting

citizen_app = typer.Typer(help="One citizen: phone number and delegate.", no_args_is_help=True)
admin.add_typer(citizen_app, name="citizen")
phone_change_app = typer.Typer(
    help="Requests waiting for a second operator: new phones (citizens with vouchers to "
    "spend), delegates, cards.",
    no_args_is_help=True,
)
citizen_app.add_typer(phone_change_app, name="phone-change")


@citizen_app.command("phone")
def citizen_phone(
    code: str,
    codice_fiscale: str,
    phone: str,
    by: LoggedByOption = None,
) -> None:
    """Bind CODICE_FISCALE to PHONE (proven by the office); logged with who and when.

    For a citizen with a balance, vouchers approved and not yet credited, or a payment
    waiting for its code this only asks the change: --by must then be an office operator,
    and another operator (a manager) approves it with `citizen phone-change approve`."""
    from core.domain.errors import NotFound
    from core.domain.identity import normalize_phone
    from core.services import identity, phone_changes

    cf = codice_fiscale_or_exit(codice_fiscale)
    try:
        number = normalize_phone(phone)
    except InvalidIdentifier:
        fail(t("{value} is not a valid phone number.", value=repr(phone)))
    operator = operator_name(by)

    async def work(core: Core) -> Asked:
        async with town_work(core, code) as (uow, town):
            try:
                account = await phone_changes.operator_named(uow, town, operator)
            except NotFound:
                # Not an operator of the office: the number changes only where nothing can
                # be spent with it (identity.rebind_phone refuses the rest).
                done = await identity.rebind_phone(
                    uow, town, cf, number, operator=operator, now=core.now()
                )
                asked = phone_changes.Asked(applied=done)
            else:
                asked = await phone_changes.request(uow, account, town, cf, number, core.now())
            await uow.commit()
            return asked

    asked = run_with_core(work)
    if asked.waiting is not None:
        said = {
            "cf": cf,
            "phone": asked.waiting.phone_masked or "",
            "number": str(asked.waiting.id),
            "code": code,
        }
        # Only a number on file is told of the request (phone_changes.request).
        tell(
            t(
                "{cf} has vouchers to spend: the change to {phone} is request {number}, "
                "waiting for another operator's approval ('admin citizen phone-change "
                "approve {code} {number} --by MANAGER'). The old and the new number were "
                "told.",
                **said,
            )
            if asked.waiting.previous_masked
            else t(
                "{cf} has vouchers to spend: the change to {phone} is request {number}, "
                "waiting for another operator's approval ('admin citizen phone-change "
                "approve {code} {number} --by MANAGER'). The new number was told; there "
                "was no old one.",
                **said,
            )
        )
        return
    assert asked.applied is not None
    _say_applied(asked.applied, cf, operator)


def _say_applied(done: Rebinding, cf: str, operator: str) -> None:
    from core.domain.identity import mask_phone

    tell(
        t(
            "{cf} now uses the phone {phone} (recorded as done by {operator}).",
            cf=cf,
            phone=mask_phone(done.phone),
            operator=operator,
        )
    )
    if done.telegram_unlinked:
        tell(
            t(
                "The Telegram chat linked through the old number was unlinked: the person "
                "shares the new contact in the bot to link it again."
            )
        )


@phone_change_app.command("list")
def phone_change_list(code: str) -> None:
    """The requests waiting for a second operator's approval: new phones, delegates, cards."""
    from core.services import phone_changes

    async def work(core: Core) -> list[Waiting]:
        async with town_work(core, code) as (uow, town):
            return await phone_changes.waiting(uow, town.id)

    found = run_with_core(work)
    kinds = {
        "phone": t("new phone"),
        "delegate": t("delegate"),
        "card": t("card with codes"),
    }
    table = Table(
        say(t("Request")),
        say(t("What")),
        say(t("Codice fiscale")),
        say(t("Phone now")),
        say(t("New phone")),
        say(t("Asked by")),
        say(t("When")),
    )
    for item in found:
        table.add_row(
            str(item.change.id),
            say(kinds.get(item.change.kind, kinds["phone"])),
            item.citizen.codice_fiscale,
            item.change.previous_masked or "",
            item.change.phone_masked or "",
            (
                say(
                    t(
                        "the citizen's Telegram chat, checked by {operator}",
                        operator=item.requested_by,
                    )
                )
                if item.by_chat and item.checked
                else say(t("the citizen's Telegram chat"))
                if item.by_chat
                else item.requested_by
            ),
            say(t("{when}", when=Moment(item.change.requested_at))),
        )
    out.print(table)
    tell(
        tn(
            "{count} request waiting.",
            "{count} requests waiting.",
            len(found),
        )
    )


@phone_change_app.command("check")
def phone_change_check(
    code: str,
    request_id: int,
    by: OfficeUserOption = None,
) -> None:
    """Say you checked the citizen (a call, an identity document) for a number their
    Telegram chat shared: a manager other than you then approves it."""
    from core.services import phone_changes

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with operator_work(core, code, operator) as (uow, account):
            await phone_changes.check_chat_request(uow, account, request_id, core.now())
            await uow.commit()

    run_with_core(work)
    tell(
        t(
            "Request {number} checked: it waits for the approval of a manager other than you.",
            number=str(request_id),
        )
    )


@phone_change_app.command("approve")
def phone_change_approve(
    code: str,
    request_id: int,
    by: OfficeUserOption = None,
) -> None:
    """Approve a request another operator asked (a manager): a new phone or a delegate
    applies now; a card may then be printed with 'admin card … --by'."""
    from core.domain.identity import mask_phone
    from core.services import phone_changes

    operator = operator_name(by)

    async def work(core: Core) -> tuple[Approved, str]:
        async with operator_work(core, code, operator) as (uow, account):
            done = await phone_changes.approve_any(uow, account, request_id, core.now())
            citizen = await uow.citizens.by_id(done.change.citizen_id)
            await uow.commit()
            return done, citizen.codice_fiscale if citizen else ""

    done, cf = run_with_core(work)
    if done.rebinding is not None:
        _say_applied(done.rebinding, cf, operator)
    elif done.delegate is not None:
        _say_delegate(mask_phone(done.delegate.phone))
    else:
        tell(
            t(
                "Card request {number} for {cf} approved: the operator who asked it, or "
                "you, prints it once with 'admin card {code} {cf} --out FILE.pdf --by "
                "USERNAME'.",
                number=str(request_id),
                cf=cf,
                code=code,
            )
        )


@phone_change_app.command("withdraw")
def phone_change_withdraw(
    code: str,
    request_id: int,
    reason: Annotated[str, typer.Option(help="Why the change is not made (logged)")],
    by: OfficeUserOption = None,
) -> None:
    """Withdraw a request you asked (a phone, a delegate, a card not yet printed), or turn
    down another's (a manager)."""
    from core.services import phone_changes

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with operator_work(core, code, operator) as (uow, account):
            await phone_changes.withdraw(uow, account, request_id, reason, core.now())
            await uow.commit()

    run_with_core(work)
    tell(
        t(
            "Request {number} withdrawn: nothing changes for the citizen, who was told of "
            "a phone or a delegate.",
            number=str(request_id),
        )
    )


@citizen_app.command("delegate")
def citizen_delegate(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. BEL")],
    codice_fiscale: Annotated[str, typer.Argument(help="The citizen's codice fiscale")],
    phone: Annotated[
        str | None, typer.Argument(help="The delegate's mobile number, e.g. 3331234567")
    ] = None,
    remove: Annotated[
        bool, typer.Option(help="Remove the citizen's delegate, the one PHONE names")
    ] = False,
    by: LoggedByOption = None,
) -> None:
    """Register the phone of a delegate (a relative, a caregiver) who pays for a citizen.

    With --by naming an office operator the delegate is asked, and a manager who did not
    ask approves it with `citizen phone-change approve`; otherwise it is registered at
    once, only for a citizen without vouchers to spend (as a new phone). --remove takes
    effect at once, and only if PHONE is the citizen's delegate now: one replaced since it
    was looked up is not removed."""
    from core.domain.errors import NotFound
    from core.domain.identity import mask_phone
    from core.services import delegates, phone_changes

    if phone is None:
        fail(
            t(
                "Give the delegate's phone number: the one to register, or with --remove the "
                "one to remove."
            )
        )
    operator = operator_name(by)

    async def work(core: Core) -> tuple[str, int | None]:
        async with town_work(core, code) as (uow, town):
            asked: int | None = None
            assert phone is not None
            if remove:
                number = await delegates.remove_delegate(
                    uow, town, codice_fiscale, core.now(), seen=delegates.DelegateSeen(phone=phone)
                )
            else:
                try:
                    account = await phone_changes.operator_named(uow, town, operator)
                except NotFound:
                    added = await delegates.add_delegate(
                        uow, town, codice_fiscale, phone, core.now()
                    )
                    number = added.phone
                else:
                    change = await phone_changes.request_delegate(
                        uow, account, town, codice_fiscale, phone, core.now()
                    )
                    number, asked = change.phone or "", change.id
            await uow.commit()
            return number, asked

    number, asked = run_with_core(work)
    if remove:
        message = t("Delegate {phone} removed; the citizen was told.", phone=mask_phone(number))
        tell(message)
    elif asked is not None:
        tell(
            t(
                "The delegate {phone} is request {number}, waiting for another operator's "
                "approval ('admin citizen phone-change approve {code} {number} --by "
                "MANAGER'). The citizen was told.",
                phone=mask_phone(number),
                number=str(asked),
                code=code,
            )
        )
    else:
        _say_delegate(mask_phone(number))


def _say_delegate(phone: str) -> None:
    tell(
        t(
            "Delegate {phone} registered: payment codes and receipts go to that phone, and "
            "SALDO from it shows the citizen's balance. The citizen and the delegate were "
            "told.",
            phone=phone,
        )
    )
