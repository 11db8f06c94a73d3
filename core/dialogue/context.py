"""One turn of a conversation: who wrote, what they sent, where the chat stands, what to answer.

Flows read and change a `Turn`; the engine loads it from the database before
the flow runs and writes it back (state, options offered, replies to the
outbox) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.dialogue.inbound import Channel, Inbound, SharedContact, SharedLocation
from core.dialogue.render import render_parts, sms_septets_at_most
from core.dialogue.state import ChatMemory, FlowState, Offered
from core.dialogue.words import clean, fold, yes_or_no
from core.domain import gsm7
from core.domain.identity import phone_or_none
from core.domain.messages import DocumentRef, Invoice, MapPin, Option, Reply, Request, Text, t
from core.domain.policy import Policy
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, render_text, supported
from core.services import identity, shops
from core.services.municipalities import policy_of
from core.services.outbox import citizen_channel
from core.storage import models as m
from core.storage.uow import UnitOfWork


class Reject(Exception):
    """A wrong answer: the texts explain it, the conversation stays on the same step.

    `request` asks again for what the step waits for (the contact button stays on screen)."""

    def __init__(self, *texts: Text, request: Request | None = None) -> None:
        super().__init__(texts)
        self.texts = texts
        self.request = request


@dataclass(frozen=True)
class Input:
    """One inbound message, as a flow step sees it."""

    text: str = ""  # cleaned; "" when the message carried no text
    choice: str | None = None  # an option key: a tapped button, or "2" / a label typed
    location: SharedLocation | None = None
    contact: SharedContact | None = None

    @property
    def word(self) -> str:
        return fold(self.text)


# Said before a yes-or-no question's reminder when the answer was neither ("boh", "si no"):
# the question stands, and nothing was changed.
NOT_UNDERSTOOD = t("Sorry, I did not understand.")


# Channels where the sender's address is a phone number: SMS, and the terminal chat,
# which stands in for a phone (`buonispesa chat --phone`).
PHONE_CHANNELS = frozenset({Channel.SMS.value, Channel.TERMINAL.value})
# Channels whose sender address can be forged: what moves money or changes
# an application must be confirmed with a code sent to that address. The terminal chat
# behaves like SMS here so that the confirmation can be tried out.
UNTRUSTED_CHANNELS = PHONE_CHANNELS


@dataclass
class Turn:
    uow: UnitOfWork
    now: datetime
    inbound: Inbound
    conversation: m.Conversation
    municipality: m.Municipality | None
    flow: str | None
    step: str | None
    memory: ChatMemory
    state: FlowState  # the current flow's answers (see Flow.state for its own type)
    language: str
    stopped: bool = False
    # The conversation began with this message: nothing was shown in its language yet (a
    # button tapped now was not drawn by this chat, languages.tapped_language).
    new_chat: bool = False
    # Telegram Payments configured (TELEGRAM_PAYMENT_PROVIDER_TOKEN): invoices can be sent.
    payments: bool = False
    replies: list[Reply] = field(default_factory=list)
    # Options offered in this turn (None: the previous ones still stand).
    offered: list[Offered] | None = None
    _citizen: m.Citizen | None = None
    _citizen_loaded: bool = False

    # --- who and where --------------------------------------------------------------

    @property
    def channel(self) -> str:
        return self.inbound.channel.value

    @property
    def address(self) -> str:
        return self.inbound.address

    @property
    def untrusted(self) -> bool:
        return self.channel in UNTRUSTED_CHANNELS

    @property
    def is_sms(self) -> bool:
        return self.channel == Channel.SMS.value

    @property
    def town(self) -> m.Municipality:
        """The municipality; flows run only once it is known."""
        assert self.municipality is not None, "flows run only inside a municipality"
        return self.municipality

    @property
    def policy(self) -> Policy:
        return policy_of(self.town)

    def phone(self) -> str | None:
        """The sender's own phone number: the address on SMS, a shared contact on Telegram."""
        if self.channel in PHONE_CHANNELS:
            return phone_or_none(self.address)
        return self.memory.phone or None

    async def proven_phone(self) -> str | None:
        """The phone this chat has proven: on Telegram the linked citizen's, else the contact
        shared here (Telegram checked it). On SMS the address, which a flow proves with a
        code before it changes anything."""
        if self.channel == Channel.TELEGRAM.value:
            citizen = await self.citizen()
            if citizen is not None and citizen.phone:
                return citizen.phone
        return self.phone()

    async def citizen(self) -> m.Citizen | None:
        """The citizen this address belongs to, if any: by phone, or by linked Telegram chat."""
        if self._citizen_loaded:
            return self._citizen
        citizen: m.Citizen | None = None
        if self.municipality is not None:
            if self.channel in PHONE_CHANNELS:
                citizen = await identity.citizen_of(self.uow, self.town.id, phone=self.phone())
            elif self.channel == Channel.TELEGRAM.value:
                citizen = await identity.citizen_of(
                    self.uow, self.town.id, telegram_chat=self.address
                )
        self._citizen, self._citizen_loaded = citizen, True
        return citizen

    def receives_notices_of(self, citizen: m.Citizen) -> bool:
        """Whether this chat is where the citizen's notices go (see citizen_channel)."""
        return self.is_reached_at(citizen_channel(citizen))

    def is_reached_at(self, destination: tuple[str, str] | None) -> bool:
        """Whether a message sent to `destination` (channel, address) arrives in this chat:
        its own address, or, writing from a phone, an SMS to that phone however its number
        was written."""
        if destination is None:
            return False
        if destination == (self.channel, self.address):
            return True
        return self.channel in PHONE_CHANNELS and destination == (Channel.SMS, self.phone())

    def forget_citizen(self) -> None:
        self._citizen_loaded = False

    async def memberships(self) -> list[tuple[m.ShopMember, m.Shop]]:
        """The shops this address works for, in this municipality."""
        if self.municipality is None:
            return []
        rows = await shops.shops_of_member(self.uow, self.channel, self.address)
        return [(member, shop) for member, shop in rows if shop.municipality_id == self.town.id]

    async def member_of(self, shop_id: int) -> m.ShopMember | None:
        """This address's place in the shop `shop_id` (None: it no longer works there)."""
        for member, shop in await self.memberships():
            if shop.id == shop_id:
                return member
        return None

    async def shop(self) -> tuple[m.ShopMember, m.Shop] | None:
        """The shop this address acts for now: the one chosen, else the only one."""
        rows = await self.memberships()
        chosen = self.memory.shop_id
        for member, shop in rows:
            if shop.id == chosen:
                return member, shop
        return rows[0] if len(rows) == 1 else None

    # --- state ----------------------------------------------------------------------

    def go(self, flow: str, step: str, state: FlowState | None = None) -> None:
        """Stand at a step (flows move with Flow.goto, which checks their step table)."""
        if state is not None or flow != self.flow:
            self.state = state if state is not None else FlowState()
        self.flow, self.step = flow, step
        self.offered = []

    def finish(self) -> None:
        self.flow, self.step = None, None
        self.state = FlowState()
        self.offered = []

    def set_language(self, language: str) -> None:
        self.language = supported(language)
        self.memory.language_chosen = True

    # --- replies --------------------------------------------------------------------

    def say(
        self,
        *texts: Text,
        options: tuple[Option, ...] | list[Option] = (),
        request: Request | None = None,
        sensitive: bool = False,
        pin: MapPin | None = None,
        document: DocumentRef | None = None,
        invoice: Invoice | None = None,
    ) -> None:
        self.add(
            Reply(
                texts=tuple(texts),
                options=tuple(options),
                request=request,
                pin=pin,
                document=document,
                sensitive=sensitive,
                invoice=invoice,
            )
        )

    def add(self, reply: Reply) -> None:
        """A reply made by a pure function (e.g. flows/citizen.balance_reply)."""
        self.replies.append(reply)
        if reply.options:
            self.offered = offered_of(reply.options)

    def fits_sms(self, texts: list[Text], options: tuple[Option, ...] | list[Option] = ()) -> bool:
        return fits_sms(texts, options, self.language)

    def say_split(self, *texts: Text, options: tuple[Option, ...] | list[Option] = ()) -> None:
        """Texts and a question with options: one reply, or two SMS when one would not fit."""
        for reply in split_replies(texts, options, language=self.language, sms=self.is_sms):
            self.add(reply)

    def fitting_options(self, texts: list[Text], options: list[Option]) -> list[Option]:
        """On SMS, the first options that fit one segment with the question (at least one)."""
        shown = list(options)
        if self.is_sms:
            while len(shown) > 1 and not self.fits_sms(texts, shown):
                shown.pop()
        return shown

    def say_fitting(
        self, *head: Text, lines: list[Text], options: tuple[Option, ...] | list[Option] = ()
    ) -> None:
        """One reply: the head and the lines, as many lines as fit one SMS on SMS."""
        self.add(fitting_reply(head, lines, options, language=self.language, sms=self.is_sms))

    def say_summary(
        self, lines: list[Text], question: Text, *, options: tuple[Option, ...] | list[Option] = ()
    ) -> None:
        """A summary (one labelled line per answer) and the question about it: one message
        with buttons on Telegram; on SMS as few single-segment messages as the lines need."""
        if not self.is_sms:
            self.say(*lines, question, options=options)
            return
        page: list[Text] = []
        for line in lines:
            if page and not self.fits_sms([*page, line]):
                self.say(*page)
                page = []
            page.append(line)
        if page and not self.fits_sms([*page, question], options):
            self.say(*page)
            page = []
        self.say(*page, question, options=options)

    # --- reading the answer ---------------------------------------------------------

    @staticmethod
    def read(inbound: Inbound, offered: list[Offered]) -> Input:
        """Turn an inbound message into an Input, mapping "2" or a label to an offered key."""
        text = clean(inbound.text)
        if inbound.option:
            return Input(text=text, choice=inbound.option[:64])
        choice: str | None = None
        if text and offered:
            word = fold(text)
            place = _place_in_words(word)
            if word.isdigit() and 1 <= int(word) <= len(offered):
                choice = offered[int(word) - 1].k
            elif place is not None and place <= len(offered):
                choice = offered[place - 1].k
            else:
                for item in offered:
                    if word and (word in item.w or word == fold(item.k)):
                        choice = item.k
                        break
            if choice is None:
                choice = _yes_or_no_choice(offered, text)
        return Input(text=text, choice=choice, location=inbound.location, contact=inbound.contact)


# An option picked in words, as an elderly person answers a numbered list ("tre", "la
# terza", "the second"): up to the longest list an SMS holds.
_PLACES = {
    word: place
    for place, words in enumerate(
        (
            ("uno", "una", "prima", "primo", "one", "first"),
            ("due", "seconda", "secondo", "two", "second"),
            ("tre", "terza", "terzo", "three", "third"),
            ("quattro", "quarta", "quarto", "four", "fourth"),
            ("cinque", "quinta", "quinto", "five", "fifth"),
            ("sei", "sesta", "sesto", "six", "sixth"),
            ("sette", "settima", "settimo", "seven", "seventh"),
            ("otto", "ottava", "ottavo", "eight", "eighth"),
            ("nove", "nona", "nono", "nine", "ninth"),
        ),
        start=1,
    )
    for word in words
}
_BEFORE_A_PLACE = frozenset({"la", "il", "lo", "l", "the", "numero", "number", "n", "opzione"})


def _place_in_words(folded: str) -> int | None:
    words = [
        w for w in folded.replace("'", " ").replace(".", " ").split() if w not in _BEFORE_A_PLACE
    ]
    return _PLACES.get(words[0]) if len(words) == 1 else None


def _yes_or_no_choice(offered: list[Offered], text: str) -> str | None:
    """The option a yes or a no in other words picks ("si grazie", "certo", "nope"): the
    option keyed yes/no of a yes-or-no question, or one labelled just Yes/No ("Did you mean
    DOMANDA?"). None when the message is neither, or nothing offered is a yes or a no."""
    if not any(item.k in ("yes", "no") or "yes" in item.w or "no" in item.w for item in offered):
        return None  # not a yes-or-no question: the message need not be read as one
    answer = yes_or_no(text)
    if answer is None:
        return None
    key, label = ("yes", "yes") if answer else ("no", "no")
    for item in offered:
        if item.k == key or label in item.w:
            return item.k
    if not answer and len(offered) == 1 and offered[0].k not in ("yes", "no"):
        # "No grazie" to a suggestion offering only a Yes ("Did you mean DOMANDA?").
        return DECLINED
    return None


# The choice of a no to a suggestion that offers only a Yes (commands.run answers it).
DECLINED = "declined"
# The command of an acknowledgement ("ok", "va bene", "ricevuto"): answered as DECLINED is,
# but a question that reads requests in words (the shop search's) reads it as its own
# answer (engine).
ACKNOWLEDGED = "acknowledged"


# Pure pieces of a turn, shared with the one-trip plain turn (core/dialogue/plain_turn.py).


def offered_of(options: Sequence[Option]) -> list[Offered]:
    """What a question's options leave for the next message: each key with its label
    folded in every language, so that a typed "saldo" or "balance" picks the option as
    well as "1" does."""
    return [_offered(option) for option in options]


def offered_by(replies: Sequence[Reply]) -> list[Offered] | None:
    """What replies said one after another leave offered, as Turn.add leaves it: the
    options of the last one that has any (None: none had any, the previous ones stand)."""
    offered: list[Offered] | None = None
    for reply in replies:
        if reply.options:
            offered = offered_of(reply.options)
    return offered


# The folded words of fixed labels (no parameters), worked out once per process.
_FIXED_LABELS: dict[tuple[str, str], tuple[str, ...]] = {}


def _offered(option: Option) -> Offered:
    label = option.label
    fixed = not label.params and label.plural is None
    words = _FIXED_LABELS.get((option.key, label.msgid)) if fixed else None
    if words is None:
        words = tuple(sorted({fold(render_text(label, lang)) for lang in LANGUAGES}))
        if fixed:
            _FIXED_LABELS[option.key, label.msgid] = words
    return Offered(option.key, list(words))


def fits_sms(
    texts: Sequence[Text], options: Sequence[Option] = (), language: str = DEFAULT_LANGUAGE
) -> bool:
    """Whether these texts and options, rendered in `language`, fit one SMS segment."""
    # Counted first from the templates and the parameters' words: an SMS that fits by that
    # count fits (a balance's five texts: about a fifth of rendering them); only one that
    # may not is rendered.
    septets = sms_septets_at_most(texts, options, language)
    if septets is not None and septets <= gsm7.SINGLE_GSM7:
        return True
    # Rendered for SMS: every text through to_gsm7, the options' numbers and the line
    # breaks GSM-7's own, so the whole is GSM-7 and only its septets are counted.
    rendered = render_parts(texts, options, language, sms=True)
    return gsm7.gsm7_fits_one(rendered)


def split_replies(
    texts: Sequence[Text], options: Sequence[Option] = (), *, language: str, sms: bool
) -> list[Reply]:
    """Texts and a question with options: one reply, or two SMS when one would not fit
    (the question and its options go second)."""
    if sms and len(texts) > 1 and not fits_sms(texts, options, language):
        return [Reply(texts=tuple(texts[:-1])), Reply(texts=(texts[-1],), options=tuple(options))]
    return [Reply(texts=tuple(texts), options=tuple(options))]


def fitting_reply(
    head: Sequence[Text],
    lines: Sequence[Text],
    options: Sequence[Option] = (),
    *,
    language: str,
    sms: bool,
    tail: Sequence[Text] = (),
) -> Reply:
    """One reply: the head and the lines, as many lines as fit one SMS on SMS, then the
    `tail`, which takes the place of lines (left out only when the head and it alone
    would not fit)."""
    if sms and tail and not fits_sms([*head, *tail], options, language):
        tail = ()
    shown = list(lines)
    if sms:
        while shown and not fits_sms([*head, *shown, *tail], options, language):
            shown.pop()
    return Reply(texts=(*head, *shown, *tail), options=tuple(options))
