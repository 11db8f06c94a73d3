"""What every flow is: named steps, each a question (`ask_<step>`) and an answer (`on_<step>`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from core.dialogue.context import Input, Reject, Turn
from core.domain import otp
from core.domain.messages import Option, Text, t, tn
from core.services import security


class Flow:
    name: ClassVar[str]
    first_step: ClassVar[str]
    # MENU or another command in the middle keeps the answers, to resume later.
    keeps_draft: ClassVar[bool] = False
    # Steps that take a shared position as their answer (elsewhere it means "shops near me").
    location_steps: ClassVar[frozenset[str]] = frozenset()
    # Steps that take a shared contact as their answer (elsewhere it links the chat).
    contact_steps: ClassVar[frozenset[str]] = frozenset()

    async def begin(self, turn: Turn, arg: str = "") -> None:
        """Start the flow (or offer to resume a draft of it)."""
        draft = turn.data.get("drafts", {}).get(self.name)
        if self.keeps_draft and draft and not arg:
            turn.go(self.name, "resume", {"draft": draft})
            await self.ask(turn)
            return
        turn.go(self.name, self.first_step, {})
        await self.start(turn, arg)

    async def start(self, turn: Turn, arg: str) -> None:
        await self.ask(turn)

    async def ask(self, turn: Turn) -> None:
        await getattr(self, f"ask_{turn.step}")(turn)

    async def answer(self, turn: Turn, inp: Input) -> None:
        await getattr(self, f"on_{turn.step}")(turn, inp)

    async def goto(self, turn: Turn, step: str) -> None:
        turn.go(self.name, step)
        await self.ask(turn)

    async def on_language_chosen(self, turn: Turn) -> None:
        """After LINGUA in the middle of a flow: the same question, in the new language."""
        await self.ask(turn)

    async def on_cancel(self, turn: Turn) -> None:
        """ANNULLA: undo what the flow holds open (a pending charge, for instance)."""

    def save_draft(self, turn: Turn) -> None:
        if not self.keeps_draft or turn.step == "resume":
            return
        drafts = dict(turn.data.get("drafts", {}))
        drafts[self.name] = {"step": turn.step, "state": dict(turn.state)}
        turn.data["drafts"] = drafts

    def drop_draft(self, turn: Turn) -> None:
        drafts = dict(turn.data.get("drafts", {}))
        drafts.pop(self.name, None)
        turn.data["drafts"] = drafts

    # Resuming a draft ---------------------------------------------------------------

    async def ask_resume(self, turn: Turn) -> None:
        turn.say(
            t("You have an unfinished request. Do you want to continue it?"),
            options=(Option("resume", t("Continue")), Option("restart", t("Start again"))),
        )

    async def on_resume(self, turn: Turn, inp: Input) -> None:
        draft: dict[str, Any] = turn.state.get("draft") or {}
        if inp.choice == "resume" and draft.get("step"):
            turn.go(self.name, str(draft["step"]), dict(draft.get("state") or {}))
            self.drop_draft(turn)
            await self.ask(turn)
        elif inp.choice == "restart" or (inp.choice == "resume" and not draft.get("step")):
            self.drop_draft(turn)
            turn.go(self.name, self.first_step, {})
            await self.start(turn, "")
        else:
            raise Reject(t("Please answer 1 to continue or 2 to start again."))


# Confirming by a code sent to the sender's own address (SMS senders can be forged) ---------

VERIFY_TTL = timedelta(minutes=10)
VERIFY_ATTEMPTS = 3
# Confirmation codes sent to one address: at most this many an hour and a day.
CODES_PER_HOUR = 5
CODES_PER_DAY = 10


def code_message(flow: str, code: str, minutes: int) -> Text:
    """The code message says what it confirms and not to share it (a payment code is the
    one exception: the citizen tells it to the cashier, see core.services.charges)."""
    if flow == "apply":
        return t(
            "Code {code} confirms your voucher application. Do not share it with anyone. "
            "Valid {minutes} min.",
            code=code,
            minutes=minutes,
        )
    if flow == "refund":
        return t(
            "Code {code} confirms a refund by your shop. Do not share it with anyone. "
            "Valid {minutes} min.",
            code=code,
            minutes=minutes,
        )
    if flow == "register":
        return t(
            "Code {code} confirms the registration of your shop. Do not share it with anyone. "
            "Valid {minutes} min.",
            code=code,
            minutes=minutes,
        )
    if flow == "join":
        return t(
            "Code {code} confirms that you join a shop as cashier. Do not share it with "
            "anyone. Valid {minutes} min.",
            code=code,
            minutes=minutes,
        )
    if flow == "charge":
        return t(
            "Code {code} confirms that this phone charges vouchers for your shop. Do not "
            "share it with anyone. Valid {minutes} min.",
            code=code,
            minutes=minutes,
        )
    if flow == "cashier":
        return t(
            "Code {code} confirms a new cashier code for your shop. Do not share it with "
            "anyone. Valid {minutes} min.",
            code=code,
            minutes=minutes,
        )
    return t(
        "Code {code} confirms your request. Do not share it with anyone. Valid {minutes} min.",
        code=code,
        minutes=minutes,
    )


class ConfirmedFlow(Flow):
    """A flow whose last step changes something that an SMS alone must not change.

    On channels where the sender's address could be forged the change waits in the
    `verify` step for a one-time code sent to that address; elsewhere it is done at once.
    A new code keeps the wrong attempts already used, and an address gets at most
    CODES_PER_HOUR codes an hour and CODES_PER_DAY a day (counted in the database).
    """

    async def confirmed(self, turn: Turn) -> None:
        raise NotImplementedError

    async def confirm_then_do(self, turn: Turn) -> None:
        if turn.untrusted:
            turn.state.pop("otp", None)
            await self.goto(turn, "verify")
        else:
            await self.confirmed(turn)

    def _pending_code(self, turn: Turn) -> dict[str, Any] | None:
        pending = turn.state.get("otp")
        if not isinstance(pending, dict):
            return None
        if datetime.fromisoformat(str(pending["expires"])) <= turn.now:
            return None
        return pending

    async def _send_code(self, turn: Turn) -> bool:
        """Send a new code (False, and the flow ends, when the address had too many)."""
        hour = await security.count(
            turn.uow,
            security.CODE_SENT,
            turn.now - timedelta(hours=1),
            channel=turn.channel,
            address=turn.address,
        )
        day = await security.count(
            turn.uow,
            security.CODE_SENT,
            turn.now - timedelta(days=1),
            channel=turn.channel,
            address=turn.address,
        )
        if hour >= CODES_PER_HOUR or day >= CODES_PER_DAY:
            turn.finish()
            turn.say(
                t("Too many codes were sent to this number. Nothing was changed: try again later.")
            )
            return False
        await security.record(
            turn.uow,
            security.CODE_SENT,
            turn.now,
            municipality_id=turn.municipality.id if turn.municipality else None,
            channel=turn.channel,
            address=turn.address,
            detail=self.name,
        )
        code, salt = otp.new_code(), otp.new_salt()
        used = int(turn.state.get("otp_attempts") or 0)
        turn.state["otp"] = {
            "salt": salt,
            "hash": otp.hash_code(turn.uow.keys, code, salt),
            "expires": (turn.now + VERIFY_TTL).isoformat(),
        }
        turn.state["otp_attempts"] = used
        turn.say(
            code_message(self.name, code, int(VERIFY_TTL.total_seconds() // 60)), sensitive=True
        )
        return True

    async def ask_verify(self, turn: Turn) -> None:
        if self._pending_code(turn) is None:
            await self._send_code(turn)
            return
        turn.say(
            t("Write the confirmation code we sent you, or ANNULLA to stop."),
            options=(Option("resend", t("Send a new code")),),
        )

    async def on_verify(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "resend":
            await self._send_code(turn)
            return
        typed = otp.normalize_typed_code(inp.text)
        if not typed:
            raise Reject(t("Write the confirmation code we sent you, or ANNULLA to stop."))
        pending = self._pending_code(turn)
        if pending is None:
            turn.say(t("The code has expired: here is a new one."))
            await self._send_code(turn)
            return
        if otp.code_matches(turn.uow.keys, typed, str(pending["salt"]), str(pending["hash"])):
            turn.state.pop("otp", None)
            turn.state.pop("otp_attempts", None)
            await self.confirmed(turn)
            return
        # Wrong tries count for the request, whichever code they were typed against.
        attempts = int(turn.state.get("otp_attempts") or 0) + 1
        if attempts >= VERIFY_ATTEMPTS:
            turn.finish()
            turn.say(t("Too many wrong codes: the request was cancelled. Nothing was changed."))
            return
        turn.state["otp_attempts"] = attempts
        left = VERIFY_ATTEMPTS - attempts
        raise Reject(
            tn("Wrong code: {count} attempt left.", "Wrong code: {count} attempts left.", left)
        )
