"""Running what a command names (run): each command's answer or flow, a deep link's
payload, a payment refused in words, a code that came, and the shop a member's chat
chooses."""

from __future__ import annotations

from dataclasses import replace

from core.dialogue import stray_codes
from core.dialogue.commands.answers import (
    CARD_TROUBLE,
    CASHIER_CANT_JOIN_OWNER,
    CASHIER_CODE_HOW,
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
    NEW_NUMBER,
    NO_LONGER_THAT_SHOP,
    NOT_A_SCAM,
    NOT_ENOUGH_AT_THE_TILL,
    OTHER_CARD_LOST,
    SHOP_OR_SHOPS_ASKED,
    SHOP_REFUSES,
    TILL_CLOSED,
    UNDO_A_PAYMENT,
    VOUCHERS_ARE_FREE,
    VOUCHERS_DO_NOT_EXPIRE,
    WHAT_TO_BUY,
)
from core.dialogue.commands.interruptions import interrupt, remind, reprompt, says
from core.dialogue.commands.language import set_language
from core.dialogue.commands.reading import FLOW_COMMANDS, LANGUAGE_WORDS, PHRASES
from core.dialogue.context import ACKNOWLEDGED, DECLINED, Turn
from core.dialogue.flows import FLOWS, shop_finder
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import VERIFY, not_a_shop
from core.dialogue.flows.charge_waiting import cancel_at_till
from core.dialogue.flows.shop_reports import show_last_payment, show_reimbursements
from core.dialogue.menus import (
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
    CASHIER_CANT_JOIN,
    CHARGE_IN_WORDS,
    CHILDREN_ARG,
    CLOSE_TILL,
    LARGEST_HOUSEHOLD,
    LAST_PAYMENT,
    SHOP_OR_SHOPS,
)
from core.dialogue.refusal_words import CANCEL_IN_WORDS, CONFIRM_NOT_ME, NOT_ME, REFUSE_PAYMENT
from core.dialogue.state import ApplyState
from core.dialogue.words import (
    fold,
    plain_words,
)
from core.domain.channels import Channel
from core.domain.messages import Option, t
from core.domain.shops import MemberRole, ShopStatus


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
    if turn.flow is None and kind == NOT_ME and await stray_codes.not_me_again(turn):
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
    elif name == CONFIRM_NOT_ME:
        if turn.flow is None and await stray_codes.confirm_not_me(turn, arg):
            return
        # No "not me" of hers waits for digits: the words alone, as written without them.
        await refuse_in_words(turn, NOT_ME)
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
    elif name == LAST_PAYMENT and await turn.shop() is not None:
        reminder = await interrupt(turn)
        await show_last_payment(turn)
        remind(turn, reminder)
    elif name == LAST_PAYMENT:
        # "Il mio ultimo pagamento" from a citizen: her balance, which the payments left.
        await run(turn, "balance", "")
    elif name == CLOSE_TILL and await is_shop_member(turn):
        await _close_till(turn)
    elif name == CLOSE_TILL:
        # "Ho finito" from a citizen is no request: not understood, as before.
        await say_help(turn, understood=False)
    elif name == CASHIER_CANT_JOIN:
        current = await turn.shop()
        owner = current is not None and current[0].role == MemberRole.OWNER.value
        turn.say(CASHIER_CANT_JOIN_OWNER if owner else CASHIER_CODE_HOW)
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
    elif name == CHARGE_IN_WORDS:
        # "Devo far pagare una signora": at a shop's chat PAGA, which asks what the charge
        # needs next; a citizen saying it hears how paying works.
        await run(turn, "charge" if await is_shop_member(turn) else "how_to_pay", "")
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


async def _close_till(turn: Turn) -> None:
    """ "Chiudo la cassa", "ho finito": the request open ends as with ANNULLA, what this
    till holds waiting for a code is cancelled and named (cancel_at_till: no code told later
    pays), and the SMS till's session ends, so the next PAGA confirms this phone again."""
    flow = FLOWS.get(turn.flow or "")
    if flow is not None:
        await flow.on_cancel(turn)
        flow.drop_draft(turn)
        turn.finish()
    await cancel_at_till(turn)
    turn.memory.till = None
    turn.say(TILL_CLOSED)


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
