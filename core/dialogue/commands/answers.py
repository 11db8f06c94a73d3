"""What the commands answer in words that several places say or tests name: a delegation,
the vouchers' price, a lost card, a scam feared, how to pay, a code that came, and the
other answers to the questions in plain words (core/dialogue/questions)."""

from __future__ import annotations

from core.domain.messages import t

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


# A lost card: the office replaces it, and the lost one stops working then (`admin card
# --reissue`, docs/cards-and-delegates.md). Said with the office's contact when both fit
# one SMS, else with the way to it (UFFICIO).
LOST_CARD = t("Lost card? Tell the office: they give you a new card and block the lost one.")
# "Ho perso il telefono", "mi hanno rubato il cellulare": the payment codes go to that
# number until the office records another (docs/identity-and-consent.md).
LOST_PHONE = t(
    "Lost or stolen phone? Tell the office: only they move your vouchers to a new number, "
    "and until then the codes go to the old one."
)
LOST_PHONE_ASK_OFFICE = t(
    "Lost or stolen phone? Tell the office: only they move your vouchers to a new number; "
    "until then the codes go to the old one. Write UFFICIO."
)
LOST_CARD_ASK_OFFICE = t(
    "Lost card? Tell the office: they give you a new card and block the lost one. To reach "
    "them, write UFFICIO."
)
# "Ho perso il portafoglio", "mi hanno rubato la borsa": her voucher card was likely in it.
# The chat blocks nothing (only the office's new card does), so she hears that the vouchers
# are not lost and that the office blocks the card, if it was there; with the office's
# contact when both fit one SMS, else the way to it (UFFICIO).
WALLET_LOST = t(
    "Your vouchers are not lost. If your voucher card was in the wallet or bag, tell the "
    "office now: they block it and give you a new one."
)
WALLET_LOST_ASK_OFFICE = t(
    "Your vouchers are not lost. If your voucher card was in the wallet or bag, tell the "
    "office now: they block it and give you a new one. Write UFFICIO."
)
# The same from a holder who has no printed card (her payments are confirmed by a code
# sent to her): nothing to block; whoever found her codice fiscale can only start a
# payment whose code comes to her.
WALLET_LOST_NO_CARD = t(
    "Your vouchers are safe and you have no card to block: they pay only with the code sent "
    "to you. Never give anyone a code you did not ask for."
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

# "50 euro", "50", "€ 50" from a citizen with nothing asked: at a till, trying to pay (or
# asking for money). Nobody pays by typing an amount: the shop starts the payment, and the
# code that comes is told to the cashier. A shop's chat gets its help (PAGA) instead.
AMOUNT_TYPED = t(
    "No need to write amounts: at the till the shop starts the payment, and a code comes "
    "to you to tell the cashier. To see how much you have, write SALDO."
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
# "Il mio cassiere non riesce a entrare" from the owner: a new code, and where the cashier
# types it; from anyone else, how a cashier code works and whom to ask.
CASHIER_CANT_JOIN_OWNER = t(
    "For your cashier: write CASSIERE for a new cashier code (valid 2 days, once). The "
    "cashier sends it here from their own phone, by SMS or on Telegram."
)
CASHIER_CODE_HOW = t(
    "A cashier code is valid 2 days, once: the cashier sends it here from their own phone, "
    "by SMS or on Telegram. If it fails, ask the owner for a new one."
)
# "Chiudo la cassa", "ho finito" at a shop's chat, after what waited for a code was named.
TILL_CLOSED = t("Till closed: nothing waits for a code here. To charge again, write PAGA.")
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
# "Negozio" alone: a citizen after the shops, or a shopkeeper after registering hers.
SHOP_OR_SHOPS_ASKED = t(
    "Are you looking for shops where to spend the vouchers, or do you want to register your shop?"
)
# "Mi è arrivato un codice, cosa devo fare?" with no payment waiting for it.
CODE_NOTHING_WAITS = t(
    "No payment waits for a code of yours now. A payment code is told only to the cashier, "
    "when you pay. If you did not ask for it, give it to nobody."
)
# The same with a request of this chat left at its code step (an application): the code
# typed here finishes it (stray_codes.on_code).
CODE_OF_A_DRAFT = t("That code confirms the request you left half-way: write it here to finish it.")


NO_LONGER_THAT_SHOP = t("From this chat you cannot charge for that shop.")
