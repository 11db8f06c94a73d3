"""A request made half-way through another: the flow left (its draft kept, or what it left
open said: interrupt), the reminder of it after the answer (remind), and its question
asked again (reprompt)."""

from __future__ import annotations

from dataclasses import replace

from core.dialogue.context import Turn
from core.dialogue.flows import FLOWS
from core.domain.messages import Text


async def interrupt(turn: Turn) -> Text | None:
    """Leave the current flow for another request; a draft keeps its answers for later.
    Returns what reminds the person of the draft left waiting, or of what the flow left
    open (a payment waiting for its code); None when nothing was kept or left open."""
    if turn.flow is None:
        return None
    flow = FLOWS.get(turn.flow)
    reminder = flow.draft_reminder() if flow is not None and flow.save_draft(turn) else None
    if flow is not None and reminder is None:
        # A payment left waiting for its code stays open: said, never dropped in silence.
        reminder = await flow.left_open(turn)
    if flow is not None:
        await flow.on_leave(turn)
    turn.finish()
    return reminder


def says(turn: Turn, text: Text, start: int = 0) -> bool:
    """Whether the turn's replies from `start` on say this text already."""
    return any(said.msgid == text.msgid for reply in turn.replies[start:] for said in reply.texts)


def remind(turn: Turn, reminder: Text | None) -> None:
    """After the answer to a request made half-way through another: say that one waits,
    in the same message when it fits (one SMS), else in a message of its own. Not when the
    answer said it already (no vouchers yet: the application to complete)."""
    if reminder is None or says(turn, reminder):
        return
    last = turn.replies[-1] if turn.replies else None
    if (
        last is not None
        and not last.options
        and last.request is None
        and last.document is None
        and last.pin is None
        and not last.sensitive
        and (not turn.is_sms or turn.fits_sms([*last.texts, reminder]))
    ):
        turn.replies[-1] = replace(last, texts=(*last.texts, reminder))
        return
    turn.say(reminder)


async def reprompt(turn: Turn) -> None:
    flow = FLOWS.get(turn.flow or "")
    if flow is not None and turn.step is not None:
        await flow.ask(turn)
