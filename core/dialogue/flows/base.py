"""What every flow is: a table of named steps, each a question and the handling of its answer.

How a flow is written is told in the package's docstring (core/dialogue/flows/__init__.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

from core.dialogue import state as stored
from core.dialogue.context import Input, Reject, Turn
from core.dialogue.menus import show_menu
from core.dialogue.state import FlowState, PendingCode
from core.dialogue.words import asks_for_a_new_code, yes_or_no
from core.domain import otp
from core.domain.messages import Moment, Option, Reply, Text, t, tn
from core.domain.shops import MemberRole
from core.services import security
from core.storage import models as m

S = TypeVar("S", bound=FlowState)
F = TypeVar("F", bound="Flow[Any]")
T = TypeVar("T")

RESUME = "resume"
VERIFY = "verify"
# A voice message (an audio, a video note) where a question waits: nobody can listen to it.
VOICE_AT_QUESTION = t("I cannot listen to voice messages: please write your answer in words.")
# A photo (of the ISEE paper, at the income question), a file or a sticker without words
# where a question waits: nobody reads it, nor sees it.
NOT_READ_AT_QUESTION = t(
    "I cannot read photos, files or stickers, and nobody sees them here: please write "
    "your answer in words."
)


class Takes(StrEnum):
    """What a step accepts as its answer besides text and buttons."""

    TEXT = "text"
    CONTACT = "contact"  # a shared contact answers the step (elsewhere it links the chat)
    LOCATION = "location"  # a shared position answers it (elsewhere it means "shops near me")


@dataclass(frozen=True)
class Step(Generic[F]):
    """One step of a flow: the question, the handling of the answer, where it may lead."""

    ask: Callable[[F, Turn], Awaitable[None]]
    answer: Callable[[F, Turn, Input], Awaitable[None]]
    to: tuple[str, ...] = ()
    takes: Takes = Takes.TEXT
    # After a message that is no answer, the question comes again (engine._ask_again);
    # False where asking does more than ask (the code step sends a new code).
    again: bool = True


@dataclass(frozen=True)
class Gone:
    """What a step stood waiting for ended outside this chat (Flow.gone): the request is
    over. `said` answers a message that was meant as the step's answer (a code typed for a
    payment the customer refused); None, and the message is read afresh, as with nothing
    open."""

    said: Reply | None


class StepError(RuntimeError):
    """A move the flow's step table does not declare, or an answer missing: a bug."""


def table(steps: dict[str, Step[F]]) -> Mapping[str, Step[F]]:
    """A flow's steps, read-only: the graph is fixed when the class is written."""
    return MappingProxyType(steps)


def known(value: T | None) -> T:
    """An answer an earlier step has given (its table puts that step before this one)."""
    if value is None:
        raise StepError("an answer the step needs is missing")
    return value


class Flow(Generic[S]):
    name: ClassVar[str]
    # The steps the flow may start at (the first is where a new request starts).
    entry: ClassVar[tuple[str, ...]]
    steps: ClassVar[Mapping[str, Step[Any]]]
    state_type: type[S]
    # MENU or another command in the middle keeps the answers, to resume later.
    keeps_draft: ClassVar[bool] = False
    # A flow acting for the shop in its state's `shop_id`: who may go on with it ("member"
    # or "owner"). The engine asks `still_allowed` before every answer, so a cashier removed
    # half-way (between PAGA and the customer's code) can complete nothing.
    acts_for_shop: ClassVar[str | None] = None
    # What the person was doing, said before the question when they come back after a
    # long pause and write something that is no answer ("You were making your application.").
    doing: ClassVar[Text | None] = None
    # A question whose answer is a few free words and whose request only reads (the shop
    # search's "which town or type?"): a sentence that is another request when nothing is
    # asked ("c'è ancora soldi sulla tessera?") is that request, not words to search for.
    reads_requests: ClassVar[bool] = False

    def voice_not_heard(self, turn: Turn) -> Text:
        """Said when a voice message comes without words where a question waits (the
        question follows)."""
        return VOICE_AT_QUESTION

    def not_read(self, turn: Turn) -> Text:
        """Said when a photo, a file or a sticker comes without words where a question
        waits for words (the question follows)."""
        return NOT_READ_AT_QUESTION

    @property
    def first_step(self) -> str:
        return self.entry[0]

    @property
    def entry_points(self) -> tuple[str, ...]:
        return (*self.entry, RESUME) if self.keeps_draft else self.entry

    @property
    def location_steps(self) -> frozenset[str]:
        return frozenset(n for n, s in self.steps.items() if s.takes is Takes.LOCATION)

    @property
    def contact_steps(self) -> frozenset[str]:
        return frozenset(n for n, s in self.steps.items() if s.takes is Takes.CONTACT)

    # --- the answers ----------------------------------------------------------------

    def state(self, turn: Turn) -> S:
        """This flow's answers in the turn (new ones if the turn holds another flow's)."""
        if not isinstance(turn.state, self.state_type):
            turn.state = self.state_type()
        return turn.state

    def load(self, raw: object) -> S | None:
        """Answers stored as JSON (None when they no longer fit this flow)."""
        return stored.load(self.state_type, raw)

    # --- moving ---------------------------------------------------------------------

    def move(self, turn: Turn, step: str, state: S | None = None) -> None:
        """Stand at `step` (declared as a move from the current step, or as an entry when
        the flow is not running); `state` replaces the answers, else they are kept."""
        source = turn.step if turn.flow == self.name else None
        allowed = self.entry_points if source is None else self.steps[source].to
        if step not in self.steps or step not in allowed:
            raise StepError(f"{self.name}: {source or 'start'} -> {step} is not in its table")
        if state is None and source is None:
            state = self.state_type()
        turn.go(self.name, step, state)

    async def goto(self, turn: Turn, step: str, state: S | None = None) -> None:
        self.move(turn, step, state)
        await self.ask(turn)

    async def begin(self, turn: Turn, arg: str = "") -> None:
        """Start the flow (or offer to resume a draft of it)."""
        turn.finish()
        draft = turn.memory.drafts.get(self.name)
        if self.keeps_draft and draft and not arg:
            await self.goto(turn, RESUME, self.state_type(draft=draft))
            return
        self.move(turn, self.first_step)
        await self.start(turn, arg)

    async def start(self, turn: Turn, arg: str) -> None:
        await self.ask(turn)

    async def ask(self, turn: Turn) -> None:
        await self.steps[str(turn.step)].ask(self, turn)

    async def answer(self, turn: Turn, inp: Input) -> None:
        await self.steps[str(turn.step)].answer(self, turn, inp)

    def awaits_this_code(self, turn: Turn) -> bool:
        """Whether the message is the code the flow's own step waits for (a confirmation
        code sent here): then it is the step's answer, even if a payment code sent to the
        same chat happens to have the same digits."""
        return False

    async def still_allowed(self, turn: Turn) -> bool:
        """Whether this chat may still answer the flow's step: for a shop's flow, the chat
        is still a member of that shop (its owner, when the flow is the owner's)."""
        shop_id = getattr(turn.state, "shop_id", None)
        if self.acts_for_shop is None or shop_id is None:
            return True
        member = await turn.member_of(shop_id)
        if member is None:
            return False
        return self.acts_for_shop != "owner" or member.role == MemberRole.OWNER.value

    async def gone(self, turn: Turn, inp: Input) -> Gone | None:
        """Whether what the step stands waiting for has ended meanwhile elsewhere (the
        payment whose code a till waits for, refused by its customer, cancelled by the
        office or another till, expired), asked by the engine before the step reads the
        message: then the request ends there, and the message is answered as Gone says.
        Detected at the chat's own next turn, whatever ended it: nothing writes into this
        chat's conversation from another chat's transaction. None: the step still waits."""
        return None

    async def on_language_chosen(self, turn: Turn) -> None:
        """After LINGUA in the middle of a flow: the same question, in the new language."""
        await self.ask(turn)

    def asks_language(self, turn: Turn) -> bool:
        """Whether the step the flow stands at is its own question of the language (then
        the language chosen is that step's answer, not a change to confirm)."""
        return False

    async def on_cancel(self, turn: Turn) -> None:
        """ANNULLA: undo what the flow holds open (a pending charge, for instance)."""

    def stopped_in_words(self, turn: Turn) -> Text | None:
        """What giving up in words at the step ("basta", "lascia stare": words.gives_up)
        says once the request is cancelled as ANNULLA cancels it; None where those words
        are no stop (they may be an answer, or stop something that matters: a till's
        payment). No flow but the application's stops so."""
        return None

    async def on_leave(self, turn: Turn) -> None:
        """Another request leaves this flow: end what the services hold open for it and
        nobody could finish any more (what stays open is said by `left_open`)."""

    # --- drafts ---------------------------------------------------------------------

    def save_draft(self, turn: Turn) -> bool:
        """Keep the answers for later (True when a draft was kept)."""
        if not self.keeps_draft or turn.step is None or turn.step == RESUME:
            return False
        turn.memory.drafts[self.name] = stored.Draft(turn.step, stored.dump(turn.state))
        return True

    def draft_reminder(self) -> Text | None:
        """Said when another request leaves this flow's draft waiting: how to go back to it.
        Without it a person who wrote SALDO half-way believes the request was made."""
        return None

    async def left_open(self, turn: Turn) -> Text | None:
        """Said when another request leaves this flow with something still open in the
        services (a payment waiting for the customer's code): what waits, and how to finish
        it. None when leaving closes nothing half-way."""
        return None

    def drop_draft(self, turn: Turn) -> None:
        turn.memory.drafts.pop(self.name, None)

    async def ask_resume(self, turn: Turn) -> None:
        turn.say(
            t("You have an unfinished request. Do you want to continue it?"),
            options=(Option("resume", t("Continue")), Option("restart", t("Start again"))),
        )

    async def on_resume(self, turn: Turn, inp: Input) -> None:
        draft = self.state(turn).draft
        answers = self.load(draft.state) if draft is not None else None
        choice = inp.choice
        if choice is None and yes_or_no(inp.text):
            # "Sì" to "Do you want to continue it?": the question answered in words, as an
            # elderly person does (a trial user was sent back to the buttons four times).
            # A no is left to the buttons: it may mean start again or stop altogether.
            choice = "resume"
        if (
            choice == "resume"
            and draft is not None
            and answers is not None
            and draft.step in self.steps[RESUME].to
        ):
            self.drop_draft(turn)
            await self.goto(turn, draft.step, answers)
        elif choice in ("resume", "restart"):
            # A draft that no longer fits the flow starts again too.
            self.drop_draft(turn)
            self.move(turn, self.first_step, self.state_type())
            await self.start(turn, "")
        else:
            raise Reject(t("Please answer 1 to continue or 2 to start again."))


async def not_a_shop(turn: Turn, text: Text) -> Text:
    """What a chat that works for no shop hears when it asks a shop's request (`text`),
    unless the owner or the office removed its cashier: then whose cashier it no longer
    is, and whom to ask."""
    removed = turn.memory.removed_from
    shop = await turn.uow.shops.by_id(removed) if removed is not None else None
    if shop is None:
        return text
    return t(
        "You are no longer a cashier of {shop}. If you should still work there, ask the "
        "owner for a new cashier code.",
        shop=shop.name,
    )


async def shop_or_refusal(turn: Turn, text: Text) -> tuple[m.ShopMember, m.Shop] | None:
    """The shop a shop's request (a charge, a refund) acts for, with the chat's membership;
    None when the chat has none to act for: then the request ends, a chat that works for a
    shop gets its menu, any other hears not_a_shop (`text`: who may make the request)."""
    current = await turn.shop()
    if current is not None:
        return current
    turn.finish()
    if await turn.memberships():
        await show_menu(turn)
    else:
        turn.say(await not_a_shop(turn, text))
    return None


def resume(*to: str) -> Step[Any]:
    """The step that offers a draft back: it leads to any step the draft was left at."""
    return Step(Flow.ask_resume, Flow.on_resume, to=to)


# Confirming by a code sent to the sender's own address (SMS senders can be forged) ---------

# The rules (validity, tries, codes per number) are core.services.security's.
VERIFY_TTL = security.CODE_VALID
VERIFY_ATTEMPTS = security.CODE_TRIES


def code_message(flow: str, code: str, minutes: int) -> Text:
    """The code message says what it confirms, to send it back here, and not to give it to
    anyone else (a payment code is the other kind: the citizen tells it to the cashier and
    never sends it here, see core.services.charges). Every flow that sends a code says its
    content (its `code_text`: the application, the appeal, the shop's refund, registration,
    cashiers and till); this is the words of a flow that has none."""
    return t(
        "Code {code} confirms your request: reply to this message with the code. Do not give "
        "it to anyone else. Valid {minutes} min.",
        code=code,
        minutes=minutes,
    )


# A code that came back for content other than what the request holds now.
CODE_FOR_OTHER_CONTENT = t(
    "That code was sent for other answers than the ones here now: it confirms nothing. "
    "Nothing was changed."
)
# A message at the code step that holds no code (a sentence, a codice fiscale, "?").
CODE_IN_DIGITS = t(
    "Write the code of {digits} digits we sent you, or ANNULLA to stop.", digits=otp.CODE_DIGITS
)
CODE_REPLACED = t(
    "That code is no longer valid: a newer one was sent, or the request was started again or "
    "changed. Nothing was changed. Check what the last code message confirms."
)


class ConfirmedFlow(Flow[S]):
    """A flow whose last step changes something that an SMS alone must not change.

    On channels where the sender's address could be forged the change waits in the
    `verify` step for a one-time code sent to that address; elsewhere it is done at once.
    A code confirms exactly what the flow held when it was sent (`confirms`, kept as a
    digest with the code, and said in its message by `code_text`): starting again or
    writing new answers voids it, and a code typed for other content is refused, never
    counted as a wrong try (only the phone's owner reads it); an earlier code still in
    time for the very same content (the request sent twice) confirms it, in a flow whose
    codes are bound to content (`confirms` not empty). A new code keeps the wrong
    attempts already used. An address gets a limited number of codes
    (core.services.security, counted in the database); at the limit the request goes on
    with the last code of its kind still valid for the same content, else ends saying
    when a new code can be sent, and a code that comes back right gives its place back.
    """

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """What the code confirms (the flow's answers), bound to it when it is sent."""
        return ()

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        """The code's message: what it confirms, in words its owner recognises."""
        return code_message(self.name, code, minutes)

    def _content(self, turn: Turn) -> str:
        return security.content_digest(turn.uow.keys, self.name, self.confirms(turn))

    async def confirmed(self, turn: Turn) -> None:
        raise NotImplementedError

    async def confirm_then_do(self, turn: Turn) -> None:
        if turn.untrusted:
            self.state(turn).otp = None
            await self.goto(turn, VERIFY)
        else:
            await self.confirmed(turn)

    def awaits_this_code(self, turn: Turn) -> bool:
        if turn.step != VERIFY:
            return False
        pending = self._pending_code(turn)
        reading = otp.read_typed_code(turn.inbound.text or "")
        return (
            pending is not None
            and reading.looks_like()
            and otp.code_matches(turn.uow.keys, reading.digits, pending.salt, pending.hash)
        )

    def _pending_code(self, turn: Turn) -> PendingCode | None:
        pending = self.state(turn).otp
        if pending is None or pending.expires <= turn.now:
            return None
        return pending

    async def _send_code(self, turn: Turn) -> bool:
        """Send a new code (False, and the flow ends, when the address had too many and no
        code of this request is still valid for the same content to go on with)."""
        content = self._content(turn)
        used_up = await security.codes_used_up(
            turn.uow, turn.channel, turn.address, self.name, turn.now, content=content
        )
        answers = self.state(turn)
        if used_up is not None and used_up.valid is not None:
            # A forger who made us send codes to this phone cannot stop its owner: the code
            # the phone already holds for these very answers still confirms them.
            sent = used_up.valid
            answers.otp = PendingCode(
                salt=sent.salt, hash=sent.hash, expires=sent.expires, content=content
            )
            answers.otp_attempts = max(answers.otp_attempts, sent.wrong_tries)
            turn.say(
                t(
                    "A code was already sent to this number at {when}: write it here, or "
                    "ANNULLA to stop.",
                    when=Moment(sent.sent_at),
                )
            )
            return True
        if used_up is not None:
            turn.finish()
            if used_up.other_content:
                # The code the phone holds was sent for something else: it confirms only that.
                turn.say(
                    t(
                        "Too many codes were sent to this number, and the last one confirms "
                        "other content. Nothing was changed: you can confirm this from {when}.",
                        when=Moment(used_up.next_at),
                    )
                )
                return False
            turn.say(
                t(
                    "Too many codes were sent to this number. Nothing was changed: a new code "
                    "can be sent from {when}.",
                    when=Moment(used_up.next_at),
                )
            )
            return False
        code, salt = otp.new_code(), otp.new_salt()
        code_hash = otp.hash_code(turn.uow.keys, code, salt)
        await security.code_sent(
            turn.uow,
            turn.channel,
            turn.address,
            self.name,
            turn.now,
            salt=salt,
            code_hash=code_hash,
            municipality_id=turn.municipality.id if turn.municipality else None,
            content=content,
        )
        answers.otp = PendingCode(
            salt=salt, hash=code_hash, expires=turn.now + VERIFY_TTL, content=content
        )
        text = await self.code_text(turn, code, int(VERIFY_TTL.total_seconds() // 60))
        turn.say(text, sensitive=True)
        return True

    async def resume_at_code(self, turn: Turn, inp: Input) -> bool:
        """A code typed after another request left this flow's draft at its code step (STATO
        while the SMS was on its way): back at that step, where the code is judged as if
        typed there, wrong tries counted. False when no draft waits for a code."""
        draft = turn.memory.drafts.get(self.name)
        if not self.keeps_draft or draft is None or draft.step != VERIFY:
            return False
        answers = self.load(draft.state)
        if answers is None or answers.otp is None or VERIFY not in self.steps[RESUME].to:
            return False
        # The moves the table declares: in by the resume step, then to the code step.
        self.move(turn, RESUME, self.state_type(draft=draft))
        self.drop_draft(turn)
        self.move(turn, VERIFY, answers)
        await self.on_verify(turn, inp)
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
        if inp.choice == "resend" or asks_for_a_new_code(inp.text):
            # "Non ho ricevuto il codice": a new one, as the option asks (never "write the
            # code we sent you" to someone who says it did not come).
            await self._send_code(turn)
            return
        reading = otp.read_typed_code(inp.text)
        if not reading.looks_like():
            # Not a code: a sentence, an answer to another question, a codice fiscale, a
            # digit missing. Said, and not counted: only a code's worth of digits is a try
            # (three wrong tries cancel the whole request).
            if reading.only_digits:
                raise Reject(
                    tn(
                        "The code has {digits} digits, you wrote {count}: write it again, "
                        "or ANNULLA to stop.",
                        "The code has {digits} digits, you wrote {count}: write it again, "
                        "or ANNULLA to stop.",
                        len(reading.digits),
                        digits=otp.CODE_DIGITS,
                    )
                )
            raise Reject(CODE_IN_DIGITS)
        typed = reading.digits
        pending = self._pending_code(turn)
        if pending is None:
            turn.say(t("The code has expired: here is a new one."))
            await self._send_code(turn)
            return
        answers = self.state(turn)
        if otp.code_matches(turn.uow.keys, typed, pending.salt, pending.hash):
            # The owner read the code on the phone: it no longer counts against the number.
            await security.code_proven(turn.uow, turn.channel, turn.address, pending.hash, turn.now)
            answers.otp = None
            if pending.content != self._content(turn):
                # What the request holds changed after the code was sent (or the code was
                # kept before codes knew their content): it confirms nothing of it.
                turn.say(CODE_FOR_OTHER_CONTENT)
                await self._send_code(turn)
                return
            answers.otp_attempts = 0
            await self.confirmed(turn)
            return
        earlier = await security.earlier_code(
            turn.uow,
            turn.uow.keys,
            turn.channel,
            turn.address,
            self.name,
            typed,
            turn.now,
            pending_hash=pending.hash,
        )
        if (
            earlier is not None
            and self.confirms(turn)
            and earlier.content == self._content(turn)
            and turn.now < earlier.expires
        ):
            # The same request sent twice ("RICORSO …" again, the phone unsure the first went
            # out): the first code, still in time, was sent for these very answers and
            # proves the same phone. Refusing it would leave the owner with two codes and
            # the wrong one typed. Only where a code is bound to what it confirms: in a flow
            # that binds nothing (confirms() empty) an earlier code of another request (a
            # forger's restart in between) would confirm whatever is held now.
            answers.otp = None
            answers.otp_attempts = 0
            await self.confirmed(turn)
            return
        if earlier is not None:
            # Replaced by a newer code for other answers, or expired: void. The owner's code,
            # not a guess: no try is lost.
            raise Reject(CODE_REPLACED)
        # Wrong tries count for the request, whichever code they were typed against, and
        # for the code, whichever request it is used by.
        await security.code_wrong_try(turn.uow, turn.channel, turn.address, pending.hash)
        attempts = answers.otp_attempts + 1
        if attempts >= VERIFY_ATTEMPTS:
            turn.finish()
            turn.say(t("Too many wrong codes: the request was cancelled. Nothing was changed."))
            return
        answers.otp_attempts = attempts
        left = VERIFY_ATTEMPTS - attempts
        raise Reject(
            tn("Wrong code: {count} attempt left.", "Wrong code: {count} attempts left.", left)
        )


def verify(*to: str) -> Step[Any]:
    """The step that waits for the code sent to the sender; `to`: where `confirmed` leads."""
    return Step(ConfirmedFlow.ask_verify, ConfirmedFlow.on_verify, to=to, again=False)
