"""Words at a question that are not its answer, and the question asked again after them.

The engine reads each message as the answer to the step it stands at; when it is none, or
comes after a long pause, what is said next lives here: a worry written at a question
answered by buttons ("ma è gratis?", "ho paura") is answered as outside a question, then
the question comes again, nothing of the request changed (_worry_at_question); after a
long pause, what was in progress comes before the question (_remind_doing); and the
question joins what was said in one message when it fits one SMS (_ask_after, _joined).
Kept apart from the engine's loop (core/dialogue/engine.py), which only decides when they
apply, so that each can be read whole.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.dialogue import commands, questions
from core.dialogue.context import NOT_UNDERSTOOD, Reject, Turn
from core.dialogue.flows import FLOWS
from core.dialogue.flows.base import Flow
from core.dialogue.menus import is_shop_member, welcome
from core.dialogue.words import plain_words
from core.domain.messages import Reply, Text, t

# What was in progress, said before the question after a long pause, for a flow that
# names none of its own (Flow.doing).
IN_PROGRESS = t("You had a request in progress.")


# Worries written at a question answered by buttons, each answered as outside a question
# (commands.run), then the question again: "chi siete?", "ma è gratis?", "ho paura", "non
# ho soldi per la bolletta". Only those that tell something and leave the request alone;
# not those that say to apply ("ho perso il lavoro" at the work question is about it). A
# phone lost (with the card, or alone) too: "answer YES or NO" to it helped nobody, and
# what it cancels is a payment waiting for the lost phone's code, never the request.
_WORRIES = frozenset(
    {"greeting", "price", "scam", "bills", "what_to_buy", "how_to_pay", "how_much_given",
     "expiry", "household_changed", "new_number", "lost_card", "lost_phone", "other_card",
     "card_trouble", "stop_hint", "delegation"}
)  # fmt: skip


async def _worry_at_question(
    turn: Turn, flow: Flow[Any] | None, wrong: Reject, paused: bool
) -> bool:
    """After words the step could not read as its answer (its own reading comes first:
    "ho l'affitto da pagare" at the rent question is an answer), at a question answered by
    buttons: a worry (_WORRIES) is answered as the same words are outside a question, then
    the question comes again, nothing of the request changed; where asking again does
    more than ask (the summary, sent whole), the step's hint instead. After a long pause
    (`paused`) what was in progress comes before the question. False: no worry (the
    error is said), or a shop's chat, whose worries are its help."""
    if flow is None or turn.step is None or flow.acts_for_shop is not None:
        return False
    worry = questions.unasked(turn.inbound.text)
    if worry is None or worry[0] not in _WORRIES or await is_shop_member(turn):
        return False
    if worry[0] == "greeting" and not plain_words(turn.inbound.text):
        # "Buongiorno" alone asks nothing: the question's hint, as before.
        return False
    at, before = (turn.flow, turn.step), len(turn.replies)
    if worry[0] == "greeting":
        # "Chi siete?": who writes (the welcome), not the menu: a question waits.
        turn.say(welcome(turn))
    else:
        await commands.run(turn, *worry)
    said = turn.replies[before:]
    plain = all(
        not reply.options
        and reply.request is None
        and reply.pin is None
        and reply.document is None
        and reply.invoice is None
        and not reply.sensitive
        for reply in said
    )
    if (turn.flow, turn.step) != at:
        return True
    if not flow.steps[str(turn.step)].again:
        hint = [text for text in wrong.texts if text.msgid != NOT_UNDERSTOOD.msgid]
        texts = [text for reply in said for text in reply.texts]
        if plain and hint and (not turn.is_sms or turn.fits_sms([*texts, *hint])):
            turn.replies[before:] = [Reply(texts=(*texts, *hint))]
        elif hint:
            turn.say(*hint)
        return True
    if not plain:
        # Its own buttons (a payment waiting for her code): the question in a message after.
        await flow.ask(turn)
        return True
    # An answer of several messages (by SMS the lost phone's and the card's, each its own)
    # stays so; only its last one may join the question.
    del turn.replies[before + len(said[:-1]) :]
    texts = [text for reply in said[-1:] for text in reply.texts]
    if paused:
        doing = flow.doing or IN_PROGRESS
        if turn.is_sms and not turn.fits_sms([*texts, doing]):
            # Her answer in its own SMS; what was in progress with the question.
            turn.say(*texts)
            texts = []
        texts.append(doing)
    await _ask_after(turn, flow, texts, Reply(texts=tuple(texts)))
    return True


def _asked_again(turn: Turn) -> Flow[Any] | None:
    """The flow whose step's question can be asked once more as it is (ask_pending,
    _ask_again), or None: no step open, or one whose asking does more than ask (a code
    step sends a new code)."""
    flow = FLOWS.get(turn.flow or "")
    if flow is None or turn.step is None or not flow.steps[turn.step].again:
        return None
    return flow


def _remind_doing(turn: Turn, at: tuple[str | None, str | None]) -> None:
    """After a long pause, words that kept the step without being a wrong answer ("non
    lavoro" with others at home, asked about them; "non so" at the savings, told a rough
    figure will do) are answered after what was in progress, as a wrong answer is
    (_ask_again): the person coming back reads a question about something she no longer
    has in mind. An answer that moves on needs none: she answered what she read. In the
    same message when it fits (one SMS), else in a message of its own before it."""
    flow = _asked_again(turn)
    if flow is None or (turn.flow, turn.step) != at or not turn.replies:
        return
    doing = flow.doing or IN_PROGRESS
    if any(text.msgid == doing.msgid for reply in turn.replies for text in reply.texts):
        return
    joined = _joined(turn, [doing], turn.replies[0])
    if joined is not None:
        turn.replies[0] = joined
    else:
        turn.replies.insert(0, Reply(texts=(doing,)))


def _joined(turn: Turn, texts: list[Text], reply: Reply) -> Reply | None:
    """`reply` with `texts` before its own when they make one message (one SMS); None for a
    reply that stands alone (a document, a PIN, a sensitive message) or would not fit."""
    if (
        reply.document is None
        and reply.pin is None
        and not reply.sensitive
        and (not turn.is_sms or turn.fits_sms([*texts, *reply.texts], reply.options))
    ):
        return replace(reply, texts=(*texts, *reply.texts))
    return None


async def _ask_after(turn: Turn, flow: Flow[Any], texts: list[Text], alone: Reply) -> None:
    """The flow's question after `texts`, in the same message when it fits (one SMS),
    else `alone` (those texts as a message of their own) and then the question."""
    before = len(turn.replies)
    await flow.ask(turn)
    asked = turn.replies[before:]
    del turn.replies[before:]
    joined = _joined(turn, texts, asked[0]) if asked else None
    if joined is not None:
        turn.replies.append(joined)
        turn.replies.extend(asked[1:])
        return
    turn.replies.append(alone)
    turn.replies.extend(asked)
