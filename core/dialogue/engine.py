"""The dialogue engine: one inbound message in, the replies in the outbox, in one transaction.

Every channel adapter (SMS, Telegram, the terminal chat) calls `handle` with an
`Inbound` and delivers what the outbox holds afterwards. The engine knows no
channel: it resolves the municipality, loads where the conversation stands,
runs a step of a flow and records the new state with the replies, so a crash
never loses an answer nor sends a reply for a change that was not saved.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.bootstrap import Core
from core.dialogue import commands, questions, stray_codes
from core.dialogue.at_a_question import (
    IN_PROGRESS,
    _ask_after,
    _asked_again,
    _remind_doing,
    _worry_at_question,
)
from core.dialogue.context import (
    ACKNOWLEDGED,
    NOT_UNDERSTOOD,
    PHONE_CHANNELS,
    Input,
    Reject,
    Turn,
)
from core.dialogue.digit_and_phone import say_digit_and_phone
from core.dialogue.errors import error_text
from core.dialogue.flows import FLOWS
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows import community as community_chat
from core.dialogue.flows.appeal import adding_to_appeal
from core.dialogue.flows.base import Flow, Takes
from core.dialogue.flows.identify import SHOP_STAFF_PHONE, link_contact
from core.dialogue.flows.member_phone import shop_contact_unasked
from core.dialogue.flows.shop_finder import after_list, near, shops_named
from core.dialogue.inbound import Channel, Checkout, Inbound
from core.dialogue.languages import in_another_language, written_language
from core.dialogue.lost import answer_nothing_came, help_the_lost
from core.dialogue.menus import (
    IN_OUR_LANGUAGES,
    is_shop_member,
    is_unknown_number,
    offer_languages,
    offer_our_languages,
    offer_towns,
    say_help,
    show_menu,
    town_typed,
    way_to_language,
    welcome,
)
from core.dialogue.plain_turn import MAX_ADDRESS, PlainTurn, routed
from core.dialogue.state import ChatMemory, FlowState, load_memory, memory_to_save
from core.dialogue.words import (
    after_paga_slip,
    amount_alone,
    codice_fiscale_written,
    gives_up,
    has_digits,
    menu_digit_and_phone,
    payer_and_amount,
    plain_words,
    says_lost,
    says_nothing_came,
    signs_alone,
)
from core.domain.errors import DomainError
from core.domain.messages import Reply, Text, t
from core.i18n import LANGUAGES, render_text, supported
from core.services import conversations, identity, municipalities
from core.services.outbox import REPLY_LANE, enqueue
from core.services.transactions import retrying
from core.storage import models as m
from core.storage.transient import is_transient
from core.storage.turn_trip import TurnOutcome
from core.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# After this long without a message, a wrong answer to the question in progress also
# hears what was in progress and the question again (_ask_again).
LONG_PAUSE = timedelta(hours=2)
# A greeting alone, as questions.question_of reads it.
GREETING = ("greeting", "")
# A position shared while a question waits that takes none (a shop's position, "where?"
# of NEGOZI do): it answers nothing, and the request stays where it was.
NOT_A_POSITION = t("A position is not an answer to this question.")
# A voice message (an audio, a video note) without words under it, outside a request: said,
# then the menu of what can be written.
VOICE_NOT_HEARD = t("I cannot listen to voice messages: please write to me in words.")
# A photo, a file or a sticker without words under it, outside a request: the same.
NOT_READ = t(
    "I cannot read photos, files or stickers, and nobody sees them here: please write "
    "to me in words."
)
# An edit of a message (Telegram) read as a new one: only of the chat's latest message, made
# this soon after sending it (a typo corrected at once); otherwise it is said to send it
# again, for its answer may have been given and the chat moved on.
EDIT_WINDOW = timedelta(minutes=5)
ONLY_NEW_MESSAGES = t(
    "I read only new messages, not changes to older ones: please send it again as a new message."
)


def _aware(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


STOPPED = t(
    "Done: no more notices from us. Payment codes and receipts of your own payments still "
    "arrive. Write START to receive everything again."
)
RESUMED = t("Notices are on again.")
# By SMS the one message after START: the welcome and its menu would be a second SMS paid
# for one word, and the person already knows the service.
RESUMED_BY_SMS = t("Notices are on again. Write MENU to see what you can do.")


# Words asked about with nothing open that, at a question of the flow named, are that
# flow's own request: "negozio" at the shop search's question is a search, not "shops or
# your shop?" (questions.SHOP_OR_SHOPS).
_SAME_REQUEST = {questions.SHOP_OR_SHOPS: "shops"}


@dataclass(frozen=True)
class HandleResult:
    duplicate: bool = False
    outbox_ids: list[int] = field(default_factory=list)
    # One of them is about a payment (lane 0): the outbox's payment loop should look now.
    payments: bool = False
    # Answered in one trip (core/dialogue/plain_turn.py) rather than by the general path.
    one_trip: bool = False


@dataclass
class _Routing:
    conversation: m.Conversation
    municipality: m.Municipality | None
    towns: list[m.Municipality]
    created: bool
    # Several municipalities and no number to tell them apart: the person picks the town.
    by_choice: bool


def _left_halfway(turn: Turn) -> Text | None:
    """For a bare option number ("1", "2") with nothing asked: the reminder of a request left
    half-way (its draft kept), else None."""
    text = (turn.inbound.text or "").strip()
    if not (text.isdigit() and len(text) == 1):
        return None
    for name in turn.memory.drafts:
        flow = FLOWS.get(name)
        reminder = flow.draft_reminder() if flow is not None else None
        if reminder is not None:
            return reminder
    return None


class DialogueEngine:
    def __init__(self, core: Core, *, payments: bool = False, one_trip: bool = True) -> None:
        self.core = core
        # TELEGRAM_PAYMENT_PROVIDER_TOKEN is set: community vouchers and donations can be paid.
        self.payments = payments
        # Plain turns (SALDO, MENU, AIUTO, START) in one trip to the database
        # (core/dialogue/plain_turn.py); False runs every turn through the general path
        # (the differential tests do).
        self.one_trip = one_trip

    async def pre_checkout(self, checkout: Checkout) -> str | None:
        """Whether the provider may take this payment: None for yes, else why not, in the
        payer's language (answered at once, outside the conversation: reads only)."""
        async with self.core.uow() as uow:
            refusal = await community_chat.pre_checkout(uow, checkout, enabled=self.payments)
            if refusal is None:
                return None
            language = await community_chat.checkout_language(uow, checkout)
        return render_text(refusal, language)

    async def handle(self, inbound: Inbound) -> HandleResult:
        # A turn that lost a database race (a deadlock, a serialization failure) is run
        # again from the start: the person gets the answer, never the failure.
        return await retrying(lambda: self._handle_once(inbound))

    async def _handle_once(self, inbound: Inbound) -> HandleResult:
        now = self.core.now()
        plain = (
            PlainTurn(inbound, now, self.core.keys, payments=self.payments)
            if self.one_trip and PlainTurn.candidate(inbound)
            else None
        )
        if plain is not None:
            try:
                done = await self._one_trip(plain)
            except Exception as error:
                if is_transient(error):
                    raise  # the whole turn is retried by handle()
                # Nothing of the plan stayed (its savepoint or transaction rolled back):
                # the general path answers, as it answers any turn that is not plain.
                log.exception("one-trip turn failed (%s %s)", inbound.channel, inbound.address)
                done = None
            if done is not None:
                return HandleResult(
                    done.duplicate, done.outbox_ids, payments=done.payments, one_trip=True
                )
        async with self.core.uow() as uow:
            if inbound.provider_message_id and not await self._first_delivery(uow, inbound, now):
                return HandleResult(duplicate=True)
            if not inbound.address or len(inbound.address) > MAX_ADDRESS:
                # Nobody to answer: keep the delivery recorded, say nothing.
                await uow.commit()
                return HandleResult()
            routing = await self._route(uow, inbound, now)
            turn = self._turn(uow, inbound, routing, now)
            turn.payments = self.payments
            if self._late_edit(inbound, turn.memory):
                turn.say(ONLY_NEW_MESSAGES)
            else:
                # The message read now: an edit of it made soon after is read as a new one
                # (after a tap, the message that carried the button: nothing to edit).
                turn.memory.last_message = inbound.message_id
                await self._run_safely(turn, routing)
            messages = self._save(turn, routing, now)
            await uow.flush()
            ids = [message.id for message in messages]
            # Rows written by the services too (a shop's PAGA queues the citizen's code).
            payments = uow.queued_payment
            await uow.commit()
        return HandleResult(duplicate=False, outbox_ids=ids, payments=payments)

    async def ask_pending(self, channel: Channel, address: str) -> bool:
        """The question of the step a conversation stands at, queued again as a reply to
        that chat, as after a message that is no answer (_ask_again, the flow's own ask):
        for a chat opened again in the middle of a request (the terminal's), whose last
        message may be an error without its question. False, and nothing queued, when no
        request is open there, when asking the step does more than ask (a code step sends
        a new code), or when what the step waited for is over (the next message says so)."""
        now = self.core.now()
        async with self.core.uow() as uow:
            routing = await self._route(uow, Inbound(channel, address), now)
            if routing.created or routing.municipality is None:
                return False  # nothing is written: the unit of work is not committed
            turn = self._turn(uow, Inbound(channel, address), routing, now)
            flow = _asked_again(turn)
            if flow is None:
                return False
            if not await flow.still_allowed(turn) or await flow.gone(turn, Input()) is not None:
                return False
            await flow.ask(turn)
            if not turn.replies:
                return False
            self._save(turn, routing, now)
            await uow.commit()
        return True

    @staticmethod
    def _late_edit(inbound: Inbound, memory: ChatMemory) -> bool:
        """Whether the message is an edit not to be read as a new message: of a message
        that is not the chat's latest, or made long after it was sent (EDIT_WINDOW). The
        edit has its own delivery id: a retry of it is a duplicate like any other."""
        edited = inbound.edited
        if edited is None:
            return False
        latest = inbound.message_id is not None and inbound.message_id == memory.last_message
        return not latest or edited.after > EDIT_WINDOW

    async def _one_trip(self, plain: PlainTurn) -> TurnOutcome | None:
        """A plain turn in one trip, committed when this returns; None (nothing written)
        when the turn is not plain after all."""
        group = self.core.group_commit
        if group is not None:
            # SQLite: the turn joins the group commit (several turns per fsync) and this
            # returns once its batch is on disk.
            return await group.run(plain.transaction())
        async with self.core.uow() as uow:
            # PostgreSQL: the plan on the unit of work's connection, then its commit.
            done = await plain.in_unit_of_work(uow)
            if done is not None and not done.duplicate:
                await uow.commit()
            return done

    # Dedupe, routing, state -------------------------------------------------------------------

    async def _first_delivery(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> bool:
        """Record the provider's message id; False when it was handled already."""
        message_id = inbound.provider_message_id or ""
        return await conversations.record_inbound(uow, inbound.channel.value, message_id, now)

    async def _route(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> _Routing:
        towns = await municipalities.all_towns(uow)
        municipality = routed(towns, inbound.to)
        channel, address = inbound.channel.value, inbound.address
        by_choice = False
        if municipality is not None:
            conversation = await conversations.find_for_update(
                uow, municipality.id, channel, address
            )
        elif inbound.channel is Channel.SMS or not towns:
            conversation = await conversations.find_for_update(uow, None, channel, address)
        else:
            by_choice = True
            conversation = await conversations.latest_for_update(uow, channel, address)
            if conversation is not None and conversation.municipality_id is not None:
                municipality = next(
                    (x for x in towns if x.id == conversation.municipality_id), None
                )
            else:
                # Nothing tells the towns apart but who writes: a shop's cashier, a citizen
                # known in one of them is not asked where they live (and a cashier who
                # picked another town met a citizen's menu there). Someone known in
                # several, or in none, picks.
                municipality = await self._town_of_sender(uow, towns, inbound)
        created = False
        if conversation is None:
            conversation, created = await conversations.start(
                uow,
                municipality.id if municipality else None,
                channel,
                address,
                supported(inbound.language_hint),
                now,
            )
        return _Routing(conversation, municipality, towns, created, by_choice)

    @staticmethod
    async def _town_of_sender(
        uow: UnitOfWork, towns: list[m.Municipality], inbound: Inbound
    ) -> m.Municipality | None:
        """The one town the sender is known in (None: unknown, or known in several)."""
        phone = inbound.address if inbound.channel.value in PHONE_CHANNELS else None
        chat = inbound.address if inbound.channel is Channel.TELEGRAM else None
        known = await identity.towns_knowing(uow, towns, phone=phone, telegram_chat=chat)
        return known[0] if len(known) == 1 else None

    @staticmethod
    def _turn(uow: UnitOfWork, inbound: Inbound, routing: _Routing, now: datetime) -> Turn:
        conversation = routing.conversation
        memory = load_memory(conversation.data)
        # Where the conversation stands, if its flow, step and answers still fit the flows:
        # otherwise the person starts from the menu rather than meeting an error each time.
        flow = FLOWS.get(conversation.flow or "")
        step = conversation.step if flow is not None and conversation.step in flow.steps else None
        answers = flow.load(memory.state) if flow is not None and step is not None else None
        return Turn(
            uow=uow,
            now=now,
            inbound=inbound,
            conversation=conversation,
            municipality=routing.municipality,
            flow=conversation.flow if answers is not None else None,
            step=step if answers is not None else None,
            memory=memory,
            state=answers if answers is not None else FlowState(),
            language=conversation.language,
            stopped=conversation.stopped,
            new_chat=routing.created,
        )

    def _save(self, turn: Turn, routing: _Routing, now: datetime) -> list[m.OutboxMessage]:
        conversation = routing.conversation
        # A new object (not the mutated one) so that the JSON column is written.
        conversation.data = memory_to_save(
            turn.memory, turn.offered, turn.state if turn.flow is not None else None
        )
        conversation.flow, conversation.step = turn.flow, turn.step
        conversation.language = turn.language
        conversation.stopped = turn.stopped
        conversation.municipality_id = turn.municipality.id if turn.municipality else None
        conversation.updated_at = now
        municipality_id = turn.municipality.id if turn.municipality else None
        return [
            enqueue(
                turn.uow,
                municipality_id=municipality_id,
                channel=turn.channel,
                address=turn.address,
                language=turn.language,
                reply=reply,
                now=now,
                lane=REPLY_LANE,
            )
            for reply in turn.replies
        ]

    # Running a turn --------------------------------------------------------------------------

    async def _run_safely(self, turn: Turn, routing: _Routing) -> None:
        """Run the turn in a savepoint: a failure undoes its changes but keeps the dedupe record."""
        before = (
            turn.flow,
            turn.step,
            copy.deepcopy(turn.memory),
            copy.deepcopy(turn.state),
            turn.language,
            turn.municipality,
            turn.stopped,
        )
        try:
            async with turn.uow.savepoint():
                await self._run(turn, routing)
        except Exception as error:
            if is_transient(error):
                raise  # the whole turn is retried by handle()
            (
                turn.flow,
                turn.step,
                turn.memory,
                turn.state,
                turn.language,
                turn.municipality,
                turn.stopped,
            ) = before
            turn.replies, turn.offered = [], None
            turn.forget_citizen()
            await conversations.reload(turn.uow, routing.conversation)
            if isinstance(error, DomainError):
                turn.say(error_text(error))
            else:
                log.exception("dialogue turn failed (%s %s)", turn.channel, turn.address)
                turn.say(
                    t("Sorry, something went wrong on our side. Please try again in a few minutes.")
                )

    async def _run(self, turn: Turn, routing: _Routing) -> None:
        inbound = turn.inbound
        command = commands.of_message(inbound)

        if inbound.payment is not None:
            # Money taken by the provider: recorded whatever the chat was doing.
            await community_chat.payment_received(turn, inbound.payment)
            return

        if turn.stopped:
            if command is not None and command[0] == "start":
                turn.stopped = False
                if turn.channel != Channel.TELEGRAM.value:
                    turn.say(RESUMED_BY_SMS)
                    return
                turn.say(RESUMED)
            elif (
                command is not None
                and command[0] == "stop"
                and turn.channel != Channel.TELEGRAM.value
            ):
                # By SMS a second STOP gets no answer: STOP was confirmed once, and an
                # answering machine replying STOP to every SMS must not start a loop.
                return
            # Otherwise the person wrote to us: the question gets its answer (an elderly
            # user who wrote "Stop." to end a question must not find the service mute),
            # while general notices stay off until START.
        if command is not None and command[0] == "stop":
            await commands.interrupt(turn)
            turn.stopped = True
            # The one message after STOP: what stops, what still arrives, how to undo it.
            turn.say(STOPPED)
            return

        if turn.municipality is None:
            await self._without_town(turn, routing, command)
            return
        if command is not None and command[0] == "town":
            await self._change_town(turn, routing)
            return

        if routing.created and not turn.memory.language_chosen:
            citizen = await turn.citizen()
            if citizen is not None:
                turn.language = citizen.language if citizen.language in LANGUAGES else turn.language
            else:
                # A new number answered in the language its first message is written in
                # ("HELP", "hello", "balance": English), else the default; LINGUA changes it.
                turn.language = (
                    written_language(inbound.text, inbound.language_hint) or turn.language
                )

        if command is None and turn.step is not None and inbound.option is None:
            # "SALD0" where a question waits is SALDO written there, as it is where nothing
            # is asked (typo_of): on a keypad O and 0 share a key, and it was taken for the
            # question's answer (a name, "This is not an amount").
            keypad = commands.keypad_keyword(inbound.text)
            command = (keypad, "") if keypad is not None else None
        # Right after a shop list only: whatever this message is, the next one is not.
        listed, turn.memory.listed = turn.memory.listed, None
        inp = Turn.read(inbound, list(turn.memory.options))
        open_flow = FLOWS.get(turn.flow or "")
        # A question of a flow that reads requests (the shop search's "which town or
        # type?"): words that are another request are that request.
        reading = turn.step is not None and open_flow is not None and open_flow.reads_requests
        typed = command
        command = commands.of_answer(
            command, inp, inbound.text, asked=turn.step is not None and not reading
        )
        if (
            reading
            and typed is None
            and command is not None
            and (
                command[0] in (turn.flow, ACKNOWLEDGED)
                or _SAME_REQUEST.get(command[0]) == turn.flow
            )
        ):
            # Words of the flow's own request ("tutti i negozi", "dove li posso spendere?"
            # at the shop question) answer its question, as before; so does an "ok", which
            # the question reads (what to write there).
            command = None
        if (
            command is None
            and inp.choice is None
            and open_flow is not None
            and open_flow.acts_for_shop is not None
            and turn.step is not None
        ):
            # "Quanto ho incassato oggi?" at a till's question (a payment waiting for its
            # code): the statement, as RESOCONTO OGGI there, the payment still waiting named
            # first; never a code of the wrong kind nor "write the code" again.
            command = questions.shop_question(inbound.text)
        if (
            command is None
            and inp.choice is None
            and open_flow is not None
            and turn.step is not None
            and gives_up(inbound.text)
            and open_flow.stopped_in_words(turn) is not None
        ):
            # "Basta", "lascia stare" at an application's question: ANNULLA, said so (not
            # "this is not a codice fiscale"). Only where the flow allows it: at a till's
            # amount "basta" stops nothing.
            command = ("cancel", commands.GAVE_UP)
        at = (turn.flow, turn.step)
        # The conversation as it stood before this message (the previous turn's time).
        pause = turn.now - _aware(routing.conversation.updated_at)
        # The question waiting offered buttons (numbered choices by SMS).
        offered = bool(turn.memory.options)
        try:
            await self._dispatch(turn, routing, inp, command, listed=listed)
            if command is None and at[1] is not None and pause >= LONG_PAUSE:
                _remind_doing(turn, at)
        except Reject as wrong:
            if (
                command is None
                and offered
                and at[1] is not None
                and (turn.flow, turn.step) == at
                and await _worry_at_question(turn, open_flow, wrong, pause >= LONG_PAUSE)
            ):
                return
            # A wrong answer: explained, and the conversation stays on its step. Written in
            # English to an Italian chat ("sorry, can you write in English?"), the way to
            # English follows the error, which its writer may not read.
            way = way_to_language(turn)
            if way is None and in_another_language(inbound.text):
                # "Je ne sais pas", "sí, somos cuatro": a language we do not speak; the
                # two ways to ours, in both, as English gets the way to English.
                way = IN_OUR_LANGUAGES
            texts = wrong.texts
            hint = tuple(text for text in texts if text.msgid != NOT_UNDERSTOOD.msgid)
            if signs_alone(inbound.text) or (way is not None and hint):
                # "?" or "💶" alone: someone asking what to write here, not a wrong answer;
                # "sorry I don't speak Italian" to an Italian chat: her words were read, in
                # a language the chat does not speak. The question's hint, without "Sorry,
                # I did not understand", the way to her language, and the question again
                # (_ask_again).
                texts = hint
            turn.say(*texts, *((way,) if way is not None else ()), request=wrong.request)
            if command is None and at[1] is not None and (turn.flow, turn.step) == at:
                await self._ask_again(turn, inp, pause >= LONG_PAUSE)

    @staticmethod
    async def _ask_again(turn: Turn, inp: Input, paused: bool) -> None:
        """After the error, the question again when the message was no answer to it (words
        without a digit: "buonasera sono tornato" where an amount is asked; a wrong
        number only gets the error), or after a long pause, then saying what was in
        progress. The error and the question make one SMS when they fit. For every flow
        and step alike, except steps whose question does more than ask (a code step
        sends a new code)."""
        flow = _asked_again(turn)
        if flow is None:
            return
        if has_digits(plain_words(inp.text)) and not paused:
            return
        error = turn.replies.pop()
        said = error.texts
        if paused and error.request is None and questions.question_of(inp.text) == GREETING:
            # "Buongiorno" from someone coming back to a question left the day before is
            # no wrong answer ("This is not an amount"): what was in progress, the question.
            said = ()
        texts = [*((flow.doing or IN_PROGRESS,) if paused else ()), *said]
        if error.request is not None:
            # The error asks again itself, with the question's button (share the phone
            # number, the location): the question once more would be a second message
            # saying the same.
            turn.replies.append(replace(error, texts=tuple(texts)))
            return
        await _ask_after(turn, flow, texts, replace(error, texts=tuple(texts)))

    @staticmethod
    async def _said_at_step(turn: Turn, flow: Flow[Any], said: list[Text]) -> None:
        """`said`, then the step's question again (a step whose asking does more than ask,
        a code step, is left to its last message). Nothing of the request changes: no
        answer recorded, no wrong try counted. For a payment code sent here while a
        question waits (the cashier's, or one expired or whose payment is over), and a
        contact a shop's chat shares unasked."""
        if not flow.steps[str(turn.step)].again:
            turn.say(*said)
            return
        await _ask_after(turn, flow, said, Reply(texts=tuple(said)))

    async def _dispatch(
        self,
        turn: Turn,
        routing: _Routing,
        inp: Input,
        command: tuple[str, str] | None,
        *,
        listed: str | None = None,
    ) -> None:
        if command is not None:
            await commands.run(turn, *command)
            commands.hint_english(turn, command[0])
            return
        if inp.choice is not None and await self._global_choice(turn, routing, inp.choice):
            return
        flow = FLOWS.get(turn.flow or "")
        if inp.contact is not None and (flow is None or turn.step not in flow.contact_steps):
            unasked = await shop_contact_unasked(turn, inp)
            if unasked is not None:
                # A shop's chat: no citizen's identity is at stake, and a request open
                # here carries on at its step.
                if flow is not None and turn.step is not None:
                    await self._said_at_step(turn, flow, [unasked])
                else:
                    turn.say(unasked)
                return
        if (
            inp.contact is not None
            and flow is not None
            and turn.step is not None
            and turn.step not in flow.contact_steps
        ):
            # A contact shared in the middle of a request (the application, a shop's
            # registration): keep the number, and carry on at the same step.
            linked = await link_contact(turn, inp.contact)
            if linked.refused:
                await commands.interrupt(turn)
                turn.say(linked.refusal)
                return
            turn.say(t("Thank you: we have your phone number."))
            await flow.ask(turn)
            return
        if inp.contact is not None and (flow is None or turn.step not in flow.contact_steps):
            linked = await link_contact(turn, inp.contact)
            if linked.delegate:
                # The chat was linked to the holder its number is the delegate of: it now
                # acts as that delegate, and is answered so (the balance it acts for).
                await commands.interrupt(turn)
                turn.say(linked.refusal)
                await citizen_requests.show_balance(turn)
            elif linked.refused:
                await commands.interrupt(turn)
                turn.say(linked.refusal)
            elif linked.shop:
                turn.say(SHOP_STAFF_PHONE)
            elif linked.citizen is None and await citizen_requests.represented(turn):
                # A delegate's phone: the balance it acts for, as at the contact question.
                await citizen_requests.show_balance(turn)
            elif linked.citizen is None:
                turn.say(*await citizen_requests.no_vouchers(turn))
            else:
                # A plain text first: on Telegram it takes the contact button off the screen.
                turn.say(t("Thank you: we recognised your number."))
                await show_menu(turn)
            return
        if (
            inp.location is not None
            and flow is not None
            and turn.step is not None
            and turn.step not in flow.location_steps
        ):
            # A position where a question waits for words: it answers nothing, and the
            # question comes again (the request and its draft stay as they were).
            raise Reject(NOT_A_POSITION)
        if inp.location is not None and (flow is None or turn.step not in flow.location_steps):
            reminder = await commands.interrupt(turn)
            await near(turn, inp.location)
            commands.remind(turn, reminder)
            return
        if flow is not None and turn.step is not None:
            if not await flow.still_allowed(turn):
                # Removed from the shop since the request began: it ends here, unanswered.
                turn.finish()
                await show_menu(
                    turn, t("You no longer work for this shop: the request was stopped.")
                )
                return
            gone = await flow.gone(turn, inp)
            if gone is not None:
                # What the step waited for ended elsewhere (the customer refused the
                # payment whose code the till waits for): the request is over, and the
                # message is no answer to it. Said so when it was meant as one (a code),
                # else read as if nothing were open.
                turn.finish()
                if gone.said is not None:
                    turn.add(gone.said)
                    return
                fresh = commands.of_answer(
                    commands.of_message(turn.inbound), inp, turn.inbound.text, asked=False
                )
                await self._dispatch(turn, routing, inp, fresh)
                return
            if flow.acts_for_shop is None and not flow.awaits_this_code(turn):
                # Six digits alone, from the chat a payment code was sent to: that code is
                # the cashier's, not this question's answer (nor a wrong try of a code
                # step). A till's questions are left alone: codes are what customers tell.
                # The step's own code, should a payment code have the same digits, is the
                # step's.
                said = await stray_codes.payment_for_code(turn)
                if said is not None:
                    await self._said_at_step(turn, flow, said)
                    return
            if turn.inbound.voice and not inp.text:
                # Nobody can listen to it: said, then the question again.
                raise Reject(flow.voice_not_heard(turn))
            if (
                turn.inbound.attachment
                and not inp.text
                and flow.steps[turn.step].takes is Takes.TEXT
            ):
                # A photo (of the ISEE paper, at the income question), a file, a sticker:
                # no answer, not even an empty one to judge. Nobody reads it, which is said,
                # then the question again. A step that takes a contact or a position keeps
                # its own answer to it (its button again).
                raise Reject(flow.not_read(turn))
            await flow.answer(turn, inp)
            return
        if turn.inbound.attachment and not inp.text:
            # (A voice message is an attachment too: no text, only something to listen to.)
            # Not the help, which would read as if the words had been misunderstood. As the
            # first message of a chat, after the welcome a first "hello" gets.
            unread = VOICE_NOT_HEARD if turn.inbound.voice else NOT_READ
            await show_menu(turn, welcome(turn) if routing.created else None, unread)
            return
        if await stray_codes.on_code(turn, inp):
            # A code no step waits for: a request left at its code step, or a payment code.
            return
        digit_and_phone = menu_digit_and_phone(turn.inbound.text)
        if digit_and_phone is not None:
            # "5 3331000002": a menu's number and a phone in one message. Not guessed (option
            # 5 with a number, or 5 euro from that phone?): what to write, nothing started.
            await say_digit_and_phone(turn, *digit_and_phone)
            return
        # "pag RSSMRA85T10A562S 4", or "RSSMRA85T10A562S 4" with no PAGA at all (the next
        # customer after a payment): at a shop's chat, PAGA (its code still needed).
        slip = after_paga_slip(turn.inbound.text) or payer_and_amount(turn.inbound.text)
        if slip is not None and await is_shop_member(turn):
            await commands.run(turn, "charge", slip)
            return
        typo = commands.typo_of(turn.inbound.text)
        if typo is not None:
            # Nothing is asked here: a near miss of a keyword is that keyword.
            await commands.on_typo(turn, typo)
            return
        if await stray_codes.on_words_while_paying(turn):
            # "no", "ok" in answer to a payment code: the payment, and how to answer it.
            return
        if amount_alone(turn.inbound.text) and not await is_shop_member(turn):
            # "50 euro" with nothing asked, from someone at a till who thinks she pays by
            # typing it (a payment waiting for her code was named above): how paying works,
            # not the list of every word. A shop's chat gets its help, which names PAGA. As
            # the first message of a number the town does not know, whose number this is
            # comes first, as for any other first message (in two SMS when one cannot hold both).
            first = routing.created and await is_unknown_number(turn)
            turn.say_split(*((welcome(turn),) if first else ()), commands.AMOUNT_TYPED)
            return
        if listed is not None and await after_list(turn, listed):
            # "TESTVILLE", "via roma" right after the shop list (a keyword's slip, above,
            # stays that keyword): the shops there, not "not understood".
            return
        if await shops_named(turn):
            # "FARMACIA BELFORTE", "negozio via roma" without NEGOZI (as a first message, the
            # welcome came): the shops NEGOZI finds with those words.
            return
        cf_alone = codice_fiscale_written(turn.inbound.text)
        if cf_alone and await citizen_requests.codice_fiscale_alone(turn):
            # Someone else's codice fiscale (a daughter's mother's): how their vouchers are
            # asked, the same whether the code is anybody's or not; the holder's own, from
            # her phone: she is known here.
            return
        if await adding_to_appeal(turn, turn.inbound.text):
            # "Volevo aggiungere una cosa" after an appeal: how to add to it, not the help.
            return
        if not await is_shop_member(turn):
            if says_lost(turn.inbound.text):
                # "Sono anziana, non so usare il telefono": a hand and the menu.
                await help_the_lost(turn)
                return
            if says_nothing_came(turn.inbound.text):
                # "Non ho ricevuto niente": her code, else her application's state.
                if routing.created:
                    turn.say(welcome(turn))
                await answer_nothing_came(turn)
                return
        if in_another_language(turn.inbound.text):
            # "Bonjour, j'ai besoin d'aide", "مرحبا": which of our languages, in both.
            offer_our_languages(turn, welcome(turn) if routing.created else None)
        elif routing.created:
            await show_menu(turn, welcome(turn))
        elif (reminder := _left_halfway(turn)) is not None:
            # "1" meant for the question a request left half-way asked (the consent, before
            # SALDO): nothing is asked now, so it answers nothing; that request waits, and
            # how to go back to it is said, not the list of every word.
            turn.say(reminder)
        elif signs_alone(turn.inbound.text):
            # "?" or "💶" alone: help asked for, as "non capisco" asks it, not words we did
            # not understand.
            await say_help(turn, in_words=True)
        else:
            # Unknown words: the help says which words work.
            await say_help(turn, understood=False)

    async def _global_choice(self, turn: Turn, routing: _Routing, choice: str) -> bool:
        """Buttons that mean the same at every step: a language, a shop, a town."""
        prefix, _, value = choice.partition(":")
        if prefix == "lang" and value in LANGUAGES:
            await commands.set_language(turn, value)
            return True
        if prefix == "shop" and value.isdigit():
            await commands.choose_shop(turn, int(value))
            return True
        if prefix == "town" and value.isdigit() and routing.by_choice:
            await self._pick_town(turn, routing, int(value))
            return True
        return False

    # Municipalities ---------------------------------------------------------------------------

    async def _without_town(
        self, turn: Turn, routing: _Routing, command: tuple[str, str] | None
    ) -> None:
        if not routing.by_choice:
            # An SMS to a number no municipality uses (or nothing is set up yet): say so once a day.
            today = turn.now.astimezone(ZoneInfo("Europe/Rome")).date()
            if turn.memory.notice_on != today:
                turn.memory.notice_on = today
                turn.say(
                    t(
                        "This number is not active for grocery vouchers. Please contact "
                        "your municipality."
                    )
                )
            return
        if command is not None and command[0] == "language":
            language = commands.language_asked(command[1])
            if language is None:
                offer_languages(turn)
                return
            turn.set_language(language)
        elif not turn.memory.language_chosen:
            # The town question in the language the words are written in ("hello", "hi, I
            # need help with food": English, whatever the app's language), as a new chat's
            # first answer is once the town is known; the menu after the town keeps it.
            turn.language = written_language(turn.inbound.text, turn.inbound.language_hint) or (
                turn.language
            )
        inp = Turn.read(turn.inbound, list(turn.memory.options))
        chosen: int | None = None
        if inp.choice and inp.choice.startswith("town:") and inp.choice[5:].isdigit():
            chosen = int(inp.choice[5:])
        elif inp.choice and inp.choice.startswith("lang:") and inp.choice[5:] in LANGUAGES:
            turn.set_language(inp.choice[5:])
        elif inp.word:
            # Its name in any case, in a sentence, or with a slip ("OTHERVILE").
            chosen = town_typed([(x.id, x.name) for x in routing.towns], inp.text)
        if chosen is not None and any(x.id == chosen for x in routing.towns):
            await self._pick_town(turn, routing, chosen)
            return
        if inp.choice is None and in_another_language(turn.inbound.text):
            # Which of our languages first (a tapped one asks the town next).
            offer_our_languages(turn)
            return
        offer_towns(turn, [(x.id, x.name) for x in routing.towns])

    async def _pick_town(self, turn: Turn, routing: _Routing, town_id: int) -> None:
        town = next((x for x in routing.towns if x.id == town_id), None)
        if town is None:
            offer_towns(turn, [(x.id, x.name) for x in routing.towns])
            return
        if town.id != routing.conversation.municipality_id:
            # One conversation per chat: a stale one kept for that town would clash with this one.
            stale = await conversations.find_for_update(
                turn.uow, town.id, turn.channel, turn.address
            )
            if stale is not None and stale.id != routing.conversation.id:
                await conversations.forget(turn.uow, stale)
            await commands.interrupt(turn)
            turn.memory.shop_id = None
        turn.municipality = town
        turn.forget_citizen()
        await show_menu(turn, welcome(turn))

    async def _change_town(self, turn: Turn, routing: _Routing) -> None:
        if not routing.by_choice or len(routing.towns) < 2:
            await show_menu(turn)
            return
        await commands.interrupt(turn)
        offer_towns(turn, [(x.id, x.name) for x in routing.towns])
