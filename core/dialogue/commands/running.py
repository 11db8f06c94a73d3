"""Running what a command names (run): each command's answer or flow (a question in
words by questions_answered, ANNULLA by cancelling), a deep link's payload, and the shop
a member's chat chooses."""

from __future__ import annotations

from dataclasses import replace

from core.dialogue import stray_codes
from core.dialogue.commands.answers import (
    CASHIER_CANT_JOIN_OWNER,
    CASHIER_CODE_HOW,
    NO_LONGER_THAT_SHOP,
    NOT_ENOUGH_AT_THE_TILL,
    TILL_CLOSED,
)
from core.dialogue.commands.cancelling import GAVE_UP, cancel, refuse_in_words
from core.dialogue.commands.interruptions import interrupt, remind, reprompt, says
from core.dialogue.commands.language import set_language
from core.dialogue.commands.questions_answered import answer_in_words
from core.dialogue.commands.reading import FLOW_COMMANDS, PHRASES, language_asked
from core.dialogue.context import Turn
from core.dialogue.flows import FLOWS, shop_finder
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import not_a_shop
from core.dialogue.flows.charge_waiting import cancel_at_till
from core.dialogue.flows.shop_reports import show_last_payment, show_reimbursements
from core.dialogue.menus import (
    is_shop_member,
    offer_languages,
    say_help,
    say_office_contact,
    show_menu,
    welcome,
)
from core.dialogue.questions import (
    CASHIER_CANT_JOIN,
    CHARGE_IN_WORDS,
    CLOSE_TILL,
    LAST_PAYMENT,
)
from core.dialogue.refusal_words import CONFIRM_NOT_ME, NOT_ME, REFUSE_PAYMENT
from core.dialogue.words import (
    plain_words,
)
from core.domain.channels import Channel
from core.domain.messages import t
from core.domain.shops import MemberRole, ShopStatus


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


async def run(turn: Turn, name: str, arg: str) -> None:
    """Run a command. STOP, START and the choice of town are the engine's (they touch routing)."""
    if await answer_in_words(turn, name, arg):
        # A question in words (questions.unasked): its answer.
        return
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
        await cancel(turn, gave_up=arg == GAVE_UP)
    elif name == REFUSE_PAYMENT:
        await refuse_in_words(turn, arg)
    elif name == CONFIRM_NOT_ME:
        if turn.flow is None and await stray_codes.confirm_not_me(turn, arg):
            return
        # No "not me" of hers waits for digits: the words alone, as written without them.
        await refuse_in_words(turn, NOT_ME)
    elif name == "language":
        language = language_asked(arg)
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
    elif name == CHARGE_IN_WORDS:
        # "Devo far pagare una signora": at a shop's chat PAGA, which asks what the charge
        # needs next; a citizen saying it hears how paying works.
        await run(turn, "charge" if await is_shop_member(turn) else "how_to_pay", "")
    elif name == "office":
        reminder = await interrupt(turn)
        say_office_contact(turn)
        remind(turn, reminder)
    elif name == "switch":
        reminder = await interrupt(turn)
        turn.memory.shop_id = None
        await show_menu(turn, reminder)
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
