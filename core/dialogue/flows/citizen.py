"""A citizen's one-shot requests: balance and last movements, application status, card code.

On Telegram a chat proves nothing until the person shares their own contact:
then the phone number finds the citizen and the chat is linked to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.dialogue.context import PHONE_CHANNELS, Turn, fitting_reply
from core.dialogue.errors import IDENTITY_REFUSED, error_text
from core.dialogue.menus import way_to_language
from core.dialogue.state import IdentifyState
from core.dialogue.words import written_codice_fiscale
from core.domain import cards
from core.domain.channels import Channel
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_codice_fiscale
from core.domain.ledger import PostingKind
from core.domain.messages import Day, DocumentRef, Moment, Money, Option, Reply, Text, t, tn
from core.domain.policy import Policy
from core.services import delegates, identity, ledger, movements
from core.services.applications import ApplicationStatus, in_current_round, status_of
from core.services.decisions import unpaid_outcome
from core.services.municipalities import current_round, is_open
from core.storage import models as m

# On SMS the reply must fit one segment: the balance and as many movements as fit.
MOVEMENTS_SHOWN = 3
# Where a Telegram chat stands while the contact that finds the citizen is asked for.
IDENTIFY = ("identify", "contact")
# Why the number, in the same message: a chat proves nobody, the phone the municipality
# registered does (what was asked is answered once it is shared: IdentifyState.then).
SHARE_CONTACT = t(
    "Only the phone number registered with the municipality can see your vouchers: tap the "
    "button to share yours, and I will answer you at once."
)
NO_VOUCHERS = t("We have no vouchers for this number. To apply, write DOMANDA.")
# An application begun here and not finished (its draft kept): how to go back to it, said
# when another request leaves it (ApplyFlow.draft_reminder) and after NO_VOUCHERS_YET.
APPLICATION_TO_COMPLETE = t("You have an application to complete: write DOMANDA to continue it.")
# No vouchers while that application waits to be finished: not "to apply, write DOMANDA"
# (as if nothing were begun), the draft's reminder follows it.
NO_VOUCHERS_YET = t("We have no vouchers for this number yet.")
# RICORSO while that application waits to be finished: nothing to appeal yet, and the
# draft's reminder after it (not "no application of yours: to apply, write DOMANDA").
APPEAL_AFTER_DECISION = t("You can appeal only after the decision on your application.")
# With applications closed (or not open yet) DOMANDA would only say so: the office helps.
NO_VOUCHERS_CLOSED = t(
    "We have no vouchers for this number. Applications are not open: for help, ask the "
    "municipality's office."
)
# A number that charges vouchers for a shop of the town (its owner or a cashier, by SMS, at
# the terminal or shared on Telegram) is never a citizen's (identity.refuse_shop_phone): it
# holds no vouchers and applying from it is refused. Said instead of "no vouchers, write
# DOMANDA", to one's own contact shared on Telegram and to such a phone asking for vouchers
# from a chat that does not work for the shop; it says nothing about any citizen (a shop's
# number is nobody's).
SHOP_STAFF_PHONE = t(
    "This number is a shop's (owner or cashier): it cannot hold vouchers. A citizen's "
    "vouchers are on their own number: write from it, or ask the office."
)
# The same to the shop's own chat (SALDO from the shop's phone by SMS), pointed to the
# words it has: the shop's statement and help.
SHOP_NUMBER = t(
    "This number is a shop's (owner or cashier): it cannot hold vouchers. For the shop: "
    "RESOCONTO, AIUTO. Your own vouchers: write from your own phone."
)
# A Telegram chat that works for a shop asking for vouchers or to apply: it never holds
# any (identity.link_telegram refuses whatever contact it shares), so it is told at once
# rather than asked for a contact and then refused as if someone else's identity were at
# stake. It says nothing about any citizen.
SHOP_CHAT = t(
    "This chat is a shop's (owner or cashier): it cannot hold vouchers or apply. For the "
    "shop: MENU. Your own vouchers: by SMS from your phone, or at the office."
)
# After a balance of nothing, with no movement: an application excluded, or still waiting.
SEE_STATUS = t("To see how your application stands, write STATO.")
# STATO from a delegate's phone: the holder's application is not told to whoever pays for them.
DELEGATE_NO_STATUS = t(
    "A delegate sees only the balance (SALDO): the citizen asks for their application with "
    "STATO from their own phone or chat, or at the office."
)

# One's own contact, shared in a Telegram chat linked to a citizen (with a phone of their own
# or none), whose number is a registered delegate's (that citizen's, or another household's
# that cannot become theirs: identity.DelegateNumber): the account is the delegate's, so the
# chat is unlinked and from now on acts as the delegate's number does. It says what the
# person proved (their number is a delegate's), nothing of whose.
DELEGATE_NUMBER = t(
    "This number is registered as a delegate: this chat now acts as the delegate and sees the "
    "balance (SALDO) of the person you pay for, no longer in their name."
)

# One's own contact, shared in a Telegram chat linked to a citizen who has no phone, while
# the office changes that citizen's phone (identity.PhoneChangeWaiting): the change, waiting
# for a second operator, decides the number. Nothing of the change is said.
PHONE_CHANGE_WAITING = t(
    "The office is changing the phone number of your vouchers: wait for its message, or ask "
    "the office."
)

# One's own contact, shared in a Telegram chat linked to a citizen who has no phone and has
# money to spend (identity.FirstNumberNeedsOffice): the link never proved the chat is the
# person, so the number waits for the office as a request the chat asked, which a manager
# decides. Nothing of the money is said.
NUMBER_NEEDS_OFFICE = t(
    "The office will check this number before your vouchers use it: it may call you or ask to "
    "see an identity document. You will get a message when it decides."
)

DELEGATE_NO_CARD = t(
    "The card is the citizen's. To pay for them, give their codice fiscale at the till: the "
    "code comes to this phone."
)


def nobody_reply() -> Reply:
    """The answer to a request about one's vouchers from a Telegram chat that is nobody's:
    the contact is asked for (the chat then stands at IDENTIFY). Pure: identified() and
    the one-trip plain turn both say it. (Elsewhere see no_vouchers: it depends on the
    application window, which the one-trip turn leaves to the general path.)"""
    return Reply(texts=(SHARE_CONTACT,), request="contact")


async def no_vouchers(turn: Turn) -> tuple[Text, ...]:
    """No vouchers for this number: DOMANDA is suggested only while applications are open,
    to continue the application begun here when one waits to be finished (one answer,
    never "to apply" beside "you have an application to complete")."""
    round_ = await current_round(turn.uow, turn.town.id)
    if round_ is None or not is_open(round_, turn.now):
        return (NO_VOUCHERS_CLOSED,)
    if APPLY_FLOW in turn.memory.drafts:
        return NO_VOUCHERS_YET, APPLICATION_TO_COMPLETE
    return (NO_VOUCHERS,)


async def application_to_complete(turn: Turn) -> bool:
    """Whether an application begun here waits to be finished while applications are open
    (DOMANDA goes on with it)."""
    if APPLY_FLOW not in turn.memory.drafts:
        return False
    return is_open(await current_round(turn.uow, turn.town.id), turn.now)


def window_refusal(round_: m.Round | None, now: datetime) -> Text | None:
    """Why no application can be made now (none announced, not open yet, closed on a day),
    with what to do next; None while applications are open."""
    if round_ is None:
        return t("Applications are not open at the moment. The municipality will announce them.")
    if now < round_.opens_at:
        return t("Applications open on {when}.", when=Moment(round_.opens_at))
    if not is_open(round_, now):
        # What next: the office, or STATO for an application already made.
        return t(
            "Applications closed on {when}. For help, ask the municipality's office; "
            "if you applied, write STATO.",
            when=Moment(round_.closes_at),
        )
    return None


async def say_window(turn: Turn) -> None:
    """When applications close ("quando scade la domanda?", "fino a quando posso fare
    domanda?"), in one message: the day and hour while they are open, with what to write
    next (DOMANDA, the application begun here, STATO for one made); else why none can be
    made. Nothing is started."""
    round_ = await current_round(turn.uow, turn.town.id)
    if await turn.memberships() or await shop_number(turn) is not None:
        # A shop's number cannot apply (identity.refuse_shop_phone): what it hears is for
        # its customers, who ask at the till, not DOMANDA or STATO written from here.
        turn.say(_window_for_a_shop(round_, turn.now))
        return
    refusal = window_refusal(round_, turn.now)
    if refusal is not None:
        turn.say(refusal)
        return
    assert round_ is not None  # window_refusal said why otherwise
    when = Moment(round_.closes_at)
    if APPLY_FLOW in turn.memory.drafts:
        turn.say(t("Applications are open until {when}.", when=when), APPLICATION_TO_COMPLETE)
        return
    citizen = await turn.citizen()
    if citizen is not None and await in_current_round(turn.uow, turn.town.id, citizen.id):
        turn.say(
            t(
                "Applications are open until {when}. You have already applied: STATO says "
                "how it is going.",
                when=when,
            )
        )
        return
    turn.say(t("Applications are open until {when}. To apply, write DOMANDA.", when=when))


def amounts_given(policy: Policy) -> Text:
    """How much the vouchers are, by the town's rules: the one-off amount of one person
    and of the largest household the policy names (before any cut of the budget)."""
    amounts = policy.amounts_by_size_cents
    if len(amounts) == 1:
        return t(
            "The vouchers are a one-off sum of {amount} per household, by the municipality's "
            "rules; less if its fund is short.",
            amount=Money(amounts[0]),
        )
    return t(
        "The vouchers are a one-off sum by household size: {smallest} for 1 person, up to "
        "{largest} for {size} or more; less if the fund is short.",
        smallest=Money(amounts[0]),
        largest=Money(amounts[-1]),
        size=len(amounts),
    )


def amount_for_household(policy: Policy, size: int) -> Text:
    """The one-off amount the town's rules give a household of this size."""
    return tn(
        "By the municipality's rules a household of {count} person gets {amount}, once; "
        "less if its fund is short.",
        "By the municipality's rules a household of {count} people gets {amount}, once; "
        "less if its fund is short.",
        size,
        amount=Money(policy.full_amount_cents(size)),
    )


def amount_for_a_large_household(policy: Policy, size: int) -> Text:
    """ "Famiglia di 25": beyond the sizes the chat tells, the office decides; the rules
    give the last size of [amounts] and every larger one the same (allocation.py)."""
    amounts = policy.amounts_by_size_cents
    return t(
        "For a household of {count} people the office decides: write UFFICIO. By the rules "
        "{size} or more people get {amount}, once; less if the fund is short.",
        count=size,
        size=len(amounts),
        amount=Money(policy.full_amount_cents(size)),
    )


def amount_with_children(policy: Policy, children: int) -> Text:
    """ "Ho 3 figli": the amount for her and them (one more than the children), at least,
    and how to ask for everyone who lives in the house."""
    size = children + 1
    return tn(
        "With {count} child you are at least {size}: {amount} by the rules, once. How many "
        "live in the house in all? Ask: how much do they give for {more} people?",
        "With {count} children you are at least {size}: {amount} by the rules, once. How "
        "many live in the house in all? Ask: how much do they give for {more} people?",
        children,
        size=size,
        more=size + 1,
        amount=Money(policy.full_amount_cents(size)),
    )


async def say_job_lost(turn: Turn) -> None:
    """ "Ho perso il lavoro": her application's status if she has one, else how to apply."""
    citizen = await turn.citizen()
    if citizen is not None and await status_of(turn.uow, citizen, turn.now) is not None:
        await show_status(turn)
        return
    turn.say(
        t(
            "Without work you may be able to have the vouchers: write DOMANDA to apply "
            "(the municipality's rules say who may)."
        )
    )


# "Non riesco a pagare le bollette", "mi hanno tagliato la luce": the vouchers pay no bill
# nor rent (no money is promised for them); the social services may help otherwise.
NOT_FOR_BILLS = t(
    "The vouchers are for food and basic goods at the town's shops, not for bills or rent. "
    "To apply write DOMANDA; for other help, the social services: UFFICIO."
)
NOT_FOR_BILLS_APPLIED = t(
    "The vouchers are for food and basic goods at the town's shops, not for bills or rent. "
    "For other help, the social services: write UFFICIO."
)


async def say_bills(turn: Turn) -> None:
    """What the vouchers are for, then how to apply, or her application's status when she
    has one (as STATO says it), and the office for other help."""
    citizen = await turn.citizen()
    if citizen is not None and await status_of(turn.uow, citizen, turn.now) is not None:
        turn.say(NOT_FOR_BILLS_APPLIED)
        await show_status(turn)
        return
    turn.say(NOT_FOR_BILLS)


async def say_who_can_apply(turn: Turn) -> None:
    """Who may have the vouchers, by the town's rules (its policy: work, pension, savings),
    then how to apply; a shop's number, which cannot apply, hears the rules alone."""
    policy = turn.policy
    savings = Money(policy.liquidity_threshold_cents(1))
    if policy.exclude_work_income and policy.exclude_pension:
        rules = t(
            "Vouchers: for households where nobody has work income or a pension, with "
            "savings up to {amount} for 1 person (more if more people).",
            amount=savings,
        )
    else:
        rules = t(
            "Vouchers are for households in need, by the municipality's rules (savings up to "
            "{amount} for 1 person, more if more people). The office says more: UFFICIO.",
            amount=savings,
        )
    if await turn.memberships() or await shop_number(turn) is not None:
        turn.say(rules)
        return
    round_ = await current_round(turn.uow, turn.town.id)
    to_apply = t("To apply, write DOMANDA.")
    open_now = round_ is not None and is_open(round_, turn.now)
    if open_now and (not turn.is_sms or turn.fits_sms([rules, to_apply])):
        turn.say(rules, to_apply)
        return
    # Closed (or no room in the one SMS): the rules alone; DOMANDA says when it opens.
    turn.say(rules)


# After how much the vouchers are, to a citizen the town knows: what she has is SALDO's.
SALDO_FOR_HERS = t("To see what you have left, write SALDO.")


async def say_with_how_to_apply(turn: Turn, said: Text) -> None:
    """`said` (how much the vouchers are), then how to apply, to whoever could while the
    window is open: not a shop's number, nor a citizen the town knows (her vouchers are
    SALDO's), nor someone in the middle of a request (her application's question follows).
    In the same SMS when it fits; as a chat's first message, whose writer knows
    nothing of the service yet, in a second one (the amounts alone left "quanti soldi mi
    date?" with no next step); otherwise left out, as for say_who_can_apply. A citizen the
    town knows hears the word for her own balance after it (SALDO_FOR_HERS), in a second
    SMS where one does not hold both: "how much money can I get?" was her balance alone,
    and "quanto mi spetta?" the rules alone."""
    if turn.flow is not None or await turn.memberships() or await shop_number(turn) is not None:
        turn.say(said)
        return
    if await turn.citizen() is not None:
        if not turn.is_sms or turn.fits_sms([said, SALDO_FOR_HERS]):
            turn.say(said, SALDO_FOR_HERS)
        else:
            turn.say(said)
            turn.say(SALDO_FOR_HERS)
        return
    round_ = await current_round(turn.uow, turn.town.id)
    to_apply = t("To apply, write DOMANDA.")
    if round_ is None or not is_open(round_, turn.now):
        turn.say(said)
    elif not turn.is_sms or turn.fits_sms([said, to_apply]):
        turn.say(said, to_apply)
    elif turn.new_chat:
        turn.say(said)
        turn.say(to_apply)
    else:
        turn.say(said)


def _window_for_a_shop(round_: m.Round | None, now: datetime) -> Text:
    """The application window as a shop's number hears it: when, and that its customers
    apply from their own phone (a shop's number never applies)."""
    if round_ is not None and is_open(round_, now):
        return t(
            "Applications are open until {when}. Customers apply from their own phone by "
            "writing DOMANDA: a shop's number cannot apply.",
            when=Moment(round_.closes_at),
        )
    if round_ is not None and now >= round_.opens_at:
        return t(
            "Applications closed on {when}. Customers with questions: the municipality's office.",
            when=Moment(round_.closes_at),
        )
    refusal = window_refusal(round_, now)
    assert refusal is not None  # not announced, or not open yet: said alike to anybody
    return refusal


# The application's flow (flows/apply.ApplyFlow.name), whose draft no_vouchers names.
APPLY_FLOW = "apply"


async def shop_number(turn: Turn) -> Text | None:
    """Whether a phone (SMS, the terminal) asking for a citizen's vouchers, application or
    appeal is a shop's: it holds none and applying from it is refused, so its own chat hears
    the shop's words (SHOP_NUMBER), another chat at that number where a citizen's are
    (SHOP_STAFF_PHONE). None for anybody else, and on Telegram (its contact decides)."""
    if turn.channel not in PHONE_CHANNELS:
        return None
    if await turn.memberships():
        return SHOP_NUMBER
    phone = turn.phone()
    if phone is not None and await identity.is_shop_phone(turn.uow, turn.town.id, phone=phone):
        return SHOP_STAFF_PHONE
    return None


async def no_vouchers_here(turn: Turn) -> tuple[Text, ...]:
    """Why a phone (SMS, the terminal) finds no vouchers: a shop's number holds none
    (shop_number); anybody else no_vouchers."""
    shop = await shop_number(turn)
    return (shop,) if shop is not None else await no_vouchers(turn)


async def identified(turn: Turn, then: str, argument: str = "") -> m.Citizen | None:
    """The citizen behind this address; if unknown, ask how to find them and return None
    (`argument`, what came with the request, is kept for when they are found)."""
    citizen = await turn.citizen()
    if citizen is not None:
        return citizen
    if turn.channel == Channel.TELEGRAM and await turn.memberships():
        turn.finish()
        turn.say(SHOP_CHAT)
        return None
    if turn.channel == Channel.TELEGRAM and turn.memory.phone:
        # The chat shared its own contact already (for an application, say, which keeps
        # the number in the chat, not in a citizen yet): sharing it again would prove the
        # same number, so it answers now, by the rules a shared contact follows.
        return await _by_shared_phone(turn, turn.memory.phone)
    if turn.channel == Channel.TELEGRAM:
        # The identify flow's entry (flows/identify.py imports this module, hence no goto).
        turn.go(*IDENTIFY, IdentifyState(then=then, argument=argument))
        turn.add(nobody_reply())
        return None
    turn.finish()
    turn.say(*await no_vouchers_here(turn))
    return None


@dataclass(frozen=True)
class Linked:
    citizen: m.Citizen | None
    refused: bool = False
    shop: bool = False  # nobody's: the number charges vouchers for a shop of the town
    # Refused too: the number is the delegate's of the citizen the chat was linked to, and
    # the chat now acts as that delegate (identity.DelegateNumber).
    delegate: bool = False
    # Refused too: the office is changing the phone of the chat's citizen
    # (identity.PhoneChangeWaiting).
    waiting: bool = False
    # Refused too: the chat's citizen has money to spend, so their first number needs the
    # office's second operator (identity.FirstNumberNeedsOffice).
    office: bool = False

    @property
    def refusal(self) -> Text:
        """What a refused link is told: a delegate's number what it now does, a chat whose
        citizen's phone the office is changing to wait, anybody else the neutral refusal."""
        if self.delegate:
            return DELEGATE_NUMBER
        if self.office:
            return NUMBER_NEEDS_OFFICE
        return PHONE_CHANGE_WAITING if self.waiting else IDENTITY_REFUSED


async def link_phone(turn: Turn, phone: str) -> Linked:
    """Link this Telegram chat to the citizen who has this phone, proven by the chat's own
    contact (identity.link_telegram, with its refusals): shared just now
    (flows/identify.link_contact) or earlier in the chat (_by_shared_phone)."""
    try:
        citizen = await identity.link_telegram(
            turn.uow, turn.town.id, turn.address, phone, turn.now
        )
    except identity.DelegateNumber:
        turn.forget_citizen()
        return Linked(None, refused=True, delegate=True)
    except identity.PhoneChangeWaiting:
        turn.forget_citizen()
        return Linked(None, refused=True, waiting=True)
    except identity.FirstNumberNeedsOffice:
        turn.forget_citizen()
        return Linked(None, refused=True, office=True)
    except identity.IdentityRefused:
        turn.forget_citizen()
        return Linked(None, refused=True)
    turn.forget_citizen()
    if citizen is None and await identity.is_shop_phone(turn.uow, turn.town.id, phone=phone):
        return Linked(None, shop=True)
    return Linked(citizen)


async def _by_shared_phone(turn: Turn, phone: str) -> m.Citizen | None:
    """The citizen of the phone this Telegram chat proved with its own contact, the chat
    linked to them as when the contact was shared (link_phone); None, said why, when the
    number is nobody's or may not be linked here."""
    linked = await link_phone(turn, phone)
    if linked.citizen is not None:
        return linked.citizen
    turn.finish()
    if linked.refused:
        turn.say(linked.refusal)
    elif linked.shop:
        turn.say(SHOP_STAFF_PHONE)
    else:
        turn.say(*await no_vouchers(turn))
    return None


async def represented(turn: Turn) -> m.Citizen | None:
    """The citizen whose delegate writes from this phone (the phone is nobody's own)."""
    phone = turn.phone()
    if phone is None or turn.municipality is None or await turn.citizen() is not None:
        return None
    return await delegates.represented_by(turn.uow, turn.town.id, phone)


# A codice fiscale written alone from a number that holds no vouchers (a daughter typing
# her mother's, docs/cards-and-delegates.md): a balance is found by the phone it is asked
# from, never by a code anybody can type. The same words whoever's the code is, or none:
# nothing is looked up, so nothing says whether it is known here.
ASK_FROM_OWN_PHONE = t(
    "The balance is asked from the phone of whoever holds the vouchers, without the codice "
    "fiscale. To ask it from yours you need their delegation: ask the social services "
    "together."
)


# The holder writing her own codice fiscale from her own phone (or her linked chat), as if
# she had to say who she is: she need not, and what she can write.
KNOWN_HERE = t(
    "Your number is already registered for your vouchers: no codice fiscale needed. Write "
    "SALDO for the balance, STATO for the application, AIUTO for more."
)


async def codice_fiscale_alone(turn: Turn) -> bool:
    """A codice fiscale written with nothing asked, from a number that is no shop's: from
    the holder's own phone, her own code is told she is known here (KNOWN_HERE) and any
    other gets the words anybody gets; from any other number, how someone else's vouchers
    are asked (ASK_FROM_OWN_PHONE), or, from a registered delegate's phone, the balance it
    acts for (as SALDO). Whether a code other than the holder's own is anybody's is never
    looked up. A code that cannot exist (its check letter does not match the others) is
    said to be mistyped, to whoever writes it: the check is public math and tells nothing
    of anyone. False for a shop's number, which gets what it got before (the help)."""
    if await turn.memberships():
        return False
    written = written_codice_fiscale(turn.inbound.text) or ""
    mistyped: InvalidIdentifier | None = None
    try:
        normalize_codice_fiscale(written)
    except InvalidIdentifier as error:
        mistyped = error
    # A mistyped code is said to be mistyped from whoever's phone (but a shop's, below).
    citizen = await turn.citizen() if mistyped is None else None
    if citizen is not None:
        own = written == citizen.codice_fiscale
        turn.say(KNOWN_HERE if own else ASK_FROM_OWN_PHONE)
        return True
    if await shop_number(turn) is not None:
        return False
    if mistyped is not None:
        turn.say(error_text(mistyped))
        return True
    if await represented(turn) is not None:
        await show_balance(turn)
        return True
    turn.say(ASK_FROM_OWN_PHONE)
    return True


async def show_balance(turn: Turn) -> None:
    holder = await represented(turn)
    citizen = holder or await identified(turn, "balance")
    if citizen is None:
        return
    turn.finish()
    balance = await ledger.citizen_balance(turn.uow, turn.town.id, citizen.id)
    moves = await movements.citizen_movements(turn.uow, turn.town.id, citizen.id, MOVEMENTS_SHOWN)
    turn.add(
        balance_reply(
            balance,
            moves,
            turn.town.timezone,
            holder=holder.codice_fiscale if holder is not None else None,
            language=turn.language,
            sms=turn.is_sms,
            # "Balance please" to an Italian chat: the way to English, in place of a movement
            # ("saldo" to an English one: the way to Italian).
            tail=(way,) if turn.is_sms and (way := way_to_language(turn)) is not None else (),
        )
    )


def balance_reply(
    balance_cents: int,
    moves: Sequence[movements.Movement],
    timezone: str,
    *,
    holder: str | None,
    language: str,
    sms: bool,
    tail: tuple[Text, ...] = (),
) -> Reply:
    """The answer to SALDO: the balance (a delegate sees whose, the codice fiscale masked)
    and the last movements, as many as fit one SMS on SMS, then `tail` if any. Pure:
    show_balance and the one-trip plain turn (core/dialogue/plain_turn.py) both answer
    with it."""
    lines = [movement_text(move, timezone) for move in moves]
    head = (
        t("Your balance: {balance}.", balance=Money(balance_cents))
        if holder is None
        else t(
            "Balance of {holder}: {balance}.",
            holder=cards.mask_codice_fiscale_gsm(holder),
            balance=Money(balance_cents),
        )
    )
    # The card is the holder's own: a delegate pays without it (show_card says so).
    options = () if sms or holder is not None else (Option("card", t("My card")),)
    if not lines:
        # Nothing credited, nothing spent: STATO says why (excluded, waiting). A delegate's
        # phone is not answered STATO for the person, so it is not pointed there.
        nothing = balance_cents == 0 and holder is None
        texts = (head, SEE_STATUS) if nothing else (head,)
        return fitting_reply(texts, [], options, language=language, sms=sms, tail=tail)
    return fitting_reply(
        (head, t("Last movements:")), lines, options, language=language, sms=sms, tail=tail
    )


def movement_text(move: movements.Movement, timezone: str) -> Text:
    day = Day(move.at.astimezone(ZoneInfo(timezone)).date())
    amount = Money(abs(move.amount_cents))
    shop = move.shop_name or ""
    if move.kind is PostingKind.ALLOCATION:
        return t("{day} +{amount} credited", day=day, amount=amount)
    if move.kind is PostingKind.PAYMENT:
        return t("{day} -{amount} {shop}", day=day, amount=amount, shop=shop)
    if move.kind is PostingKind.REFUND:
        return t("{day} +{amount} refund {shop}", day=day, amount=amount, shop=shop)
    if move.kind is PostingKind.REVOCATION:
        return t("{day} -{amount} revoked", day=day, amount=amount)
    if move.kind is PostingKind.REVOCATION_UNDO:
        return t("{day} +{amount} revocation cancelled", day=day, amount=amount)
    return t("{day} {amount}", day=day, amount=amount)


async def _holders_own(turn: Turn, refusal: Text, then: str) -> m.Citizen | None:
    """The citizen asking for what is the holder's alone (her card, her application), the
    turn finished; None when she is not found yet (identified asks how) or when the phone
    is her delegate's, which is told `refusal`."""
    if await represented(turn) is not None:
        turn.finish()
        turn.say(refusal)
        return None
    citizen = await identified(turn, then)
    if citizen is None:
        return None
    turn.finish()
    return citizen


async def show_card(turn: Turn) -> None:
    # A delegate hears DELEGATE_NO_CARD, not "no vouchers for this number" (SALDO just
    # showed the holder's balance): the card is the holder's, and a delegate pays without it.
    citizen = await _holders_own(turn, DELEGATE_NO_CARD, "card")
    if citizen is None:
        return
    if not await ledger.is_beneficiary(turn.uow, turn.town.id, citizen.id):
        # A shop finds nobody behind the card of someone never credited (charges.
        # find_beneficiary): a code that cannot pay would only be shown at the till in vain.
        turn.say(
            t("You have no vouchers yet: your card works once they are credited. Write STATO.")
        )
        return
    turn.say(
        t("Your card code is {code}. Show it at the till to pay.", code=citizen.card_code),
        document=None if turn.is_sms else DocumentRef("card", citizen.card_code),
    )


async def show_status(turn: Turn) -> None:
    # A delegate's phone pays and checks the balance for the holder, nothing more
    # (docs/cards-and-delegates.md): the holder's application, its outcome and the way to
    # appeal are theirs to ask for.
    citizen = await _holders_own(turn, DELEGATE_NO_STATUS, "status")
    if citizen is None:
        return
    status = await status_of(turn.uow, citizen, turn.now)
    if status is None:
        turn.say(t("We found no application of yours. To apply, write DOMANDA."))
        return
    appeal = appeal_text(status)
    if appeal is None:
        turn.say(status_text(status))
        return
    # Two SMS only when one would not hold them all: the appeal's sentence goes second.
    turn.say_split(status_text(status), appeal)


def appeal_text(status: ApplicationStatus) -> Text | None:
    """One sentence after the status of a decided application: how to appeal, while one may,
    or that the appeal is being reviewed."""
    if status.appeal_protocol is not None:
        # The decision on the application before this one (which waits for its own).
        if status.appeal.under_review:
            return t(
                "Your appeal against the decision on {protocol} is being reviewed by the office.",
                protocol=status.appeal_protocol,
            )
        if status.appeal.by_day is not None:
            return t(
                "The decision on {protocol} may still be appealed: write RICORSO and the "
                "reason by {day}.",
                protocol=status.appeal_protocol,
                day=Day(status.appeal.by_day),
            )
    if status.appeal.under_review:
        return t("Your appeal is being reviewed by the office.")
    if status.appeal.by_day is None:
        return None
    # The day the decision's notice named (core.services.decisions), not a count of days
    # whose start the citizen would have to work out.
    return t("Appeal: write RICORSO and the reason by {day}.", day=Day(status.appeal.by_day))


def status_text(status: ApplicationStatus) -> Text:
    protocol = status.protocol
    if status.revoked:
        return t(
            "Application {protocol}: revoked after the checks. Contact the office (write UFFICIO).",
            protocol=protocol,
        )
    if status.withdrawn_at is not None:
        return t(
            "Application {protocol}: withdrawn by the office on {day}. Not you? Contact the "
            "office (write UFFICIO).",
            protocol=protocol,
            day=Day(status.withdrawn_at.date()),
        )
    if status.assignment is None:
        return t(
            "Application {protocol} received on {when}: it is being assessed.",
            protocol=protocol,
            when=Moment(status.submitted_at),
        )
    if status.assignment == "excluded" or status.amount_cents == 0:
        return unpaid_outcome(protocol, status.assignment, status.exclusion_reason)
    if status.credited_cents >= status.amount_cents:
        return t(
            "Application {protocol}: admitted. {amount} credited: write SALDO to see the balance.",
            protocol=protocol,
            amount=Money(status.credited_cents),
        )
    return t(
        "Application {protocol}: admitted, {amount} granted. It will be credited soon.",
        protocol=protocol,
        amount=Money(status.amount_cents),
    )
