"""A shopkeeper's questions in words: the statement and the takings, the town's
reimbursement, a new cashier, a payment to cancel or give back, and a shop said to refuse
the vouchers."""

from __future__ import annotations

# A shopkeeper's questions: "quando mi paga il comune?", "quando arrivano i soldi?" (the
# reimbursement; for a citizen the same words ask after their application), "quanto ho
# incassato oggi?" (the statement), "vorrei un nuovo cassiere" (a cashier code).
_WHEN = frozenset({"quando", "when"})
_OWES = frozenset({"deve", "devono", "owe", "owes"})
_THE_TOWN = frozenset({"comune", "town", "municipality"})
_TOWN_PAYS = frozenset(
    {"paga", "pagano", "pagate", "pagato", "rimborsa", "rimborso", "rimborsi", "bonifico",
     "soldi", "arrivano", "pay", "pays", "paid", "reimburse", "reimbursement", "money"}
)  # fmt: skip
# "Quando mi danno i buoni?", "quando arriva la ricarica?": the same question in a citizen's
# other words (when the vouchers come), never a code's ("quando arriva il codice?", read
# before) nor the application window's ("quando si fa la domanda?").
_COMES = frozenset(
    {"arriva", "arrivano", "arrivera", "arriveranno", "danno", "daranno", "date", "mandano",
     "caricano", "ricaricano", "accreditano", "accreditate", "accreditati", "arrive", "come",
     "comes"}
)  # fmt: skip
_WHAT_COMES = frozenset(
    {"buoni", "buono", "ricarica", "accredito", "credito", "vouchers", "voucher"}
)
_TAKINGS = frozenset({"incassato", "incassati", "incasso", "incassi", "takings", "earned"})
# A shop asking for its statement in words ("il rendiconto di ottobre").
_STATEMENT_WORDS = frozenset({"resoconto", "rendiconto", "estratto", "statement"})
# "Quanto mi dovete?": the shop speaking to the town, what it is still owed.
_YOU_OWE = frozenset({"dovete"})
_TODAY = frozenset({"oggi", "today"})
_MONTH = frozenset({"mese", "month"})
_CASHIER = frozenset({"cassiere", "cassiera", "cashier"})
# Adding a person, not "il cassiere mi chiede un nuovo codice" (a customer at the till).
_ADD = frozenset(
    {"aggiungere", "aggiungi", "aggiungo", "aggiungerne", "inserire", "inserisco", "add"}
)
_NEW_CASHIER = {("nuovo", "cassiere"), ("nuova", "cassiera"), ("new", "cashier")}
# Taking one away ("togli il cassiere", "rimuovi una cassiera"): CASSIERI, whose list asks
# which one, then a Yes, before anyone is removed.
_REMOVE = frozenset(
    {"togli", "togliere", "rimuovi", "rimuovere", "elimina", "eliminare", "remove", "delete"}
)
_CASHIERS = _CASHIER | {"cassieri", "cashiers"}
# Said of a shop: "il negozio non accetta i buoni", "la cassiera non li prende".
_A_SHOP = frozenset(
    {"negozio", "negozi", "negoziante", "supermercato", "alimentari", "cassiere", "cassiera",
     "forno", "macelleria", "shop", "store", "supermarket", "cashier"}
)  # fmt: skip


# A shopkeeper undoing a payment: "come si fa a annullare un pagamento", "ho sbagliato
# l'importo", "devo rimborsare la signora", "come faccio uno storno". Answered with ANNULLA
# (a payment waiting for its code) and STORNO (one confirmed today); a citizen asking it
# hears how paying works (commands.run). Not the town's reimbursement ("rimborsa il comune").
_REFUND = frozenset({"storno", "stornare", "stornarlo", "refund"})
_GIVE_BACK = frozenset(
    {"rimborsare", "rimborsarle", "rimborsargli", "restituire", "restituirle", "restituirgli",
     "ridare", "ridarle", "ridargli"}
)  # fmt: skip
_CANCEL = frozenset({"annullare", "annullo", "annullarlo", "cancellare", "cancel", "undo"})
_A_PAYMENT = frozenset(
    {"pagamento", "pagamenti", "importo", "limporto", "scontrino", "payment", "charge", "amount"}
)  # fmt: skip
_MISTAKEN = frozenset(
    {"sbagliato", "sbagliata", "errato", "errata", "sbaglio", "wrong", "mistake"}
)  # fmt: skip
_THE_AMOUNT = frozenset({"importo", "limporto", "cifra", "totale", "conto", "amount", "total"})


# The shop's cashiers asked after ("quanti cassieri ho", "chi sono i miei cassieri", "who
# are my cashiers"): CASSIERI, which lists them (masked) to the owner only.
_MANY_CASHIERS = frozenset({"cassieri", "cashiers"})
_WHICH_ONES = frozenset(
    {"quanti", "quante", "chi", "elenco", "lista", "miei", "who", "many", "list", "my"}
)
# The last payment ("ultimo pagamento", "l'ultimo incasso", "last payment"): a shop's last
# one as STORNO lists payments (receipt, amount, time), never who paid; a citizen's words
# ask her balance.
LAST_PAYMENT = "last_payment"
_LAST = frozenset({"ultimo", "lultimo", "ultima", "lultima", "last"})
_PAID = frozenset(
    {"pagamento", "incasso", "scontrino", "vendita", "spesa", "payment", "charge", "sale"}
)
# Closing the till ("chiudo la cassa", "ho finito", "I'm done"), said whole: at a shop's
# chat what ANNULLA does at a till (what waits for a code is cancelled, named) and the SMS
# till's session ends; a citizen's "ho finito" stays not understood.
CLOSE_TILL = "close_till"
CLOSING = frozenset(
    {"chiudo la cassa", "chiudi la cassa", "chiudere la cassa", "chiudo cassa", "chiudi cassa",
     "chiusura cassa", "chiusura della cassa", "ho finito", "abbiamo finito", "ho finito il turno",
     "ho finito per oggi", "fine turno", "finito il turno", "ho chiuso la cassa", "im done",
     "i am done", "done for today", "close the till", "closing the till", "close till",
     "end of shift", "end of my shift"}
)  # fmt: skip
# "Il mio cassiere non riesce a entrare", "my cashier can't join": what the owner can do
# (a new code with CASSIERE, and where the cashier types it).
CASHIER_CANT_JOIN = "cashier_cant_join"
_GET_IN = frozenset(
    {"entrare", "entra", "accedere", "accede", "collegarsi", "iscriversi", "join", "enter",
     "in", "log"}
)  # fmt: skip
_CANT = frozenset({"non", "cant", "cannot", "not", "doesnt", "unable"})

# "Nuovo incasso", "un altro incasso" (the till's own option after a payment, typed later):
# the next charge, not the takings that "incasso" alone asks for.
_NEW_CHARGE = frozenset(
    {("nuovo", "incasso"), ("altro", "incasso"), ("new", "charge"), ("another", "charge")}
)
# A shopkeeper about to charge, said in words (words.customer_to_charge): PAGA at a shop's
# chat (what the charge needs next); a citizen saying it hears how paying works.
CHARGE_IN_WORDS = "charge_in_words"


def _undoes_a_payment(said: frozenset[str]) -> bool:
    """Whether the words ask how to cancel or give back a payment (see _REFUND)."""
    if said & _THE_TOWN:
        return False
    give_back = said & _GIVE_BACK or {"give", "back"} <= said
    cancels = said & _CANCEL and said & _A_PAYMENT
    return bool(said & _REFUND or give_back or cancels or (said & _MISTAKEN and said & _THE_AMOUNT))
