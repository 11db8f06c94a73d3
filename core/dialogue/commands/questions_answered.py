"""The answers to questions said in words with nothing asked (questions.unasked names
them): thanks and greetings, a card or a phone lost (or both), a delegation, the amounts
given, a code that came or did not, a payment refused, bills, a lost job, a scam, how to
pay, STOP in a sentence, and "negozio" alone."""

from __future__ import annotations

from core.dialogue import stray_codes
from core.dialogue.commands.answers import (
    CARD_TROUBLE,
    CODE_NOTHING_WAITS,
    CODE_OF_A_DRAFT,
    CODE_TROUBLE,
    DELEGATE_FOR_YOU,
    DELEGATION,
    FORGOT_CODE,
    HOUSEHOLD_CHANGED,
    HOW_MANY_AT_HOME,
    HOW_TO_PAY,
    LOST_CARD,
    LOST_CARD_ASK_OFFICE,
    LOST_PHONE,
    LOST_PHONE_ASK_OFFICE,
    NEW_NUMBER,
    NOT_A_SCAM,
    OTHER_CARD_LOST,
    SHOP_OR_SHOPS_ASKED,
    SHOP_REFUSES,
    UNDO_A_PAYMENT,
    VOUCHERS_ARE_FREE,
    VOUCHERS_DO_NOT_EXPIRE,
    WALLET_LOST,
    WALLET_LOST_ASK_OFFICE,
    WALLET_LOST_NO_CARD,
    WHAT_TO_BUY,
)
from core.dialogue.context import ACKNOWLEDGED, DECLINED, Turn
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import VERIFY
from core.dialogue.menus import (
    is_shop_member,
    is_unknown_number,
    office_contact,
    say_help,
    show_menu,
    way_to_language,
    welcome,
)
from core.dialogue.payment_trouble import say_why_refused
from core.dialogue.questions import (
    AND_CARD,
    APOLOGY,
    CHILDREN_ARG,
    LARGEST_HOUSEHOLD,
    SHOP_OR_SHOPS,
    WALLET,
)
from core.domain.channels import Channel
from core.domain.messages import Option, Text, t
from core.services import cards


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


def _tell_the_office(turn: Turn, *answers: tuple[Text, Text]) -> None:
    """What to tell the office (each answer with, by SMS, its form naming UFFICIO), then
    how to reach it: one message where it fits (never by SMS for two answers: each is an
    SMS of its own, the contact after it when both fit one)."""
    contact = office_contact(turn)
    if not turn.is_sms:
        turn.say(*(answer for answer, _ in answers), contact)
        return
    for answer, ask_office in answers:
        if turn.fits_sms([answer, contact]):
            turn.say(answer, contact)
        else:
            turn.say(ask_office)


_CARD_LOST = (LOST_CARD, LOST_CARD_ASK_OFFICE)
_PHONE_LOST = (LOST_PHONE, LOST_PHONE_ASK_OFFICE)


def say_lost_card(turn: Turn) -> None:
    _tell_the_office(turn, _CARD_LOST)


async def say_lost_wallet(turn: Turn) -> None:
    """A wallet or a bag lost or stolen: what becomes of the vouchers, and how the card is
    blocked (by the office, with a new card) if it was in it. A holder without a printed
    card hears that there is none to block; anyone else (a neighbour's phone, a holder with
    a card) hears the card's way, said for the case it was there. Nothing is blocked here."""
    citizen = await turn.citizen()
    if citizen is not None and not cards.has_pin_card(citizen):
        turn.say(WALLET_LOST_NO_CARD)
        return
    _tell_the_office(turn, (WALLET_LOST, WALLET_LOST_ASK_OFFICE))


async def say_lost_phone(turn: Turn, *, card: bool = False) -> None:
    """A phone lost or stolen: a payment waiting for a code sent to it is cancelled (the
    code is on the lost phone, and whoever holds it could pay with it; this chat could
    refuse it with ANNULLA anyway), then what to do: the office moves the vouchers to a
    new number (NEW_NUMBER's path), with its contact when it fits the SMS. With `card`
    (the card lost with it, questions.AND_CARD) the lost card's answer too."""
    await stray_codes.cancel_for_lost_phone(turn)
    _tell_the_office(turn, _PHONE_LOST, *((_CARD_LOST,) if card else ()))


async def answer_in_words(turn: Turn, name: str, arg: str) -> bool:
    """Answer the question in words `name` names (True); False, saying nothing, for
    another command (run's)."""
    if name == "thanks" and turn.new_chat and turn.flow is None and await is_unknown_number(turn):
        # "Grazie" as the first message of a number the town does not know (an SMS passed
        # on, a leaflet): "You're welcome!" told nothing of whose number this is. The
        # welcome and the words, as for INFO (menus.say_help).
        await say_help(turn)
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
            return True
        way = way_to_language(turn) if name == "greeting" and turn.is_sms else None
        if way is not None:
            # "Hello" to an Italian chat: an Italian menu would say little to them, the way
            # to English does (the menu follows LANGUAGE EN); "buongiorno" to an English
            # one likewise.
            turn.say(welcome(turn), way)
            return True
        said = t("No problem.") if name == APOLOGY else t("All right.")
        await show_menu(turn, welcome(turn) if name == "greeting" else said)
    elif name == "lost_card" and arg == WALLET:
        await say_lost_wallet(turn)
    elif name == "lost_card":
        say_lost_card(turn)
    elif name == "lost_phone" and await is_shop_member(turn):
        # A shop's phone: its till and cashiers are the shop's business (the help).
        await say_help(turn, understood=False)
    elif name == "lost_phone":
        await say_lost_phone(turn, card=arg == AND_CARD)
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
        await citizen_requests.say_with_how_to_apply(
            turn, citizen_requests.amount_for_household(turn.policy, int(arg))
        )
    elif name == "how_much_given":
        await citizen_requests.say_with_how_to_apply(
            turn, citizen_requests.amounts_given(turn.policy)
        )
    elif name == "household_changed":
        turn.say(HOUSEHOLD_CHANGED)
    elif name == "shop_refuses":
        turn.say(SHOP_REFUSES)
    elif name == "why_refused" and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "why_refused":
        await say_why_refused(turn)
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
    elif name == "code_late" and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "code_late":
        # Her code did not come: whether a payment waits for it (where it went), never
        # the code again.
        await stray_codes.say_code_late(turn)
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
    elif name == "stop_hint":
        turn.say(
            t(
                "To receive no more messages, write STOP on its own. Payment codes and "
                "receipts still arrive."
            )
        )
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
    else:
        return False
    return True
