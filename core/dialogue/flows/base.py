"""What every flow is: named steps, each a question (`ask_<step>`) and an answer (`on_<step>`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from core.dialogue.context import Input, Reject, Turn
from core.domain import otp
from core.domain.messages import Option, t, tn


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


# Confirming by a code sent to the sender's own address (DESIGN §6) --------------------------

VERIFY_TTL = timedelta(minutes=10)
VERIFY_ATTEMPTS = 3


class ConfirmedFlow(Flow):
    """A flow whose last step changes something that an SMS alone must not change.

    On channels where the sender's address could be forged the change waits in the
    `verify` step for a one-time code sent to that address; elsewhere it is done at once.
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

    def _send_code(self, turn: Turn) -> None:
        code, salt = otp.new_code(), otp.new_salt()
        turn.state["otp"] = {
            "salt": salt,
            "hash": otp.hash_code(code, salt),
            "expires": (turn.now + VERIFY_TTL).isoformat(),
            "attempts": 0,
        }
        turn.say(
            t(
                "Your confirmation code is {code}. Write it here to confirm. Valid {minutes} min.",
                code=code,
                minutes=int(VERIFY_TTL.total_seconds() // 60),
            ),
            sensitive=True,
        )

    async def ask_verify(self, turn: Turn) -> None:
        if self._pending_code(turn) is None:
            self._send_code(turn)
            return
        turn.say(
            t("Write the confirmation code we sent you, or ANNULLA to stop."),
            options=(Option("resend", t("Send a new code")),),
        )

    async def on_verify(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "resend":
            self._send_code(turn)
            return
        typed = otp.normalize_typed_code(inp.text)
        if not typed:
            raise Reject(t("Write the confirmation code we sent you, or ANNULLA to stop."))
        pending = self._pending_code(turn)
        if pending is None:
            turn.say(t("The code has expired: here is a new one."))
            self._send_code(turn)
            return
        if otp.code_matches(typed, str(pending["salt"]), str(pending["hash"])):
            turn.state.pop("otp", None)
            await self.confirmed(turn)
            return
        attempts = int(pending["attempts"]) + 1
        if attempts >= VERIFY_ATTEMPTS:
            turn.finish()
            turn.say(t("Too many wrong codes: the request was cancelled. Nothing was changed."))
            return
        turn.state["otp"] = {**pending, "attempts": attempts}
        left = VERIFY_ATTEMPTS - attempts
        raise Reject(
            tn("Wrong code: {count} attempt left.", "Wrong code: {count} attempts left.", left)
        )
