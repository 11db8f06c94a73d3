"""ANNULLA (cancel): the request half-way, a draft left, what a till holds for a code, a
payment waiting for this chat's code; and a payment refused in words (refuse_in_words)."""

from __future__ import annotations

from core.dialogue import stray_codes
from core.dialogue.context import Turn
from core.dialogue.flows import FLOWS
from core.dialogue.flows.charge_waiting import cancel_at_till
from core.dialogue.menus import (
    say_help,
    show_menu,
)
from core.dialogue.refusal_words import CANCEL_IN_WORDS, NOT_ME
from core.dialogue.state import ApplyState
from core.domain.messages import t

# The argument of a cancel that was words giving up at a question ("basta", "lascia
# stare": words.gives_up, read by the engine where the flow's stopped_in_words allows).
GAVE_UP = "gave_up"


async def cancel(turn: Turn, *, gave_up: bool = False) -> None:
    """ANNULLA: what this chat has under way, cancelled and said; else that there is
    nothing to cancel. `gave_up`: said in words at a question, which the flow answers
    with its own sentence (Flow.stopped_in_words) rather than "Cancelled."."""
    flow = FLOWS.get(turn.flow or "")
    if flow is None and await stray_codes.refuse_payments(turn):
        return
    if flow is None and await cancel_at_till(turn):
        # A payment this till left waiting for its code (MENU at its code step).
        return
    if flow is None and turn.memory.drafts:
        # MENU said "you have an application to complete": ANNULLA gives it up.
        turn.memory.drafts.clear()
        await show_menu(turn, t("Cancelled: the request you had left half-way is deleted."))
        return
    if flow is None:
        await show_menu(turn, t("There is nothing to cancel."))
        return
    editing = isinstance(turn.state, ApplyState) and turn.state.mode == "edit"
    stopped = flow.stopped_in_words(turn) if gave_up else None
    await flow.on_cancel(turn)
    flow.drop_draft(turn)
    turn.finish()
    if editing:
        # Cancelling a change leaves the application sent before as it was.
        await show_menu(turn, t("Cancelled: your application is unchanged."))
        return
    if await cancel_at_till(turn):
        # At a till, what it holds waiting for a code goes too, named: "Cancelled."
        # is never said while a code told later would still pay.
        return
    waiting = await stray_codes.cancelled_while_paying(turn)
    if waiting is not None and turn.is_sms:
        # A payment whose code was sent here is not what this ANNULLA cancelled: said,
        # or the person believes they refused it (the next ANNULLA does). By SMS the
        # sentence alone: the menu after it would be a second SMS.
        turn.say(waiting)
        return
    if stopped is not None and waiting is None and turn.is_sms:
        # By SMS the sentence alone: it says how to start again, and the menu after it
        # would be a second SMS.
        turn.say(stopped)
        return
    await show_menu(turn, waiting or stopped or t("Cancelled."))


async def refuse_in_words(turn: Turn, kind: str) -> None:
    """A payment refused in words with nothing asked (refusal_words.refusal_of): what ANNULLA
    does to the payments waiting for this chat's code (refused, each shop told, the code
    void). "No, annulla" is ANNULLA whatever waits; "non voglio pagare" with no payment
    waiting refuses nothing and gets the help. "Non sono io" with nothing waiting is said
    to have refused nothing, with whom to tell: she may be looking at a payment in her
    movements that she did not make, or at messages meant for a number's former owner."""
    if kind == CANCEL_IN_WORDS:
        await cancel(turn)
        return
    if turn.flow is None and await stray_codes.refuse_payments(turn, not_me=kind == NOT_ME):
        return
    if turn.flow is None and kind == NOT_ME and await stray_codes.not_me_again(turn):
        return
    if turn.flow is None and kind == NOT_ME:
        turn.say(
            t(
                "No payment is waiting for a code from this number: nothing was refused. A "
                "payment you did not make, or messages meant for someone else? Write UFFICIO."
            )
        )
        return
    await say_help(turn, understood=False)
