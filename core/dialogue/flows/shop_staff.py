"""Who works at a shop: the owner makes a cashier code, the cashier joins with it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.dialogue.context import NOT_UNDERSTOOD, Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import (
    VERIFY,
    ConfirmedFlow,
    Flow,
    Step,
    Takes,
    known,
    table,
    verify,
)
from core.dialogue.flows.member_phone import SHARE_TO_JOIN, shared_phone
from core.dialogue.menus import show_menu
from core.dialogue.state import CashiersState, JoinState, NoState, ShopState
from core.domain import otp
from core.domain.channels import Channel
from core.domain.errors import DomainError, Refusal
from core.domain.messages import Day, Option, Text, t, tn
from core.domain.shops import MemberRole
from core.services import shop_members
from core.services import shops as shop_service

TO_JOIN = t("To work at a shop's till, write here the cashier code its owner gave you.")


class ShopkeeperFlow(Flow[NoState]):
    """ "For shops" in the citizen menu: register a shop, or join one with a cashier code."""

    name = "shopkeeper"
    state_type = NoState

    async def ask_pick(self, turn: Turn) -> None:
        options = [
            Option("register", t("Register my shop")),
            Option("join", t("I have a cashier code")),
        ]
        if not turn.is_sms:
            # "Per i negozianti" tapped by a citizen by mistake: a button back to their
            # menu. By SMS the word was typed, MENU is one too (the error says it), and a
            # third number would make the question two SMS.
            options.append(Option("menu", t("Menu")))
        turn.say(
            t(
                "For shopkeepers: register your shop with the municipality, or join a "
                "shop with the code its owner gave you."
            ),
            options=options,
        )

    async def on_pick(self, turn: Turn, inp: Input) -> None:
        # "register" and "join" are commands: the engine starts them before this step sees them.
        code = otp.invite_code_in(inp.text)
        if code is not None:
            # The code itself, written where "2" was asked: joining with it, as INVITO does.
            await JoinFlow().begin(turn, code)
            return
        raise Reject(t("Reply 1 to register a shop or 2 to join one, or MENU."))

    # One question, whose two answers are the commands REGISTRA and INVITO.
    entry = ("pick",)
    steps = table({"pick": Step(ask_pick, on_pick)})


class InviteFlow(ConfirmedFlow[ShopState]):
    name = "cashier"
    acts_for_shop = "owner"
    state_type = ShopState

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The shop: a code sent for one shop's cashier code makes none for another."""
        return (str(self.state(turn).shop_id),)

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        shop = await shop_service.shop_by_id(turn.uow, known(self.state(turn).shop_id))
        return t(
            "Code {code} confirms a new cashier code for {shop}. Do not share it with anyone. "
            "Valid {minutes} min.",
            code=code,
            shop=shop.name if shop is not None else "",
            minutes=minutes,
        )

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await turn.shop()
        if current is None or current[0].role != MemberRole.OWNER.value:
            turn.finish()
            refused = t("Only the owner of a shop can add cashiers.")
            if current is None and not await turn.memberships():
                # "CASSIERE" from a phone of no shop: most likely a cashier about to join,
                # who is told how.
                turn.say(refused, TO_JOIN)
                return
            turn.say(refused)
            return
        # From SMS the owner first confirms with a code to their number; elsewhere at once.
        if turn.untrusted:
            await self.goto(turn, VERIFY, ShopState(shop_id=current[1].id))
        else:
            await self._invite(turn, current[1].id)

    async def confirmed(self, turn: Turn) -> None:
        await self._invite(turn, known(self.state(turn).shop_id))

    async def _invite(self, turn: Turn, shop_id: int) -> None:
        turn.finish()
        try:
            # The service reads this chat's place in the shop now: a code typed after the
            # owner lost the shop, or the shop was blocked, makes no cashier code.
            code = await shop_service.create_invite(
                turn.uow, shop_id, turn.now, by=(turn.channel, turn.address)
            )
        except DomainError as error:
            turn.say(error_text(error))
            return
        turn.say(
            t(
                # The code alone joins (otp.invite_code_in): no keyword to learn before it.
                "Cashier code: {code}, valid for 2 days and once. The cashier sends this code "
                "here, by SMS or on Telegram, from their own phone.",
                code=otp.printed_invite(code),
            ),
            sensitive=True,
        )

    # From SMS only the confirmation of the owner's number; then the cashier code is made.
    entry = (VERIFY,)
    steps = table({VERIFY: verify()})


class JoinFlow(ConfirmedFlow[JoinState]):
    name = "join"
    state_type = JoinState

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The cashier code typed (it names its shop): a code sent to join with it joins
        with no other."""
        return (str(self.state(turn).code),)

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        """The shop the cashier code is for, when it is one still valid (else the words
        without a shop, and the code then only hears that the cashier code is not valid)."""
        shop = await shop_service.invited_to(turn.uow, known(self.state(turn).code), turn.now)
        if shop is None:
            return t(
                "Code {code} confirms that you join a shop as cashier. Do not share it with "
                "anyone. Valid {minutes} min.",
                code=code,
                minutes=minutes,
            )
        return t(
            "Code {code} confirms that you join {shop} as cashier. Do not share it with "
            "anyone. Valid {minutes} min.",
            code=code,
            shop=shop.name,
            minutes=minutes,
        )

    async def start(self, turn: Turn, arg: str) -> None:
        code = otp.normalize_invite_code(arg)
        if code:
            await self._take(turn, code)
            return
        await self.ask(turn)

    async def ask_code(self, turn: Turn) -> None:
        turn.say(t("Write the cashier code the shop owner gave you (12 letters and digits)."))

    async def on_code(self, turn: Turn, inp: Input) -> None:
        await self._take(turn, otp.normalize_invite_code(inp.text))

    async def _take(self, turn: Turn, code: str) -> None:
        if len(code) not in (otp.INVITE_LENGTH, otp.OLD_INVITE_LENGTH):
            if turn.step != "code":
                self.move(turn, "code")
            raise Reject(t("A cashier code has 12 letters and digits. Write it again, or ANNULLA."))
        self.state(turn).code = code
        if turn.channel == Channel.TELEGRAM and await shop_service.invite_accepts(
            turn.uow, code, channel=turn.channel, address=turn.address, now=turn.now
        ):
            # Telegram tells no phone: the cashier shares their own (flows/member_phone).
            # A wrong code is told (and counted) first, without asking for anything.
            await self.goto(turn, "contact")
            return
        await self.confirm_then_do(turn)

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(SHARE_TO_JOIN, request="contact")

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        self.state(turn).phone = shared_phone(inp)
        await self.confirm_then_do(turn)

    async def confirmed(self, turn: Turn) -> None:
        code, phone = known(self.state(turn).code), self.state(turn).phone
        turn.finish()
        try:
            shop = await shop_service.accept_invite(
                turn.uow,
                code,
                channel=turn.channel,
                address=turn.address,
                now=turn.now,
                phone=phone,
            )
        except DomainError as error:
            turn.say(error_text(error))
            return
        turn.memory.shop_id = shop.id
        await show_menu(
            turn, t("You now work for {shop}: you can charge its vouchers.", shop=shop.name)
        )

    # The cashier code (INVITO <code> answers it at once), then from SMS the confirmation,
    # on Telegram the cashier's own contact.
    entry = ("code",)
    steps = table(
        {
            "code": Step(ask_code, on_code, to=(VERIFY, "contact")),
            "contact": Step(ask_contact, on_contact, to=(VERIFY,), takes=Takes.CONTACT),
            VERIFY: verify(),
        }
    )


def _acting(turn: Turn) -> str:
    """The chat that acts, for the activity log (as a charge records who requested it)."""
    return f"{turn.channel}:{turn.address}"


async def _remove_member(turn: Turn, s: CashiersState) -> shop_members.Removed | None:
    """Remove the member the request names, for this chat: the owner removing a cashier
    (CASSIERI), or the cashier leaving (ESCI). Whether this chat may still do it (still
    the shop's owner, or still its member) is the service's to read, now; a refusal is
    said here, and None returned."""
    try:
        return await shop_members.remove_member(
            turn.uow,
            turn.town.id,
            known(s.shop_id),
            known(s.member_id),
            by=_acting(turn),
            now=turn.now,
            by_chat=(turn.channel, turn.address),
            joined_at=datetime.fromisoformat(s.member_since) if s.member_since else None,
        )
    except DomainError as error:
        turn.say(error_text(error))
        return None


class CashiersFlow(ConfirmedFlow[CashiersState]):
    """CASSIERI: the owner sees the shop's cashiers (masked) and removes one, after a Yes
    (and from SMS a code to the owner's own number). The owner is never in the list."""

    name = "cashiers"
    state_type = CashiersState
    acts_for_shop = "owner"

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The shop and the cashier: a code sent to remove one removes no other."""
        s = self.state(turn)
        return (str(s.shop_id), str(s.member_id))

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        s = self.state(turn)
        shop = await shop_service.shop_by_id(turn.uow, known(s.shop_id))
        return t(
            "Code {code} confirms that you remove cashier {who} from {shop}. Do not share it "
            "with anyone. Valid {minutes} min.",
            code=code,
            who=known(s.who),
            shop=shop.name if shop is not None else "",
            minutes=minutes,
        )

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await turn.shop()
        if current is None and await turn.memberships():
            await show_menu(turn)
            return
        if current is None or current[0].role != MemberRole.OWNER.value:
            turn.say(t("Only the owner of a shop can see and remove its cashiers."))
            return
        shop = current[1]
        if not await shop_members.cashiers_of(turn.uow, shop.id):
            turn.say(t("{shop} has no cashiers. To add one, write CASSIERE.", shop=shop.name))
            return
        await self.goto(turn, "pick", CashiersState(shop_id=shop.id))

    async def ask_pick(self, turn: Turn) -> None:
        s = self.state(turn)
        shop = await shop_service.shop_by_id(turn.uow, known(s.shop_id))
        cashiers = await shop_members.cashiers_of(turn.uow, known(s.shop_id))
        if shop is None or not cashiers:
            turn.finish()
            turn.say(t("There are no cashiers to remove."))
            return
        question = t(
            "Cashiers of {shop}. Reply with the number of the one to remove, or ANNULLA.",
            shop=shop.name,
        )
        zone = ZoneInfo(turn.town.timezone)
        # The newest first: the one who joined last (maybe with a code the owner never gave,
        # of which the owner was just warned) is never the one an SMS leaves out.
        newest = sorted(cashiers, key=lambda x: (x.created_at, x.id), reverse=True)
        dated = [
            Option(
                f"m{member.id}",
                t(
                    "{who}, since {day}",
                    who=shop_members.member_label(member),
                    day=Day(member.created_at.astimezone(zone).date()),
                ),
            )
            for member in newest
        ]
        plain = [
            Option(f"m{member.id}", t("{who}", who=shop_members.member_label(member)))
            for member in newest
        ]
        for options in (dated, plain):
            shown = turn.fitting_options([question], options)
            if len(shown) == len(options):
                turn.say(question, options=shown)
                return

        def unlisted(count: int) -> Text:
            return tn(
                "+{count} earlier (the office sees all)",
                "+{count} earlier (the office sees all)",
                count,
            )

        shown = turn.fitting_options([question, unlisted(len(plain))], plain)
        turn.say(question, unlisted(len(plain) - len(shown)), options=shown)

    async def on_pick(self, turn: Turn, inp: Input) -> None:
        s = self.state(turn)
        chosen = (inp.choice or "").removeprefix("m")
        cashiers = await shop_members.cashiers_of(turn.uow, known(s.shop_id))
        member = next((x for x in cashiers if str(x.id) == chosen), None)
        if member is None:
            raise Reject(t("Reply with the number of the cashier to remove, or ANNULLA."))
        s.member_id, s.who = member.id, shop_members.member_label(member)
        s.member_since = member.created_at.isoformat()
        await self.goto(turn, "sure")

    async def ask_sure(self, turn: Turn) -> None:
        turn.say(
            t(
                "Remove cashier {who}? They will no longer be able to charge, refund or see "
                "the statement.",
                who=known(self.state(turn).who),
            ),
            options=(Option("yes", t("Yes, remove")), Option("no", t("No"))),
        )

    async def on_sure(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "no":
            turn.finish()
            turn.say(t("Nothing was changed."))
            return
        if inp.choice != "yes":
            raise Reject(NOT_UNDERSTOOD, t("Reply 1 to remove the cashier or 2 to keep them."))
        await self.confirm_then_do(turn)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        turn.finish()
        removed = await _remove_member(turn, s)
        if removed is None:
            return
        await show_menu(
            turn,
            t(
                "Done: {who} no longer works for {shop} and was told.",
                who=removed.label,
                shop=removed.shop.name,
            ),
        )

    # Pick the cashier, make sure, then (from SMS) the code to the owner's own number.
    entry = ("pick",)
    steps = table(
        {
            "pick": Step(ask_pick, on_pick, to=("sure",)),
            "sure": Step(ask_sure, on_sure, to=(VERIFY,)),
            VERIFY: verify(),
        }
    )


class LeaveFlow(ConfirmedFlow[CashiersState]):
    """ESCI from a cashier with no request open: stop working for the shop, after a Yes
    (and from SMS a code to this number). The owner is told. The phone may then apply for
    vouchers like anyone else."""

    name = "leave"
    state_type = CashiersState
    acts_for_shop = "member"

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The shop and this chat's place in it: a code sent to leave one shop leaves no
        other."""
        s = self.state(turn)
        return (str(s.shop_id), str(s.member_id))

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        return t(
            "Code {code} confirms that you stop working for {shop}. Do not share it with "
            "anyone. Valid {minutes} min.",
            code=code,
            shop=known(self.state(turn).who),
            minutes=minutes,
        )

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await turn.shop()
        if current is None:
            await show_menu(turn)
            return
        member, shop = current
        if member.role == MemberRole.OWNER.value:
            turn.say(error_text(DomainError(Refusal.SHOP_OWNER_NOT_REMOVABLE)))
            return
        await self.goto(
            turn,
            "sure",
            CashiersState(
                shop_id=shop.id,
                member_id=member.id,
                who=shop.name,
                member_since=member.created_at.isoformat(),
            ),
        )

    async def ask_sure(self, turn: Turn) -> None:
        turn.say(
            t(
                "Stop working for {shop}? This chat will no longer charge its vouchers; "
                "the owner is told.",
                shop=known(self.state(turn).who),
            ),
            options=(Option("yes", t("Yes, leave")), Option("no", t("No"))),
        )

    async def on_sure(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "no":
            turn.finish()
            await show_menu(turn, t("Nothing was changed."))
            return
        if inp.choice != "yes":
            raise Reject(NOT_UNDERSTOOD, t("Reply 1 to leave the shop or 2 to stay."))
        await self.confirm_then_do(turn)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        turn.finish()
        removed = await _remove_member(turn, s)
        if removed is None:
            return
        # This chat's own memory: the engine saves it after this turn.
        turn.memory.till = None
        turn.memory.shop_id = None
        await show_menu(turn, t("You no longer work for {shop}.", shop=removed.shop.name))

    # Make sure, then (from SMS) the code to this number.
    entry = ("sure",)
    steps = table({"sure": Step(ask_sure, on_sure, to=(VERIFY,)), VERIFY: verify()})
