"""Who works at a shop: the owner makes a cashier code, the cashier joins with it."""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import VERIFY, ConfirmedFlow, Flow, Step, known, table, verify
from core.dialogue.menus import show_menu
from core.dialogue.state import JoinState, NoState, ShopState
from core.domain import otp
from core.domain.errors import DomainError
from core.domain.messages import Option, t
from core.domain.shops import MemberRole
from core.services import shops as shop_service


class ShopkeeperFlow(Flow[NoState]):
    """ "For shops" in the citizen menu: register a shop, or join one with a cashier code."""

    name = "shopkeeper"
    state_type = NoState

    async def ask_pick(self, turn: Turn) -> None:
        turn.say(
            t(
                "For shopkeepers: register your shop with the municipality, or join a "
                "shop with the code its owner gave you."
            ),
            options=(
                Option("register", t("Register my shop")),
                Option("join", t("I have a cashier code")),
            ),
        )

    async def on_pick(self, turn: Turn, inp: Input) -> None:
        # "register" and "join" are commands: the engine starts them before this step sees them.
        raise Reject(t("Reply 1 to register a shop or 2 to join one, or MENU."))

    # One question, whose two answers are the commands REGISTRA and INVITO.
    entry = ("pick",)
    steps = table({"pick": Step(ask_pick, on_pick)})


class InviteFlow(ConfirmedFlow[ShopState]):
    name = "cashier"
    state_type = ShopState

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await turn.shop()
        if current is None or current[0].role != MemberRole.OWNER.value:
            turn.finish()
            turn.say(t("Only the owner of a shop can add cashiers."))
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
        code = await shop_service.create_invite(turn.uow, shop_id, turn.now)
        turn.say(
            t(
                "Cashier code: {code}, valid for 2 days and once. The cashier writes INVITO {code} "
                "here, by SMS or on Telegram, from their own phone.",
                code=code,
            ),
            sensitive=True,
        )

    # From SMS only the confirmation of the owner's number; then the cashier code is made.
    entry = (VERIFY,)
    steps = table({VERIFY: verify()})


class JoinFlow(ConfirmedFlow[JoinState]):
    name = "join"
    state_type = JoinState

    async def start(self, turn: Turn, arg: str) -> None:
        code = otp.normalize_invite_code(arg)
        if code:
            await self._take(turn, code)
            return
        await self.ask(turn)

    async def ask_code(self, turn: Turn) -> None:
        turn.say(t("Write the cashier code the shop owner gave you (10 letters and digits)."))

    async def on_code(self, turn: Turn, inp: Input) -> None:
        await self._take(turn, otp.normalize_invite_code(inp.text))

    async def _take(self, turn: Turn, code: str) -> None:
        if len(code) != otp.INVITE_LENGTH:
            if turn.step != "code":
                self.move(turn, "code")
            raise Reject(t("A cashier code has 10 letters and digits. Write it again, or ANNULLA."))
        self.state(turn).code = code
        await self.confirm_then_do(turn)

    async def confirmed(self, turn: Turn) -> None:
        code = known(self.state(turn).code)
        turn.finish()
        try:
            shop = await shop_service.accept_invite(
                turn.uow, code, channel=turn.channel, address=turn.address, now=turn.now
            )
        except DomainError as error:
            turn.say(error_text(error))
            return
        turn.memory.shop_id = shop.id
        await show_menu(
            turn, t("You now work for {shop}: you can charge its vouchers.", shop=shop.name)
        )

    # The cashier code (INVITO <code> answers it at once), then from SMS the confirmation.
    entry = ("code",)
    steps = table({"code": Step(ask_code, on_code, to=(VERIFY,)), VERIFY: verify()})
