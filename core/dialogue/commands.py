"""Words that work at every step, on every channel, in Italian and English.

"AIUTO", "aiuto!", "Help", "/help", "👍 SALDO", "*MENU*" all fold to the same command.
A command that takes an argument ("NEGOZI 62020", "PAGA RSSMRA85T10A562S 12,50") is
recognised by its first word; the others only when they are the whole message, give or
take courtesy words ("Saldo per favore"), so that an answer like "Menu del giorno" (a
shop name) is not taken for MENU. A few questions in plain words are commands too
(PHRASES: "quanto mi resta?"), from a small table, never by guessing.

`parse` is the one reading of keywords: the engine's general path and the one-trip plain
turn (plain_turn.py) both call it, so they recognise the same forms.
"""

from __future__ import annotations

from dataclasses import replace

from core.dialogue import stray_codes
from core.dialogue.context import ACKNOWLEDGED, DECLINED, Input, Turn
from core.dialogue.flows import FLOWS, shop_finder
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import VERIFY, not_a_shop
from core.dialogue.flows.charge_waiting import cancel_at_till
from core.dialogue.flows.shop_reports import show_reimbursements
from core.dialogue.inbound import Inbound
from core.dialogue.keywords import KEYWORDS
from core.dialogue.menus import (
    community_on,
    is_shop_member,
    offer_languages,
    office_contact,
    say_help,
    say_office_contact,
    show_menu,
    way_to_language,
    welcome,
)
from core.dialogue.payment_trouble import say_why_refused
from core.dialogue.questions import (
    APOLOGY,
    CHILDREN_ARG,
    LARGEST_HOUSEHOLD,
    SHOP_OR_SHOPS,
    unasked,
)
from core.dialogue.refusal_words import CANCEL_IN_WORDS, NOT_ME, REFUSE_PAYMENT
from core.dialogue.state import ApplyState
from core.dialogue.words import (
    as_said,
    clean,
    fold,
    has_digits,
    plain_words,
    typo_distance,
)
from core.domain import otp
from core.domain.channels import Channel
from core.domain.messages import Option, Text, t
from core.domain.shops import ShopStatus
from core.i18n import supported

# How someone else may pay with a person's vouchers (docs/cards-and-delegates.md).
DELEGATION = t(
    "To use another person's vouchers you need their delegation: ask your municipality's "
    "social services together. Then their codes and SALDO come to you."
)

# "Mia figlia può fare la spesa per me?", "mio marito può usare i miei buoni?": the holder
# asks whether someone of the family may shop or ask for her; told from her side, as
# DELEGATION is told to whoever would help.
DELEGATE_FOR_YOU = t(
    "Yes, once the municipality registers them as your delegate: go together to the social "
    "services. Then your payment codes and SALDO go to their phone."
)

# "Quanto costano i buoni?", "devo pagare per la domanda?": nothing, ever. Said with who
# may not ask for money, since someone who asks for a fee is a swindler the office must hear of.
VOUCHERS_ARE_FREE = t(
    "The vouchers are free: the municipality gives them to households in need. Nobody may "
    "ask you for money for them: if someone does, tell the office."
)

TAKES_ARGUMENT = frozenset(
    {"shops", "charge", "language", "join", "refund", "statement", "start", "appeal"}
)
# Option keys that are commands too (menu buttons): a tap runs the command.
COMMANDS = frozenset(KEYWORDS.values()) | {"switch", DECLINED}
# Commands that start a flow of the same name in FLOWS.
FLOW_COMMANDS = {
    "shops": "shops",
    "apply": "apply",
    "appeal": "appeal",
    "charge": "charge",
    "refund": "refund",
    "statement": "statement",
    "cashier": "cashier",
    "cashiers": "cashiers",
    "join": "join",
    "register": "register",
    "shopkeeper": "shopkeeper",
    "buy": "buy",
    "donate": "donate",
    "give": "give",
    "vouchers": "vouchers",
}
LANGUAGE_WORDS = {
    "it": "it",
    "ita": "it",
    "italiano": "it",
    "italian": "it",
    "en": "en",
    "eng": "en",
    "english": "en",
    "inglese": "en",
}


# Questions in plain words that ask for a command, whole (after courtesy words and
# punctuation are left out, see words.plain_words), per language. An explicit table: a
# sentence that is not here is read as before (a keyword inside it, or the help), and a
# message with a digit (a payment code, an amount) is never one of these.
PHRASES: dict[str, str] = {
    # Italian
    "quanto mi resta": "balance",
    "quanto mi rimane": "balance",
    "quanto ho": "balance",
    "quanto ho ancora": "balance",
    "quanto posso spendere": "balance",
    "quanto posso spendere ancora": "balance",
    "quanto posso ancora spendere": "balance",
    "quanto mi resta da spendere": "balance",
    "quanto ho da spendere": "balance",
    "ho finito i soldi": "balance",
    "ho finito il credito": "balance",
    "sono finiti i soldi": "balance",
    "quanti soldi ho": "balance",
    "quanti soldi mi restano": "balance",
    "quanti soldi mi rimangono": "balance",
    "quanto credito ho": "balance",
    "il mio saldo": "balance",
    "mio saldo": "balance",
    # Asking for help in words: the help, not "I did not understand" before it.
    "non capisco": "help",
    "non ho capito": "help",
    "cosa devo fare": "help",
    "che devo fare": "help",
    "non ho capito niente": "help",
    "non ho capito nulla": "help",
    "non capisco niente": "help",
    "non ci capisco niente": "help",
    # Said as spoken in the centre and south ("nun ce capisco gnente": "nun" and "gnente"
    # are unshortened, "ce" is the spoken "ci"; never mapped alone, "c'è" folds to "ce").
    "non ce capisco niente": "help",
    "non capisco nulla": "help",
    "non ci capisco nulla": "help",
    "non ce capisco nulla": "help",
    "non ci ho capito niente": "help",
    "non ci ho capito nulla": "help",
    "aiutatemi": "help",
    "mi aiutate": "help",
    "ho bisogno di aiuto": "help",
    "che cosa devo fare": "help",
    "come funziona": "help",
    # Asking for a person: how to reach the office (UFFICIO).
    "voglio parlare con qualcuno": "office",
    "posso parlare con qualcuno": "office",
    "vorrei parlare con qualcuno": "office",
    "chi posso chiamare": "office",
    "numero del comune": "office",
    "telefono del comune": "office",
    "numero dellufficio": "office",
    "telefono dellufficio": "office",
    "come contatto il comune": "office",
    "come contatto lufficio": "office",
    "servizi sociali": "office",
    "assistente sociale": "office",
    # ANNULLA said in a sentence, at the till or by the customer who refuses to pay: the
    # same as ANNULLA (it ends the request open, else refuses the payments waiting).
    "annulla il pagamento": "cancel",
    "annulla pagamento": "cancel",
    "annulla la spesa": "cancel",
    "annulla la richiesta": "cancel",
    "annulla la domanda": "cancel",
    "annulla tutto": "cancel",
    "voglio annullare": "cancel",
    "voglio annullare il pagamento": "cancel",
    # English
    "how much do i have left": "balance",
    "how much can i spend": "balance",
    "how much i have": "balance",
    "how much can i still spend": "balance",
    "how much do i have left to spend": "balance",
    "have i run out of money": "balance",
    "have i finished my money": "balance",
    "how much have i got left": "balance",
    "how much is left": "balance",
    "how much do i have": "balance",
    "how much money do i have": "balance",
    "how much money do i have left": "balance",
    "whats my balance": "balance",
    "what is my balance": "balance",
    "my balance": "balance",
    "i dont understand": "help",
    "i do not understand": "help",
    "what do i do": "help",
    "how does it work": "help",
    "i want to talk to someone": "office",
    "can i talk to someone": "office",
    "who can i call": "office",
    "social services": "office",
    "cancel the payment": "cancel",
    "cancel payment": "cancel",
    "cancel the request": "cancel",
    "cancel the application": "cancel",
    "cancel everything": "cancel",
    "i want to cancel": "cancel",
}
# Commands that count only as the keyword itself (with punctuation or an emoji around it):
# STOP is a compliance word, never read out of other words.
EXACT_ONLY = frozenset({"stop"})


# "Vorrei sapere quanto ho", "mi dice quanto mi resta?", "I'd like to know how much I
# have": the question after them is the phrase ("vorrei sapere quanto ho incassato" is
# none of PHRASES, and stays a shop's question).
_WANT_TO_KNOW = (
    ("vorrei", "sapere"), ("volevo", "sapere"), ("voglio", "sapere"), ("mi", "dice"),
    ("mi", "dica"), ("mi", "puo", "dire"), ("id", "like", "to", "know"),
    ("i", "would", "like", "to", "know"), ("i", "want", "to", "know"),
    ("can", "you", "tell", "me"),
)  # fmt: skip
# "Voglio parlare con una persona", "vorrei parlare con l'assistente sociale", "can I talk
# to a person?": asking for someone of the office, told how to reach it (UFFICIO). Not
# "voglio parlare con mia figlia", nor with a shop.
_TALK_TO = (
    ("voglio", "parlare", "con"), ("vorrei", "parlare", "con"), ("volevo", "parlare", "con"),
    ("posso", "parlare", "con"), ("parlare", "con"), ("i", "want", "to", "talk", "to"),
    ("i", "want", "to", "speak", "to"), ("can", "i", "talk", "to"),
    ("can", "i", "speak", "to"), ("id", "like", "to", "talk", "to"),
    ("id", "like", "to", "speak", "to"), ("talk", "to"), ("speak", "to"),
)  # fmt: skip
_SOMEONE_AT_THE_OFFICE = frozenset(
    {"qualcuno", "persona", "operatore", "operatrice", "impiegato", "impiegata",
     "assistente sociale", "lassistente sociale", "servizi sociali", "ufficio", "lufficio",
     "someone", "somebody", "person", "human", "operator", "social worker",
     "social services", "office"}
)  # fmt: skip
_ARTICLES = frozenset({"un", "una", "il", "la", "i", "mia", "mio", "a", "an", "the", "my"})


def _asks_for_someone(words: list[str]) -> bool:
    for start in _TALK_TO:
        if tuple(words[: len(start)]) == start:
            rest = words[len(start) :]
            while rest and rest[0] in _ARTICLES:
                rest = rest[1:]
            return " ".join(rest) in _SOMEONE_AT_THE_OFFICE
    return False


def phrase_of(text: str | None) -> str | None:
    """The command a whole message asks for in plain words: one of PHRASES (after "vorrei
    sapere"), asking to talk to someone of the office, or a keyword that takes no argument
    between courtesy words ("Buongiorno, SALDO grazie")."""
    words = as_said(plain_words(text))
    if not words or has_digits(words):
        return None
    said = " ".join(words)
    if said in PHRASES:
        return PHRASES[said]
    for lead in _WANT_TO_KNOW:
        if tuple(words[: len(lead)]) == lead and " ".join(words[len(lead) :]) in PHRASES:
            return PHRASES[" ".join(words[len(lead) :])]
    if _asks_for_someone(words):
        return "office"
    name = KEYWORDS.get(said)
    if name is None or name in TAKES_ARGUMENT or name in EXACT_ONLY:
        return None
    return name


# A language named alone ("italiano", "English", "in italiano per favore") is LINGUA with
# it, at every step like the other keywords; in a sentence it is a word of the answer ("non
# parlo bene l'italiano"). The short codes (IT, EN) count only after LINGUA.
_LANGUAGE_NAMES = frozenset({"italiano", "italian", "inglese", "english"})


def language_named(text: str | None) -> str | None:
    """The language a message names alone, as LINGUA IT / LANGUAGE EN would ("it", "en")."""
    words = plain_words(text)
    if words[:1] == ["in"]:
        words = words[1:]
    if len(words) != 1 or words[0] not in _LANGUAGE_NAMES:
        return None
    return LANGUAGE_WORDS[words[0]]


def _from_first_word(text: str) -> str:
    """The message from its first letter or digit: "👍 SALDO" -> "SALDO". A leading "/",
    "+" or "-" stays (a Telegram command, a phone number, a negative amount)."""
    at = 0
    while at < len(text) and not (text[at].isalnum() or text[at] in "/+-"):
        at += 1
    return text[at:] or text


def parse(text: str | None) -> tuple[str, str] | None:
    """(command, argument) when the message is a command, else None."""
    cleaned = clean(text)
    if not cleaned:
        return None
    first, _, rest = _from_first_word(cleaned).partition(" ")
    # Telegram appends the bot's name to commands in groups: "/menu@buonispesa_bot".
    name = KEYWORDS.get(fold(first.split("@", 1)[0]))
    if name is not None:
        if not plain_words(rest) and (name not in EXACT_ONLY or not fold(rest)):
            return name, ""  # "SALDO", "saldo.", "SALDO 👍", "Saldo per favore"
        if name in TAKES_ARGUMENT:
            return name, rest.strip()
    said = phrase_of(cleaned)
    if said is not None:
        return said, ""
    language = language_named(cleaned)
    return ("language", language) if language is not None else None


def of_message(inbound: Inbound) -> tuple[str, str] | None:
    """The command a message is before reading it as an answer: a keyword, a tapped
    command button, a Telegram /start link."""
    command = parse(inbound.text)
    if command is None and inbound.option in COMMANDS:
        command = (inbound.option or "", "")
    if inbound.start_parameter and (command is None or command == ("start", "")):
        command = ("start", inbound.start_parameter)
    return command


def of_answer(
    command: tuple[str, str] | None, inp: Input, text: str | None, *, asked: bool
) -> tuple[str, str] | None:
    """The command once the message is read against the options offered: an option that
    is a command, else, when nothing is being asked (`asked`: a flow stands at a step),
    the one keyword of a sentence."""
    if command is None and inp.choice in COMMANDS:
        command = (inp.choice or "", "")
    if command is None and inp.choice is None and not asked:
        # Nothing asked: "Buongiorno, vorrei sapere il mio saldo" means SALDO; a cashier
        # code written alone ("K7QP-2MXX-9ABC") or in a sentence ("il codice è …") is INVITO
        # with it, checked and counted as INVITO is. Its shape is no other code's
        # (otp.bare_invite_code), so a mistyped card number or payment code is never
        # counted as a wrong cashier code.
        invite = otp.invite_code_in(text)
        command = ("join", invite) if invite is not None else unasked(text)
    return command


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


# Commands that only tell something: written in English to a chat in another language
# ("balance please", "thank you"), their answer ends with the way to English (IN_ENGLISH)
# when it fits the one SMS. The help says it itself; LANGUAGE offers the languages.
_TOLD_IN_ENGLISH = frozenset(
    {"balance", "status", "card", "shops", "more", "menu", "office", "thanks", "greeting",
     "lost_card", "other_card", "delegation", "stop_hint", "price", "expiry", "window",
     "scam", "how_to_pay", "what_to_buy", "card_trouble", "forgot_code", "who_can_apply",
     "how_much_given", "new_number", "household_changed", "shop_refuses",
     "code_trouble", "not_enough", "job_lost", "bills", "why_refused",
     "code_came", DECLINED, ACKNOWLEDGED, APOLOGY, "undo_payment"}
)  # fmt: skip


def hint_english(turn: Turn, name: str) -> None:
    """After the command `name`: the way to English, for someone who wrote English to an
    Italian chat by SMS (or to Italian, for Italian written to an English chat), in its
    last message when it fits (never a second SMS)."""
    way = way_to_language(turn) if turn.is_sms and name in _TOLD_IN_ENGLISH else None
    if way is None:
        return
    if not turn.replies or any(
        text.msgid == way.msgid for reply in turn.replies for text in reply.texts
    ):
        return
    last = turn.replies[-1]
    if (
        last.request is None
        and last.document is None
        and last.pin is None
        and not last.sensitive
        and turn.fits_sms([*last.texts, way], last.options)
    ):
        turn.replies[-1] = replace(last, texts=(*last.texts, way))


async def reprompt(turn: Turn) -> None:
    flow = FLOWS.get(turn.flow or "")
    if flow is not None and turn.step is not None:
        await flow.ask(turn)


async def set_language(turn: Turn, language: str) -> None:
    # The way back to the language left behind only when one was left behind: "LINGUA IT"
    # written to a chat already in Italian changes nothing to undo.
    done = LANGUAGE_DONE if supported(language) != turn.language else LANGUAGE_KEPT
    turn.set_language(language)
    # The language buttons are answered: a "2" from now on answers the question asked again.
    turn.offered = []
    citizen = await turn.citizen()
    if citizen is not None and turn.receives_notices_of(citizen):
        # Notices (payment codes, receipts) follow the language chosen in the chat that
        # receives them; LINGUA by SMS (whose sender can be forged) never re-languages
        # the citizen's Telegram chat.
        citizen.language = turn.language
    flow = FLOWS.get(turn.flow or "")
    if flow is not None and turn.step is not None:
        if not flow.asks_language(turn):
            # The request's question comes again in the new language, after the same
            # confirmation the menu heads with.
            turn.say(done)
        await flow.on_language_chosen(turn)
        return
    if turn.municipality is None:
        return
    await show_menu(turn, done)


# The way back is said in the language left behind: a number's language can be changed by
# someone forging its SMS sender, and the person must read how to undo it.
LANGUAGE_DONE = t("Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA.")
# The language asked for is the chat's already: nothing was left behind.
LANGUAGE_KEPT = t("Done: I will write to you in English.")


# A lost card: the office replaces it, and the lost one stops working then (`admin card
# --reissue`, docs/cards-and-delegates.md). Said with the office's contact when both fit
# one SMS, else with the way to it (UFFICIO).
LOST_CARD = t("Lost card? Tell the office: they give you a new card and block the lost one.")
LOST_CARD_ASK_OFFICE = t(
    "Lost card? Tell the office: they give you a new card and block the lost one. To reach "
    "them, write UFFICIO."
)


# "Ho perso la carta d'identità": not the voucher card, whose code would answer nothing
# asked; what is asked is whether the vouchers are at risk (they are not: a payment needs
# the voucher card's codes or the code sent to the phone) and where to turn.
OTHER_CARD_LOST = t(
    "That is not the voucher card: your vouchers still work. To replace it, ask whoever "
    "issued it (the town hall for an identity card)."
)


# "È una truffa?", "siete truffatori?", "is this a scam?": who writes, what the service
# never asks for, and how to check with the office (UFFICIO).
NOT_A_SCAM = t(
    "This is your town's grocery voucher service: we never ask for money, PINs or bank "
    "details, and a code is told only to the cashier. In doubt, write UFFICIO."
)
# "Come faccio a pagare?", "come si usano i buoni?": how a payment is made at the till
# (docs/payments-and-codes.md), and where (NEGOZI).
HOW_TO_PAY = t(
    "At the till, give your codice fiscale or phone number: a code comes to you; tell it to "
    "the cashier and the vouchers pay. NEGOZI says where."
)


# "Mio marito è morto", "è nato mio nipote", "mia figlia è andata via di casa": the
# household changed, which the office records (the application and its amount follow).
HOUSEHOLD_CHANGED = t(
    "A change in your household (someone who died, was born, came or left) is told to the "
    "social services: they update your application. Write UFFICIO to reach them."
)
# "Il codice non funziona", "mi dice codice sbagliato" at the till, with no payment
# waiting for her code (any more): each code pays once, briefly, the payment it came with.
CODE_TROUBLE = t(
    "A payment code works once, for a few minutes, for the payment it came with. Refused or "
    "late? Ask the cashier to write PAGA again: a new code comes to you."
)
# "Il negozio non accetta i buoni": the shops that take them are NEGOZI's; one of those
# that refused is the office's to hear of.
SHOP_REFUSES = t(
    "Only the shops in the NEGOZI list take the vouchers. If one of them refused them, "
    "tell the office: write UFFICIO."
)
# "Il cliente non ha abbastanza soldi" from a shop: nobody tells a shop a customer's
# balance; the payment is refused when it is short, and the customer reads SALDO.
NOT_ENOUGH_AT_THE_TILL = t(
    "A payment larger than the customer's balance is refused, and the balance is never "
    "told to the shop: the customer checks it writing SALDO, or you charge less."
)
# "Come si fa a annullare un pagamento", "ho sbagliato l'importo", "devo rimborsare la
# signora" from a shop's chat: the two ways back, in one SMS.
UNDO_A_PAYMENT = t(
    "Payment waiting for its code: write ANNULLA. Confirmed today: write STORNO and choose "
    "it, the money goes back to the customer. Then PAGA again if needed."
)
# "Quanto danno a una famiglia di 0?": a household is at least the one who asks.
HOW_MANY_AT_HOME = t(
    "How many people live in the house, you included? Ask, e.g.: how much do they give for "
    "a household of 3?"
)


# "Cosa posso comprare con i buoni?", "posso comprare il vino?": what grocery vouchers are
# for (food and basic necessities, at the shops that take them); a product in doubt is the
# cashier's to say. Not an application, which "posso … buoni" would otherwise start.
WHAT_TO_BUY = t(
    "The vouchers buy food and basic necessities at the shops that take them (NEGOZI lists "
    "them). In doubt about a product, ask the cashier."
)


# "Quando scadono i buoni?": they do not (no rule or policy gives them an end); what was
# credited stays until spent.
VOUCHERS_DO_NOT_EXPIRE = t(
    "The vouchers have no expiry date: what is left stays on your balance. SALDO shows how much."
)
# "Me so scordato er codice": nothing to remember, and where a card's PIN is asked again.
FORGOT_CODE = t(
    "No code to remember: at each purchase a new code comes to you by SMS, and you tell it "
    "to the cashier. Card PIN forgotten? Write UFFICIO."
)
# "Ho cambiato numero": who records it, and why a message cannot.
NEW_NUMBER = t(
    "A new phone number is recorded only by the municipality's social services, so that "
    "nobody else gets your codes. Write UFFICIO to reach them."
)
# "La tessera nn funziona": how a card pays (docs/cards-and-delegates.md), and where to turn.
CARD_TROUBLE = t(
    "Card refused at the till? The cashier types the card number and asks for one code of "
    "your slip (each works once). Still refused? Write UFFICIO."
)
# "Mi è arrivato un codice, cosa devo fare?" with no payment waiting for it.
SHOP_OR_SHOPS_ASKED = t(
    "Are you looking for shops where to spend the vouchers, or do you want to register your shop?"
)
CODE_NOTHING_WAITS = t(
    "No payment waits for a code of yours now. A payment code is told only to the cashier, "
    "when you pay. If you did not ask for it, give it to nobody."
)
# The same with a request of this chat left at its code step (an application): the code
# typed here finishes it (stray_codes.on_code).
CODE_OF_A_DRAFT = t("That code confirms the request you left half-way: write it here to finish it.")


async def say_code_came(turn: Turn) -> None:
    """What a code received is for: a payment waiting for it (named, with how to answer),
    the request this chat left at its code step, else nothing that waits for it. A shop's
    chat gets the help, as before: its codes say what they confirm."""
    if await is_shop_member(turn):
        await say_help(turn, understood=False)
        return
    if await stray_codes.on_words_while_paying(turn):
        return
    if any(draft.step == VERIFY for draft in turn.memory.drafts.values()):
        turn.say(CODE_OF_A_DRAFT)
        return
    turn.say(CODE_NOTHING_WAITS)


def say_lost_card(turn: Turn) -> None:
    contact = office_contact(turn)
    if not turn.is_sms or turn.fits_sms([LOST_CARD, contact]):
        turn.say(LOST_CARD, contact)
    else:
        turn.say(LOST_CARD_ASK_OFFICE)


async def deep_link(turn: Turn, payload: str) -> None:
    """A link or QR code opened in Telegram: /start <card code>."""
    code = "".join(ch for ch in payload.upper() if ch.isalnum()).removeprefix("CARD")
    if not code:
        await show_menu(turn, welcome(turn))
        return
    if await turn.shop() is not None:
        # At the till: scanning a customer's card starts a charge for that card.
        await FLOWS["charge"].begin(turn, code)
        return
    citizen = await turn.citizen()
    if citizen is None and await citizen_requests.represented(turn) is not None:
        # A delegate's proven phone: the balance it acts for, as SALDO (the card is the
        # holder's, and a delegate pays without it).
        await citizen_requests.show_balance(turn)
        return
    if citizen is None and turn.channel == Channel.TELEGRAM:
        # Asked for the contact (then the card's balance), or found by the one shared here.
        citizen = await citizen_requests.identified(turn, f"card:{code}")
        if citizen is None:
            return
    if citizen is None:
        await show_menu(turn, welcome(turn))
        return
    if citizen.card_code != code:
        turn.say(t("This card is not in your name. Here is your own balance."))
    await citizen_requests.show_balance(turn)


async def refuse_in_words(turn: Turn, kind: str) -> None:
    """A payment refused in words with nothing asked (refusal_words.refusal_of): what ANNULLA
    does to the payments waiting for this chat's code (refused, each shop told, the code
    void). "No, annulla" is ANNULLA whatever waits; the other words, with no payment
    waiting, refuse nothing and get the help, as before."""
    if kind == CANCEL_IN_WORDS:
        await run(turn, "cancel", "")
        return
    if turn.flow is None and await stray_codes.refuse_payments(turn, not_me=kind == NOT_ME):
        return
    await say_help(turn, understood=False)


async def run(turn: Turn, name: str, arg: str) -> None:
    """Run a command. STOP, START and the choice of town are the engine's (they touch routing)."""
    if name == "help":
        if turn.flow is None and not await is_shop_member(turn):
            # A payment waiting for this person's code comes first: how to agree or refuse
            # (by SMS and on Telegram alike: the code came to this chat).
            await stray_codes.on_words_while_paying(turn)
        text = turn.inbound.text or ""
        # "non capisco", or only question marks: someone lost, not someone after the words.
        in_words = " ".join(plain_words(text)) in PHRASES or not text.strip("?¿ ")
        await say_help(turn, in_words=in_words)
        await reprompt(turn)
    elif name == "menu":
        await show_menu(turn, await interrupt(turn))
    elif name == "leave":
        if turn.flow is None and await is_shop_member(turn):
            await FLOWS["leave"].begin(turn, arg)
        else:
            # Anywhere else ESCI is what it always was: ANNULLA.
            await run(turn, "cancel", arg)
    elif name == "cancel":
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
        await show_menu(turn, waiting or t("Cancelled."))
    elif name == REFUSE_PAYMENT:
        await refuse_in_words(turn, arg)
    elif name == "language":
        language = LANGUAGE_WORDS.get(fold(arg))
        if language is not None:
            await set_language(turn, language)
        else:
            offer_languages(turn)
    elif name == "start":
        reminder = await interrupt(turn)
        if arg:
            await deep_link(turn, arg)
            remind(turn, reminder)
        else:
            await show_menu(turn, reminder or welcome(turn))
    elif name == "status" and (acting := await turn.shop()) is not None:
        # A shop's number has no application. A shop not approved (waiting for the office,
        # or refused) has a state of its own, which the menu's first line says; an approved
        # one's phone hears that it is a shop's and its words, as for SALDO.
        reminder = await interrupt(turn)
        shop_number = await citizen_requests.shop_number(turn)
        if shop_number is None or acting[1].status != ShopStatus.APPROVED:
            await show_menu(turn, reminder)
            return
        turn.say(shop_number)
        remind(turn, reminder)
    elif name == "reimbursement" and await turn.shop() is None:
        # "Quando arrivano i soldi?" from a citizen asks after their own application.
        await run(turn, "status", arg)
    elif name in ("balance", "status", "card", "reimbursement"):
        reminder = await interrupt(turn)
        show = {
            "balance": citizen_requests.show_balance,
            "status": citizen_requests.show_status,
            "card": citizen_requests.show_card,
            "reimbursement": show_reimbursements,
        }[name]
        await show(turn)
        remind(turn, reminder)
    elif name == "more":
        await shop_finder.more(turn)
    elif name == "thanks" and turn.channel == Channel.TELEGRAM:
        # On Telegram the menu's buttons under it, as under any answer that leaves nothing
        # asked: someone who taps rather than types has a button left.
        await show_menu(turn, t("You're welcome!"))
    elif name == "thanks":
        shop = await is_shop_member(turn)
        turn.say(
            t("You're welcome! Write MENU or AIUTO when you need.")
            if shop
            else t("You're welcome! Write SALDO, NEGOZI or AIUTO when you need.")
        )
    elif name in ("greeting", DECLINED, ACKNOWLEDGED, APOLOGY):
        # A greeting: the welcome says what the service is, the menu what to write. "No
        # grazie" to "Did you mean DOMANDA?": nothing starts, the menu says what can. A
        # payment waiting for this person's code comes first, as for the help.
        if (
            turn.is_sms
            and not await is_shop_member(turn)
            and await stray_codes.on_words_while_paying(turn)
        ):
            return
        way = way_to_language(turn) if name == "greeting" and turn.is_sms else None
        if way is not None:
            # "Hello" to an Italian chat: an Italian menu would say little to them, the way
            # to English does (the menu follows LANGUAGE EN); "buongiorno" to an English
            # one likewise.
            turn.say(welcome(turn), way)
            return
        said = t("No problem.") if name == APOLOGY else t("All right.")
        await show_menu(turn, welcome(turn) if name == "greeting" else said)
    elif name == "lost_card":
        say_lost_card(turn)
    elif name == "other_card":
        turn.say(OTHER_CARD_LOST)
    elif name == "delegation":
        if arg == "balance" and await citizen_requests.represented(turn) is not None:
            # "Quanto resta a mia madre?" from her registered delegate: what SALDO shows.
            await citizen_requests.show_balance(turn)
        elif arg == "for_you":
            turn.say(DELEGATE_FOR_YOU)
        else:
            turn.say(DELEGATION)
    elif name == "price":
        turn.say(VOUCHERS_ARE_FREE)
    elif name == "code_came":
        await say_code_came(turn)
    elif name == "expiry":
        turn.say(VOUCHERS_DO_NOT_EXPIRE)
    elif name == "forgot_code" and await is_shop_member(turn):
        # A cashier's code is the shop's business (CASSIERE): its words.
        await say_help(turn, understood=False)
    elif name == "forgot_code":
        turn.say(FORGOT_CODE)
    elif name == "new_number":
        turn.say(NEW_NUMBER)
    elif name == "who_can_apply":
        await citizen_requests.say_who_can_apply(turn)
    elif name == "how_much_given" and arg.startswith(CHILDREN_ARG):
        # "Ho 3 figli quanto mi danno": she and they at least, and how to ask for all.
        children = int(arg.removeprefix(CHILDREN_ARG))
        turn.say(citizen_requests.amount_with_children(turn.policy, children))
    elif name == "how_much_given" and arg.isdigit() and int(arg) == 0:
        # "Famiglia di 0": how many live in the house, and how to ask for them.
        turn.say(HOW_MANY_AT_HOME)
    elif name == "how_much_given" and arg.isdigit() and int(arg) > LARGEST_HOUSEHOLD:
        # "Famiglia di 25": the office decides, and what the rules give the largest sizes.
        turn.say(citizen_requests.amount_for_a_large_household(turn.policy, int(arg)))
    elif name == "how_much_given" and arg.isdigit():
        # "Quanto danno a una famiglia di 4?": that household's amount by the town's rules.
        turn.say(citizen_requests.amount_for_household(turn.policy, int(arg)))
    elif name == "how_much_given":
        turn.say(citizen_requests.amounts_given(turn.policy))
    elif name == "household_changed":
        turn.say(HOUSEHOLD_CHANGED)
    elif name == "shop_refuses":
        turn.say(SHOP_REFUSES)
    elif name == "why_refused" and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "why_refused":
        await say_why_refused(turn)
    elif name == "not_enough" and await is_shop_member(turn):
        turn.say(NOT_ENOUGH_AT_THE_TILL)
    elif name == "not_enough":
        await run(turn, "balance", arg)  # her own: what is left, and what to do with none
    elif name in ("job_lost", "bills") and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "bills":
        await citizen_requests.say_bills(turn)
    elif name == "job_lost":
        await citizen_requests.say_job_lost(turn)
    elif name == "code_trouble" and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "code_trouble":
        # A payment waiting for her code comes first: which, and how to agree or refuse.
        if not await stray_codes.on_words_while_paying(turn):
            turn.say(CODE_TROUBLE)
    elif name == "window":
        await citizen_requests.say_window(turn)
    elif name == "what_to_buy":
        turn.say(WHAT_TO_BUY)
    elif name == "undo_payment" and await is_shop_member(turn):
        turn.say(UNDO_A_PAYMENT)
    elif name == "how_to_pay" and await is_shop_member(turn):
        # A shop's chat asks how to charge: the help names PAGA.
        await say_help(turn, understood=False)
    elif name in ("scam", "how_to_pay") and await is_shop_member(turn):
        turn.say(NOT_A_SCAM)
    elif name in ("scam", "how_to_pay", "undo_payment"):
        # A citizen undoing a payment hears how paying works. A code that just came is
        # what she asks about: the shop, the amount, and how to agree or refuse (ANNULLA)
        # come first, alone (one SMS).
        if not await stray_codes.on_words_while_paying(turn):
            turn.say(NOT_A_SCAM if name == "scam" else HOW_TO_PAY)
    elif name == "card_trouble":
        turn.say(CARD_TROUBLE)
    elif name == "office":
        reminder = await interrupt(turn)
        say_office_contact(turn)
        remind(turn, reminder)
    elif name == "stop_hint":
        turn.say(
            t(
                "To receive no more messages, write STOP on its own. Payment codes and "
                "receipts still arrive."
            )
        )
    elif name == "switch":
        reminder = await interrupt(turn)
        turn.memory.shop_id = None
        await show_menu(turn, reminder)
    elif name == SHOP_OR_SHOPS and await is_shop_member(turn):
        # "Il mio negozio" from a shop's own chat: that shop's menu.
        await show_menu(turn)
    elif name == SHOP_OR_SHOPS:
        # "Negozio" alone: a citizen after the shops or a shopkeeper after registering hers,
        # as likely; the two answers are the commands NEGOZI and REGISTRA.
        turn.say(
            SHOP_OR_SHOPS_ASKED,
            options=(
                Option("shops", t("Shops where to spend")),
                Option("register", t("Register my shop")),
            ),
        )
    elif name in FLOW_COMMANDS:
        again = turn.flow == FLOW_COMMANDS[name]
        reminder = await interrupt(turn)
        said_at = None
        if reminder is not None and not again:
            # Before the new request's question, which stays the last thing asked.
            # (The same request written again offers its draft back at once.)
            turn.say(reminder)
            said_at = len(turn.replies) - 1
        await FLOWS[FLOW_COMMANDS[name]].begin(turn, arg)
        if said_at is not None and reminder is not None and says(turn, reminder, said_at + 1):
            # The new request's answer says it itself (RICORSO: nothing to appeal yet, the
            # application to complete): once, in that answer.
            del turn.replies[said_at]
        elif said_at is not None and name == "statement":
            # The till's statement asked while a payment waits for its code: the payment
            # and the takings in one SMS when they fit (a busy cashier reads one message).
            _join_next(turn, said_at)
    else:
        await show_menu(turn)


def _join_next(turn: Turn, at: int) -> None:
    """Reply `at` (plain texts) joined before the reply after it, when both make one
    message (one SMS); else left as they are."""
    if at + 1 >= len(turn.replies):
        return
    first, then = turn.replies[at], turn.replies[at + 1]
    plain = all(
        reply.request is None
        and reply.document is None
        and reply.pin is None
        and not reply.sensitive
        and reply.invoice is None
        for reply in (first, then)
    )
    texts = [*first.texts, *then.texts]
    if plain and not first.options and (not turn.is_sms or turn.fits_sms(texts, then.options)):
        turn.replies[at : at + 2] = [replace(then, texts=tuple(texts))]


async def choose_shop(turn: Turn, shop_id: int) -> None:
    if any(shop.id == shop_id for _, shop in await turn.memberships()):
        turn.memory.shop_id = shop_id
        await show_menu(turn)
        return
    # Picked from a list shown before the chat stopped working for that shop: said first,
    # or the menu of the shop it still works for would read as the one it picked.
    if turn.memory.removed_from == shop_id:
        await show_menu(turn, await not_a_shop(turn, NO_LONGER_THAT_SHOP))
    else:
        await show_menu(turn, NO_LONGER_THAT_SHOP)


NO_LONGER_THAT_SHOP = t("From this chat you cannot charge for that shop.")


# A one-word message one slip away from a keyword ("Sadlo", "saldp", "AIUTOO", "domnada").
# Read-only commands run at once: an elderly person who mistyped SALDO wants the balance,
# not the help. Those that start something (an application, a payment, a registration)
# are only suggested, with a Yes to confirm. STOP and START are compliance words: they
# act only when written exactly, and a message close to them is never taken for another
# word (the help names them). CANCEL and TOWN are left out: with no request open there is
# nothing to cancel, and a town is picked from the list.
RUN_ON_TYPO = frozenset(
    {"help", "menu", "balance", "status", "card", "shops", "language", "statement",
     "reimbursement", "more", "office"}
)  # fmt: skip
NEVER_ON_TYPO = frozenset({"stop", "start", "cancel", "leave", "town"})
# Words that mean something only at a shop's till, or where community vouchers are on:
# elsewhere a near miss ("pago") is no typo of theirs, and gets the help.
SHOP_ONLY = frozenset({"charge", "refund", "cashier", "cashiers", "statement", "reimbursement"})
COMMUNITY_ONLY = frozenset({"buy", "give", "vouchers", "donate"})
# How each suggested command is named, in Italian and English.
SUGGESTED: dict[str, tuple[str, str]] = {
    "apply": ("DOMANDA", "APPLY"),
    "appeal": ("RICORSO", "APPEAL"),
    "charge": ("PAGA", "PAY"),
    "refund": ("STORNO", "REFUND"),
    "cashier": ("CASSIERE", "CASHIER"),
    "cashiers": ("CASSIERI", "CASHIERS"),
    "join": ("INVITO", "JOIN"),
    "register": ("REGISTRA", "REGISTER"),
    "shopkeeper": ("NEGOZIANTE", "SHOPKEEPER"),
    "buy": ("COMPRA", "BUY"),
    "donate": ("DONA", "DONATE"),
    "give": ("REGALA", "GIVE"),
    "vouchers": ("BUONI", "VOUCHERS"),
}
# Short words are too close to ordinary ones ("pay" and "yes", "?" and "ok"): they count only
# written exactly. Up to 6 letters one slip is allowed ("salve" is not SALDO), from 7 two.
_TYPO_MIN = 4
_LONGEST = max(len(word) for word in KEYWORDS)


def _slips_allowed(keyword: str) -> int:
    return 1 if len(keyword) <= 6 else 2


# On a keypad phone the letter O and the figure 0 share a key (and look alike): "SALD0",
# "NEG0ZI" are the keyword, when most of the word is letters ("0000" is no word).
_KEYPAD_ZERO = str.maketrans({"0": "o"})


def keypad_keyword(text: str | None) -> str | None:
    """The command a one-word message is with a zero typed for the letter O ("SALD0",
    "NEG0ZI"), when most of the word is letters; never STOP, START nor the others that
    act only when exact (NEVER_ON_TYPO)."""
    word = fold(text)
    if "0" not in word or sum(ch.isalpha() for ch in word) <= word.count("0"):
        return None
    name = KEYWORDS.get(word.translate(_KEYPAD_ZERO))
    return None if name is None or name in NEVER_ON_TYPO else name


def typo_of(text: str | None) -> str | None:
    """The command a one-word message misspells, when only one command is that close."""
    word = fold(text)
    if "0" in word and sum(ch.isalpha() for ch in word) > word.count("0"):
        word = word.translate(_KEYPAD_ZERO)
        if word in KEYWORDS:
            return keypad_keyword(text)
    if not word.isalpha() or not _TYPO_MIN <= len(word) <= _LONGEST + 2 or word in KEYWORDS:
        return None
    near: dict[str, int] = {}
    for keyword, name in KEYWORDS.items():
        slips = typo_distance(word, keyword) if len(keyword) >= _TYPO_MIN else None
        if slips is not None and slips <= _slips_allowed(keyword):
            near[name] = min(slips, near.get(name, slips))
    # The nearest: "casiere" is one slip from CASSIERE and two from CASSIERI.
    nearest = [name for name, slips in near.items() if slips == min(near.values(), default=0)]
    if len(nearest) != 1:
        return None  # nothing close, or two commands as close: the help says which words work
    name = nearest[0]
    return None if name in NEVER_ON_TYPO else name


async def on_typo(turn: Turn, name: str) -> None:
    """Run, or suggest, the command a one-word message misspells (see typo_of)."""
    if (name in SHOP_ONLY and not await is_shop_member(turn)) or (
        name in COMMUNITY_ONLY and not community_on(turn)
    ):
        await say_help(turn, understood=False)
        return
    if name in RUN_ON_TYPO:
        await run(turn, name, "")
        return
    italian, english = SUGGESTED[name]
    turn.say(
        t("Did you mean {keyword}?", keyword=english if turn.language == "en" else italian),
        # "1", "sì", "yes" or the button runs the command; anything else is read afresh.
        options=[Option(name, t("Yes"))],
    )
