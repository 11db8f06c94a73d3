"""Questions in plain words: the request a sentence makes when nothing is being asked
("quanto mi resta?", "la tessera non passa", "quanto danno a una famiglia di 4?"), read
by its words from small sets, never guessed (question_of), the statement or the
reimbursements a shop asks at a till's question (shop_question), and the one keyword a
longer message holds (in_sentence). commands.py runs what they name."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

from core.dialogue import failure_words as failing
from core.dialogue.context import ACKNOWLEDGED, DECLINED
from core.dialogue.keywords import KEYWORDS
from core.dialogue.refusal_words import REFUSE_PAYMENT, refusal_of
from core.dialogue.words import (
    NUMBER_WORDS,
    ShopSaid,
    as_said,
    fold,
    has_digits,
    is_currency,
    month_named,
    plain_words,
    shop_or_shops,
)
from core.domain.shops import searched_category

# "Cosa posso comprare con i buoni?", "posso comprare il vino?", "what can I buy?".
_BUY = frozenset({"comprare", "comprarci", "compro", "acquistare", "acquisto", "buy"})
_WHAT_OR_MAY = frozenset({"cosa", "che", "quali", "quale", "posso", "puo", "what", "can"})


# Keywords recognised inside a sentence ("saldo per favore", "vorrei sapere il mio saldo"):
# only those that cannot be an ordinary word of an answer or a greeting.
SENTENCE_KEYWORDS = frozenset(
    {
        "saldo", "balance", "credito", "negozi", "shops", "domanda", "apply", "stato",
        "status", "carta", "tessera", "card", "aiuto", "help", "lingua", "language", "menu",
        "ricorso", "appeal", "resoconto", "rimborso", "rimborsi",
    }
)  # fmt: skip
# Words after NEGOZI in a sentence that are not a town: "negozi a Belforte", "shops in …".
# ("vicino" stays: "negozi vicino a me" asks how to search near, see shop_finder.asks_near.)
_SHOP_FILLER = frozenset({"a", "ad", "di", "in", "nel", "nella", "per", "at", "the", "ci", "sono"})


# Questions in plain words read by the words they hold, when nothing is being asked (see
# commands.of_answer): a handful of deterministic rules over small sets, checked in this
# order, each naming the keywords it may contain (another keyword in the sentence leaves it to
# in_sentence: "vorrei sapere lo stato della domanda" is no application). None of them
# leads to a payment, and a message with a digit is never one of them, but for a household
# size after the amounts' question ("quanto danno a una famiglia di 4?", _household_size).
# "Quanto c'ho sulla tessera", "mi dici quanti soldi mi restano": the balance.
_HOW_MUCH = frozenset({"quanto", "quanti", "quanta", "quante"})
_ENGLISH_HOW_MUCH = (("how", "much"), ("how", "many"))
_MONEY = frozenset(
    {
        "soldi", "sordi", "credito", "saldo", "tessera", "carta", "buoni", "buono", "resta",
        "restano", "rimane", "rimangono", "rimasto", "rimasti", "avanza", "avanzano",
        "avanzato", "speso", "spesi", "money", "credit", "balance", "card", "left",
        "vouchers", "spent",
    }
)  # fmt: skip
# "Ho ancora soldi?", "c'ho ancora li sordi?", "do I still have money?": the balance, when
# the sentence holds no "non" ("non ho ancora la tessera" asks something else) and its
# money word is money, not the card or the vouchers one may still be waiting for.
_STILL = frozenset({"ancora", "still"})
_CASH = frozenset({"soldi", "sordi", "credito", "saldo", "money", "credit", "balance"})
_NEGATION = frozenset({"non", "not", "dont", "no"})
# "Dove posso fare la spesa?", "dove posso usare la tessera", "dove trovo un forno?": the
# shops.
_WHERE = frozenset({"dove", "dov", "where"})
_SPEND = frozenset(
    {
        "spesa", "spendere", "spendo", "spenderli", "usare", "uso", "usarli", "usarla",
        "comprare", "compro", "acquistare", "pagare", "pago", "trovo", "trovare", "trova",
        "shop", "shopping", "spend", "use", "buy", "pay", "find",
    }
)  # fmt: skip
# "Vorrei i buoni spesa", "come faccio a chiedere i buoni?", "io e mio marito vorremmo i
# buoni": the application.
_VOUCHERS = frozenset({"buoni", "buono", "bonus", "domanda", "vouchers", "voucher"})
_WANT = frozenset(
    {
        "vorrei", "voglio", "volevo", "chiedere", "richiedere", "ottenere", "avere",
        "ricevere", "come", "faccio", "posso", "presentare", "want", "get", "need", "how",
        "request",
        # A couple or a family asking together: "io e mio marito vorremmo i buoni".
        "vorremmo", "vogliamo", "volevamo", "possiamo", "facciamo",
    }
)  # fmt: skip
# "A che punto è la mia domanda?", "com'è andata la domanda", "what happened to my
# application?": the status, not a new application (read before the application's rule).
_PROGRESS = frozenset(
    {
        "punto", "andata", "stata", "accettata", "accolta", "approvata", "ammessa",
        "respinta", "esito", "novita", "notizie", "risposta", "stato", "valutata",
        "happened", "accepted", "approved", "news", "progress", "result", "status",
    }
)  # fmt: skip
_APPLICATION = frozenset({"domanda", "richiesta", "application"})
_STATUS_KEYWORDS = frozenset({"domanda", "stato", "status"})
# "Grazie", "ok grazie mille", "thank you": thanks, answered with a word of what to write.
_THANKS = frozenset({"grazie", "thanks", "thank"})
# "Prego!", the courtesy returned to an answer.
_YOURE_WELCOME = frozenset({"prego"})
_WITH_THANKS = frozenset(
    {
        "ok", "okay", "va", "bene", "daccordo", "perfetto", "mille", "tante", "you", "very",
        "much", "gentilissimi", "gentilissima", "gentilissimo", "gentili", "gentile", "siete",
        "sei", "molto", "davvero", "tanto", "tantissimo", "infinite", "buona", "giornata",
        "serata", "arrivederci", "so", "kind", "lot", "bye", "goodbye", "a", "posto",
        "apposto", "tutto", "signora", "signore", "dottoressa", "dottore", "cara", "caro",
    }
)  # fmt: skip
# "Ok", "va bene", "ricevuto": a notice (a credit, a receipt) acknowledged, perhaps hours
# later, with nothing asked. Answered like "Prego!" ("All right." and the menu), not "I did
# not understand". Only these words: "ok ma non ho capito" is still the help, and "sì"
# alone says nothing of a notice.
_ACKNOWLEDGING = frozenset(
    {
        "ok", "okay", "va", "bene", "si", "ho", "tutto", "chiaro", "daccordo", "perfetto",
        "ricevuto", "ricevuta", "capito", "benissimo", "got", "it", "all", "right", "yes",
        "fine", "alright", "understood", "noted",
    }
)  # fmt: skip
# A thumb or a joined-hands emoji sent alone (Telegram makes them one tap): "ok", "grazie".
_ACKNOWLEDGING_SIGNS = frozenset("👍👌🆗✅✔☑")
_THANKING_SIGNS = frozenset("🙏")
# Skin tones and the emoji presentation selector change no sign's meaning.
_SIGN_MODIFIERS = frozenset("\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


def _signs(text: str | None) -> frozenset[str]:
    """The symbols of a message (emoji), without letters, digits, spaces and punctuation."""
    return frozenset(
        ch
        for ch in text or ""
        if ch not in _SIGN_MODIFIERS and not ch.isalnum() and unicodedata.category(ch) == "So"
    )


# One of these, or a pair of _ACKNOWLEDGED_PAIRS, makes the message an acknowledgement.
_ACKNOWLEDGED = frozenset(
    {"ok", "okay", "daccordo", "perfetto", "ricevuto", "ricevuta", "capito", "benissimo",
     "fine", "alright", "understood", "noted"}
)  # fmt: skip
_ACKNOWLEDGED_PAIRS = frozenset({("va", "bene"), ("got", "it"), ("all", "right")})
# A greeting alone ("ciao", "buongiorno", "pronto?") or asking who writes ("chi siete?"):
# the welcome, which says what the service is, and the menu.
_GREETINGS = frozenset(
    {"ciao", "buongiorno", "buonasera", "pomeriggio", "salve", "hello", "hi", "morning",
     "afternoon", "evening", "buonanotte",
     # "Buon giorno", "buona sera" written apart (only courtesy words in the message).
     "giorno", "sera", "notte"}
)  # fmt: skip
_HELLO = frozenset({"pronto", "ehi", "hey", "ehila"})
_WHO_ARE_YOU = frozenset(
    {
        "chi siete", "chi siete voi", "chi sei", "chi e", "chi parla", "chi scrive",
        "con chi parlo", "who are you", "who is this", "whos this", "who is it",
    }
)  # fmt: skip
# "Ho perso la tessera", "tessera persa", "non trovo più la carta", "lost my card": how to
# replace it (at the office), not the card's number.
_LOST = frozenset(
    {"perso", "persa", "perduto", "perduta", "smarrito", "smarrita", "smarrimento", "rubato",
     "rubata", "furto", "lost", "lose", "stolen", "missing"}
)  # fmt: skip
_CANT_FIND = frozenset({("non", "trovo"), ("cant", "find"), ("not", "find")})
_CARD = frozenset({"tessera", "carta", "card", "tesserino"})
# Another card lost: "carta d'identità", "carta di credito", "tessera sanitaria".
_OTHER_CARD = frozenset(
    {"didentita", "identita", "credito", "bancomat", "sanitaria", "identity", "id", "credit",
     "debit", "bank", "health"}
)  # fmt: skip
# The words that surely name another card ("credito" alone may be the vouchers' credit:
# "ho perso la tessera, ho ancora credito?"): its loss is told the vouchers are unaffected,
# never shown the voucher card's code (the CARTA inside the sentence).
_SURELY_OTHER_CARD = frozenset(
    {"didentita", "identita", "bancomat", "sanitaria", "identity", "id", "debit", "health"}
)
_OTHER_CARD_PAIRS = frozenset({("di", "credito"), ("credit", "card"), ("bank", "card")})
_CARD_KEYWORDS = frozenset({"tessera", "carta", "card"})
# "Carta di credito", "credit card": its "credito" is no more the vouchers' credit than its
# "carta" is the voucher card.
_CREDIT_CARD_PAIRS = frozenset({("di", "credito"), ("credit", "card")})
_CREDIT = frozenset({"credito", "credit"})
# "Mi resta qualcosa?", "non mi è rimasto niente?", "is there anything left?": the balance.
_REMAINS = frozenset(
    {"resta", "restano", "rimane", "rimangono", "rimasto", "rimasti", "avanza", "left"}
)  # fmt: skip
_ANYTHING = frozenset({"qualcosa", "niente", "nulla", "anything", "something", "nothing"})
# "Non ho più soldi?", "non c'ho più credito", "no money left", "have I run out of money?".
_RUN_OUT = frozenset({("run", "out"), ("no", "more"), ("out", "of")})
# The keywords each rule may hold: any other one leaves the sentence to in_sentence.
_BALANCE_KEYWORDS = frozenset({"saldo", "credito", "tessera", "carta", "balance", "card"})
_SHOPS_KEYWORDS = frozenset({"negozi", "shops", "tessera", "carta", "card"})
_APPLY_KEYWORDS = frozenset({"domanda", "apply"})
# Longer than a question: a story, read by its one keyword if any (in_sentence). An
# elderly person introduces herself first ("sono la signora Maria, vorrei sapere come si
# fa per avere i buoni spesa": 14 words).
_LONGEST_QUESTION = 16
# "Posso fare la spesa per conto della mia vicina?", "delega", "il mio vicino può
# controllare il mio saldo?": how someone else may use a person's vouchers (a delegate,
# registered by the office), before any keyword of the sentence.
_DELEGATION = frozenset(
    {"delega", "delegato", "delegata", "delegare", "deleghe", "delegate", "delegation"}
)  # fmt: skip
_ON_BEHALF = {("per", "conto"), ("on", "behalf")}
# "Quanto costano i buoni?", "si paga la domanda?", "do I have to pay for the vouchers?":
# what they cost (nothing), not the balance that "quanto … buoni" would otherwise ask.
_COST = frozenset({"costano", "costa", "costo", "costi", "prezzo", "cost", "costs", "price"})
_TO_PAY = frozenset(
    {("devo", "pagare"), ("si", "paga"), ("si", "pagano"), ("bisogna", "pagare"),
     ("to", "pay"), ("pay", "for")}
)  # fmt: skip
_PRICED = frozenset(
    {"buoni", "buono", "bonus", "domanda", "tessera", "carta", "vouchers", "voucher",
     "application", "card"}
)  # fmt: skip
# Paying for the card may be paying with it ("how do I pay for the shopping with the
# card?"): only paying for the vouchers or the application asks their price.
_PAID_FOR = frozenset({"buoni", "buono", "bonus", "domanda", "vouchers", "voucher", "application"})
# "Ma è gratis?", "la domanda è gratuita?", "is it free?": the price too (nothing).
_FREE = frozenset({"gratis", "gratuito", "gratuita", "gratuiti", "gratuite", "free"})
_PRICE_KEYWORDS = frozenset({"domanda", "tessera", "carta", "card"})
# A neighbour with the vouchers or the shopping; not "negozi vicino a me" (shops near).
_HELPER = frozenset({"vicino", "vicina", "badante", "neighbour", "neighbor", "caregiver"})
_HELPED_WITH = frozenset({"saldo", "spesa", "buoni", "soldi", "balance", "shopping", "vouchers"})
_NEAR_WHAT = frozenset({"negozi", "negozio", "dove", "shops", "shop", "where"})
# A parent or grandparent named as someone else's ("il saldo di mia madre", "aiutare mia
# mamma con i buoni", "quanto resta a mio padre?"): a son or daughter helping from their own
# phone, who needs a delegation, not "no vouchers for this number, write DOMANDA" (an
# application of their own, where typing the parent's codice fiscale only alarms them).
# Not someone of the writer's household ("vivo con mia madre", "io e mia madre"): that
# is their own application.
_FAMILY = frozenset(
    {"madre", "mamma", "padre", "papa", "babbo", "nonna", "nonno", "suocera", "suocero",
     "genitori", "mother", "mum", "mom", "father", "dad", "parents", "grandmother",
     "grandfather", "grandma", "grandpa", "mothers", "mums", "moms", "fathers", "dads"}
)  # fmt: skip
# A child or spouse is usually of the writer's household, named for the application ("mio
# marito ha perso il lavoro", "vivo con mia figlia"): a delegation only when the sentence
# says so. Either they act for the writer (below), or they hold the vouchers asked about:
# named after "di" or "a" with the balance, the shopping or their use ("il saldo di mio
# marito", "quanto resta a mio figlio?", "posso usare i buoni di mia moglie?"), never after
# "per" ("vorrei i buoni per mia figlia", "comprare il latte per mio figlio": for them).
_KIN = frozenset(
    {"figlio", "figlia", "figli", "figlie", "marito", "moglie", "compagno", "compagna",
     "son", "daughter", "sons", "daughters", "husband", "wife", "husbands", "wifes"}
)  # fmt: skip
_POSSESSIVE = frozenset({"mia", "mio", "miei", "mie", "my"})
_TOGETHER = frozenset({"con", "e", "with", "and", "insieme"})
_BALANCE_WORDS = frozenset({"saldo", "credito", "balance", "credit"})
_FAMILY_ASKS = _HELPED_WITH | _MONEY | _VOUCHERS | {"aiutare", "aiuto", "help", "stato", "status"}
_OF_OR_TO = frozenset(
    {"di", "del", "della", "dei", "delle", "a", "al", "alla", "ai", "alle", "of", "to", "on"}
)  # fmt: skip
# What a delegate does with the vouchers: shop, pay, use them, ask the balance.
_DELEGATES_DO = frozenset(
    {"spesa", "spese", "comprare", "compra", "acquistare", "pagare", "paga", "usare", "usa",
     "usarli", "usarla", "utilizzare", "spendere", "spenderli", "saldo", "credito",
     "controllare", "vedere", "shop", "shopping", "buy", "pay", "use", "spend", "balance",
     "check"}
)  # fmt: skip
_KIN_ASKS = _DELEGATES_DO | _REMAINS | {"soldi", "money"}
# "Mia figlia può fare la spesa per me?", "può andare mio figlio a comprare?", "can my
# husband use my vouchers?", "il mio vicino può fare la spesa per me?": someone of the
# family (a child, a spouse, a parent) or a neighbour acting for the writer, who asks
# whether they may: the holder, told how from her side (DELEGATE_FOR_YOU).
_MAY = frozenset(
    {"puo", "possono", "potrebbe", "potrebbero", "vuole", "vogliono", "vorrebbe",
     "vorrebbero", "can", "could", "may"}
)  # fmt: skip
_FOR_ME = frozenset(
    {("per", "me"), ("al", "posto"), ("posto", "mio"), ("conto", "mio"), ("miei", "buoni"),
     ("mio", "saldo"), ("mia", "tessera"), ("mia", "carta"), ("mio", "credito"),
     ("for", "me"), ("my", "vouchers"), ("my", "balance"), ("my", "card")}
)  # fmt: skip
# "Vorrei sapere se mi hanno dato i buoni", "sono arrivati i buoni?": whether the vouchers
# came, i.e. the status (which names the balance once credited), never a new application
# that "vorrei … buoni" would start. Past participles only: "vorrei ricevere i buoni" asks
# for them.
_GIVEN = frozenset(
    {"dato", "dati", "date", "data", "arrivati", "arrivato", "arrivata", "arrivate",
     "accreditati", "accreditato", "caricati", "caricato", "ricevuto", "ricevuti", "messi",
     "given", "arrived", "received", "credited"}
)  # fmt: skip
# The money arrived: "mi sono arrivati i soldi?", "has my money arrived?". Not "ho dato i
# soldi" (a story), nor "ho ricevuto i soldi" (said, not asked).
_ARRIVED = frozenset(
    {"arrivati", "arrivato", "accreditati", "accreditato", "caricati", "caricato", "arrived",
     "arrive", "credited"}
)  # fmt: skip
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
_TAKINGS = frozenset({"incassato", "incassati", "incasso", "incassi", "takings", "earned"})
# A shop asking for its statement in words ("il rendiconto di ottobre").
_STATEMENT_WORDS = frozenset({"resoconto", "rendiconto", "estratto", "statement"})
# "Quanto mi dovete?": the shop speaking to the town, what it is still owed.
_YOU_OWE = frozenset({"dovete"})
_TODAY = frozenset({"oggi", "today"})
_CASHIER = frozenset({"cassiere", "cassiera", "cashier"})
# Adding a person, not "il cassiere mi chiede un nuovo codice" (a customer at the till).
_ADD = frozenset({"aggiungere", "aggiungi", "add"})
_NEW_CASHIER = {("nuovo", "cassiere"), ("nuova", "cassiera"), ("new", "cashier")}
# Taking one away ("togli il cassiere", "rimuovi una cassiera"): CASSIERI, whose list asks
# which one, then a Yes, before anyone is removed.
_REMOVE = frozenset(
    {"togli", "togliere", "rimuovi", "rimuovere", "elimina", "eliminare", "remove", "delete"}
)
_CASHIERS = _CASHIER | {"cassieri", "cashiers"}
# "Non voglio più messaggi", "stop non mandatemi più sms": STOP is a compliance word that
# acts only alone, so a sentence asking it is told how.
# "Mi è arrivato un codice, cosa devo fare?", "I got a code": what a code received is for
# (a payment waiting for it, the request left at its code step, else nothing to do with
# it). Not "non mi è arrivato il codice", nor the codice fiscale.
_CODE_WORDS = frozenset({"codice", "codici", "code", "codes"})
_CODE_CAME = frozenset(
    {"arrivato", "arrivata", "arrivati", "arriva", "arrivano", "ricevuto", "ricevuti",
     "giunto", "mandato", "mandati", "inviato", "inviati", "received", "got", "came",
     "arrived", "sent"}
)  # fmt: skip
_NOT_CAME = frozenset({"non", "mai", "nessun", "not", "didnt", "havent", "hasnt", "never"})
# "Me so scordato er codice", "ho dimenticato il pin", "non ricordo il codice", "I forgot
# the code": no code is to be remembered (each payment's comes by SMS); a card's, the office.
_FORGOT = frozenset(
    {"scordato", "scordata", "scordo", "dimenticato", "dimenticata", "dimentico", "forgot",
     "forgotten", "forget"}
)  # fmt: skip
_CANT_REMEMBER = frozenset({("dont", "remember"), ("cant", "remember"), ("not", "remember")})
_PIN = frozenset({"pin"})
# "Ho cambiato numero", "ho un telefono nuovo", "I changed my number": only the office
# records a new number (identity-and-consent.md), never a message from it.
_CHANGED = frozenset(
    {"cambiato", "cambiata", "cambiare", "cambio", "nuovo", "nuova", "changed", "change", "new"}
)
_PHONE_WORDS = frozenset({"numero", "telefono", "cellulare", "sim", "number", "phone"})
# "Chi ha diritto ai buoni?", "chi può chiedere i buoni?", "who can apply?": who may have
# them, by the town's rules (its policy), not the application itself.
_ENTITLED = frozenset(
    {("ha", "diritto"), ("hanno", "diritto"), ("ho", "diritto"), ("abbiamo", "diritto"),
     ("is", "eligible"), ("am", "i", "eligible"), ("are", "eligible")}
)  # fmt: skip
_MAY_APPLY = frozenset({"puo", "possono", "spettano", "spetta", "diritto", "can", "eligible"})
# "Quanto danno?", "quanti soldi danno di buoni?", "how much do they give?": the town's
# amounts by household size, not the balance the money words would otherwise ask.
_GIVEN_OUT = frozenset({"danno", "date", "da", "dà", "spetta", "spettano", "give", "gives"})
# "A chi devo dare il codice?", "il codice a chi lo do": to the cashier only, when paying;
# the same answer as a code that came (the payment waiting for it, or nothing waits).
_WHO = frozenset({"chi", "who"})
_TELL = frozenset(
    {"dare", "do", "dico", "dire", "dato", "detto", "darlo", "dirlo", "give", "tell"}
)  # fmt: skip
# "È una truffa?", "siete dei truffatori?", "is this a scam?".
_SCAM = frozenset(
    {"truffa", "truffe", "truffatori", "truffatore", "truffaldini", "imbroglio", "imbroglioni",
     "fregatura", "raggiro", "scam", "scams", "scammers", "fraud", "phishing"}
)  # fmt: skip
# "Ho paura", "sono preoccupata", "I'm scared", said alone or nearly: what this service is
# and that it never asks for money, as to "è una truffa?".
_FEAR = frozenset(
    {"paura", "spaventata", "spaventato", "preoccupata", "preoccupato", "afraid", "scared",
     "worried"}
)  # fmt: skip
_FEAR_WORDS = 4
# "Come faccio a pagare?", "come si usano i buoni", "how do I pay?": how a payment is made
# (read after the shops' "dove" and the price's "devo pagare per la domanda?").
_HOW = frozenset({"come", "how"})
_PAYING = frozenset(
    {"pagare", "paga", "pago", "pagamento", "pagamenti", "usare", "uso", "usano", "usa",
     "utilizzare", "utilizzano", "spendere", "spendo", "pay", "use", "spend", "payment"}
)  # fmt: skip
# "Quando scadono i buoni?", "il credito scade?", "entro quando devo spendere i buoni?":
# they do not expire. Not the application's deadline ("quando scade la domanda?") nor a
# payment code's ("quanto dura il codice?").
_EXPIRE = frozenset(
    {"scadono", "scade", "scadenza", "scaduti", "scaduto", "scadere", "scadranno",
     "scadra", "expire", "expires", "expiry", "expiring", "expired"}
)  # fmt: skip
_UNTIL_WHEN = frozenset({("entro", "quando"), ("fino", "a"), ("until", "when")})
_SPENT_MONEY = frozenset(
    {"buoni", "buono", "bonus", "soldi", "sordi", "credito", "saldo", "vouchers", "voucher",
     "money", "credit", "balance"}
)  # fmt: skip
_NOT_THE_VOUCHERS = frozenset(
    {"domanda", "richiesta", "application", "codice", "code", "tessera", "carta", "card",
     "ricorso", "appeal"}
)  # fmt: skip
# "La tessera nn funziona", "la carta non passa", "my card doesn't work": what to do.
# "Quando scade la domanda?", "fino a quando posso fare domanda?", "quando chiudono le
# domande?", "until when can I apply?": when the application window closes (or opens), told
# with what to write next; never an application started, which the keyword DOMANDA inside
# the sentence would be. Not how it is going ("quando arriva la risposta alla domanda?").
_APPLYING = frozenset(
    {"domanda", "domande", "richiesta", "richieste", "bando", "application", "applications",
     "apply"}
)  # fmt: skip
_WINDOW_EDGE = _EXPIRE | frozenset(
    {"chiude", "chiudono", "chiusura", "chiuse", "chiuso", "termine", "termina", "terminano",
     "aprono", "apre", "apertura", "aperte", "aperto", "deadline", "close", "closes",
     "closing", "open", "opens"}
)  # fmt: skip
_TO_APPLY = frozenset({"fare", "presentare", "mandare", "inviare", "apply"})
_MESSAGES = frozenset({"messaggi", "messaggio", "sms", "messages", "texts"})
_NO_MORE = frozenset({"stop", "basta", "piu", "smettere", "smettete", "more", "unsubscribe"})


# A number of years or of people said with the question ("mi chiamo Rosa, ho 82 anni e
# vorrei i buoni", "ho 3 figli, come faccio a chiedere i buoni?"): no code nor amount, left
# out before the question is read. Any other number keeps the message from being one.
_COUNTED = frozenset(
    {"anni", "anno", "figli", "figlie", "figlio", "figlia", "bambini", "nipoti", "persone",
     "years", "children", "kids"}
)  # fmt: skip


def _without_counts(words: list[str]) -> list[str]:
    """The words without "82 anni", "3 figli" (one or two digits before such a noun)."""
    kept: list[str] = []
    for at, word in enumerate(words):
        counted = word.isdigit() and len(word) <= 2 and words[at + 1 : at + 2]
        if counted and counted[0] in _COUNTED:
            continue
        kept.append(word)
    return kept


def question_of(text: str | None) -> tuple[str, str] | None:
    """The request a question in plain words makes (see the sets above), else None."""
    folded = fold(text).split()
    # Every word, courtesy included, without the punctuation after it ("grazie, buona…").
    every = {word.strip(",.'") for word in folded}
    said_words = as_said(plain_words(text))  # "quant'è che c'ho sui bbuoni?"
    size, without_size = _household_size(said_words)
    if size is not None and ("€" in (text or "") or any(map(is_currency, said_words))):
        return None  # "famiglia di 5 euro": an amount, no household size
    if size is not None:
        # "Quanto danno a una famiglia di 4?": only that question takes the number, or
        # the size said alone ("siamo in 4", "famiglia di 3"), which asks the same.
        asked = question_of(" ".join(without_size))
        alone = set(without_size) <= _SIZE_ALONE
        return ("how_much_given", str(size)) if asked == ("how_much_given", "") or alone else None
    children, without_children = _children(said_words)
    if children is not None and question_of(" ".join(without_children)) == ("how_much_given", ""):
        # "Ho 3 figli quanto mi danno": the household is her and them at least (other
        # questions read on: "ho 3 figli, come faccio a chiedere i buoni?" applies).
        return "how_much_given", f"{CHILDREN_ARG}{children}"
    words = _without_counts(said_words)
    if not words:
        # Only courtesy words: thanks, or a greeting (the welcome and the menu).
        signs = _signs(text)
        if every & _THANKS or signs & _THANKING_SIGNS:
            return "thanks", ""  # "🙏" alone too
        if signs and signs <= _ACKNOWLEDGING_SIGNS and not every & _GREETINGS:
            return ACKNOWLEDGED, ""  # "👍", "👌": as "ok"
        if every & _YOURE_WELCOME and not every & _GREETINGS:
            # "Prego!" after an answer: a courtesy, answered like a no to a suggestion ("All
            # right." and the menu), not "I did not understand".
            return DECLINED, ""
        return ("greeting", "") if every & _GREETINGS else None
    if has_digits(words) or len(words) > _LONGEST_QUESTION:
        return None
    said = frozenset(words)
    if said <= _WITH_THANKS and every & _THANKS:
        return "thanks", ""  # "ok grazie", "va bene grazie mille", "grazie, gentilissimi"
    if said <= _ACKNOWLEDGING and (
        said & _ACKNOWLEDGED or set(pairwise(words)) & _ACKNOWLEDGED_PAIRS
    ):
        # "Ok", "va bene", "ricevuto" to a notice; with thanks ("ricevuto, grazie") thanks.
        return ("thanks", "") if every & _THANKS else (ACKNOWLEDGED, "")
    if said <= _APOLOGY_WORDS and said & _SORRY:
        return APOLOGY, ""  # "scusi ho sbagliato": no harm done, the menu
    unhello = words[1:] if words[0] in _HELLO else words
    if not unhello or " ".join(unhello) in _WHO_ARE_YOU:
        return "greeting", ""  # "pronto?", "pronto, chi parla?", "chi siete?"
    if len(words) == 1 and KEYWORDS.get(words[0]) == "stop":
        # "Stop per favore": STOP acts only alone (EXACT_ONLY), so how to write it.
        return "stop_hint", ""
    keywords = said & SENTENCE_KEYWORDS
    pairs = set(pairwise(words))
    if said & _MESSAGES and said & _NO_MORE:
        return "stop_hint", ""
    forgot = said & _FORGOT or {"non", "ricordo"} <= said or pairs & _CANT_REMEMBER
    if forgot and said & (_CODE_WORDS | _PIN) and not said & {"fiscale"}:
        return ("forgot_code", "") if keywords <= _CARD_KEYWORDS else None
    if pairs & _ENTITLED or (said & _WHO and said & _MAY_APPLY and said & (_VOUCHERS | {"apply"})):
        return ("who_can_apply", "") if keywords <= _APPLY_KEYWORDS else None
    how_much_given = said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)
    if how_much_given and said & _GIVEN_OUT and not said & _NEGATION:
        return ("how_much_given", "") if not keywords else None
    told = said & _WHO and said & _TELL
    if said & _CODE_WORDS and (said & _CODE_CAME or told) and not said & (_NOT_CAME | {"fiscale"}):
        return ("code_came", "") if not keywords else None
    if said & _CHANGED and said & _PHONE_WORDS and not said & (_CODE_WORDS | _CASHIER):
        return ("new_number", "") if not keywords else None
    if said & _SCAM or (said & (_MESSAGES | _CALLS) and said & _STRANGE):
        return "scam", ""  # "ho ricevuto un messaggio strano": codes to the cashier only
    if said & _FEAR and len(words) <= _FEAR_WORDS and not keywords:
        return "scam", ""  # "ho paura": what this is, and that it never asks for money
    moved = said & _MOVED or pairs & _MOVED_PAIRS or (said & _LIVES and pairs & _WITH_US)
    wants_vouchers = said & _VOUCHERS and said & _WANT  # "… e vorrei i buoni": applying
    changed = said & _DIED or pairs & _DIED_PAIRS or moved
    if _names_someone(words) and changed and not wants_vouchers:
        return ("household_changed", "") if not keywords else None
    code_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & (
        failing.REFUSED | failing.WRONG
    )
    # "Il codice non mi arriva", "I didn't get the code": a payment code late, the same
    # answer as one refused (the cashier writes PAGA again, a new code comes).
    not_came = said & (_CODE_CAME | {"get"}) and said & _NOT_CAME
    if said & _CODE_WORDS and (code_fails or not_came) and not said & (_CARD | {"fiscale", "pin"}):
        return ("code_trouble", "") if not keywords else None
    refuses = (said & failing.REFUSE and said & failing.NEGATION) or said & failing.REFUSED
    if said & _A_SHOP and refuses and said & (_VOUCHERS | {"li", "them"}) and not keywords:
        return "shop_refuses", ""
    if said & _BILLS or (said & _UTILITIES and said & (_CUT_OFF | _TO_PAY_BILLS)):
        # "Mi hanno tagliato la luce", "non riesco a pagare l'affitto": what the vouchers
        # are for (not bills), how to apply or her status, and the office for other help.
        return ("bills", "") if keywords <= _APPLY_KEYWORDS | _STATUS_KEYWORDS else None
    if _payment_refused(said, pairs) and not said & (_CODE_WORDS | _CARD):
        # "Perché non posso pagare?", "mi hanno rifiutato il buono": why, from her own
        # state (a code's or a card's trouble keeps its own answer, below and above).
        return ("why_refused", "") if keywords <= _BALANCE_KEYWORDS else None
    short = said & _INSUFFICIENT or (said & _ENOUGH and said & (_NEGATION | _NOT_HAVE))
    if short and said & _CASH:
        return ("not_enough", "") if keywords <= _BALANCE_KEYWORDS else None
    jobless = said & _JOBLESS or (said & _WORK and said & (_LOST | _WITHOUT))
    if jobless and not wants_vouchers:  # "… ha perso il lavoro, vorrei i buoni": applying
        return ("job_lost", "") if keywords <= _APPLY_KEYWORDS | _STATUS_KEYWORDS else None
    until_when = pairs & _UNTIL_WHEN and said & _WHEN and said & _SPEND
    if (said & _EXPIRE or until_when) and said & _SPENT_MONEY and not said & _NOT_THE_VOUCHERS:
        return ("expiry", "") if keywords <= _BALANCE_KEYWORDS else None
    edge = said & _WINDOW_EDGE or pairs & _UNTIL_WHEN or (said & _WHEN and said & _TO_APPLY)
    if said & _APPLYING and edge and not said & _PROGRESS:
        return ("window", "") if keywords <= _APPLY_KEYWORDS else None
    if said & (_TAKINGS | _STATEMENT_WORDS):
        month = month_named(words)
        if month is not None:
            return "statement", str(month)  # "il rendiconto di ottobre": that month's
        return "statement", "oggi" if said & _TODAY else ""
    if said & _WHEN and said & _TOWN_PAYS:
        return "reimbursement", ""
    if said & _HOW_MUCH and ((said & _OWES and said & _THE_TOWN) or said & _YOU_OWE):
        return "reimbursement", ""  # "quanto mi deve il comune?": what is still to reimburse
    if (said & _CASHIER and said & _ADD) or pairs & _NEW_CASHIER:
        return "cashier", ""
    if said & _CASHIERS and said & _REMOVE:
        return "cashiers", ""
    if _undoes_a_payment(said):
        return ("undo_payment", "") if not keywords else None
    lost = said & _LOST or pairs & _CANT_FIND
    if lost and said & _CARD and (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return ("other_card", "") if keywords <= _CARD_KEYWORDS | {"credito"} else None
    if lost and said & _CARD and not said & _OTHER_CARD:
        return ("lost_card", "") if keywords <= _CARD_KEYWORDS else None
    other_card = another_card(words)
    if other_card:
        # "Devo portare la carta d'identità?": the rules below read the sentence without
        # the other card's words, never as the voucher card nor its credit.
        words = [word for word in words if word not in other_card]
        said, pairs = frozenset(words), set(pairwise(words))
        keywords = said & SENTENCE_KEYWORDS
    card_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & failing.REFUSED
    if said & _CARD and card_fails and not said & _LOST:
        return ("card_trouble", "") if keywords <= _CARD_KEYWORDS else None
    if _acts_for_writer(words):
        return "delegation", "for_you"
    helper = said & _HELPER and said & _HELPED_WITH and not said & _NEAR_WHAT
    if said & _DELEGATION or pairs & _ON_BEHALF or helper:
        return "delegation", ""
    if _names_a_parent(words) and said & _FAMILY_ASKS:
        # A registered delegate asking the balance gets it (run: "balance").
        how_much = said & _HOW_MUCH and said & _MONEY
        asks_balance = how_much or said & (_BALANCE_WORDS | _REMAINS)
        return "delegation", "balance" if asks_balance else ""
    if _names_kin_as_holder(words) and said & _KIN_ASKS:
        asks_balance = said & (_BALANCE_WORDS | _REMAINS)
        return "delegation", "balance" if asks_balance else ""
    if (said & _COST and said & _PRICED) or (pairs & _TO_PAY and said & _PAID_FOR):
        return ("price", "") if keywords <= _PRICE_KEYWORDS else None
    if said & _FREE:
        return ("price", "") if keywords <= _PRICE_KEYWORDS else None
    if (said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)) and said & _MONEY:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    if said & _STILL and said & _CASH and not said & _NEGATION:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    run_out = said & _CASH and (
        {"non", "piu"} <= said or pairs & _RUN_OUT or {"no", "left"} <= said
    )
    if (said & _REMAINS and said & _ANYTHING) or run_out or _penniless(said, pairs):
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    # "Dove posso comprare il pane?": the bakeries, not the question of what to search.
    goods = [
        part
        for word in folded
        for part in word.split("'")  # "un'alimentari" (plain_words joins it)
        if searched_category(part) is not None
    ]
    # "Dove sta il forno?", "dov'è la farmacia?": where a kind of shop is, a search too.
    if said & _WHERE and (said & _SPEND or goods):
        if not keywords <= _SHOPS_KEYWORDS:
            return None
        return "shops", goods[0] if goods else ""
    if said & _BUY and said & _WHAT_OR_MAY and keywords <= _CARD_KEYWORDS:
        return "what_to_buy", ""
    if said & _HOW and said & _PAYING:
        # With the card ("how do I pay with the card?") CARTA answers, as before.
        return ("how_to_pay", "") if not keywords else None
    if said & _PROGRESS and said & _APPLICATION and keywords <= _STATUS_KEYWORDS:
        return "status", ""
    if said & _GIVEN and said & _VOUCHERS and keywords <= _STATUS_KEYWORDS:
        return "status", ""
    if said & _ARRIVED and said & _CASH and keywords <= {"credito"}:
        # "Mi sono arrivati i soldi?": a citizen's status, a shop's reimbursements (run).
        return "reimbursement", ""
    if said & _VOUCHERS and said & _WANT and keywords <= _APPLY_KEYWORDS:
        return "apply", ""
    if len(words) == 1 and searched_category(words[0]) is not None:
        # "Farmacia", "alimentari?", "pane" alone, with nothing asked: the shop search for
        # it (it only reads), not "not understood".
        return "shops", words[0]
    if every & _GREETINGS and _introduces_herself(words):
        # "Ciao sono Maria", "buongiorno sono la signora Bianchi": a greeting with her name,
        # answered as the greeting alone (the welcome and the menu), not "not understood".
        return "greeting", ""
    return None


# The questions in words a shop's chat asks about its own money (its takings, the town's
# reimbursements): read at a till's question too, where other words are an answer.
# A customer short of money too ("il cliente non ha abbastanza soldi" where who pays is
# asked): the shop's answer everywhere, never a payer's name.
_SHOP_QUESTIONS = frozenset({"statement", "reimbursement", "not_enough"})


def shop_question(text: str | None) -> tuple[str, str] | None:
    """The statement or the reimbursements a question in words asks for ("quanto ho
    incassato oggi?", "quando paga il comune?"), or a customer short of money, else None
    (see question_of)."""
    asked = question_of(text)
    return asked if asked is not None and asked[0] in _SHOP_QUESTIONS else None


# "Sono Maria", "mi chiamo Giuseppe", "I am Anna": the writer's name after a greeting.
_INTRODUCTIONS = (("sono",), ("mi", "chiamo"), ("i", "am"), ("im",), ("my", "name", "is"))
_LONGEST_NAME = 3  # "la signora Bianchi", "Maria Rossi"
# Words after "sono" that say how she is or what she did, not who: "buonasera sono tornato"
# where an amount is asked is still no answer, "ciao sono senza soldi" no greeting.
_NAME_IS_NOT = frozenset(
    {
        "tornato", "tornata", "tornati", "qui", "qua", "ancora", "sempre", "di", "nuovo",
        "senza", "solo", "sola", "disoccupato", "disoccupata", "anziano", "anziana",
        "malato", "malata", "rimasto", "rimasta", "stato", "stata", "in", "non", "io",
        "back", "here", "again", "not", "alone", "a", "an", "out", "without",
    }
)  # fmt: skip


# "Perché non posso pagare", "non mi fa pagare", "why can't I pay", "mi hanno rifiutato il
# buono", "pagamento rifiutato", "il negozio dice che non ho soldi": her vouchers did not
# pay. Not an application refused ("domanda rifiutata": STATO's), nor bills (above).
_PAY_WORDS = frozenset(
    {"pagare", "pagato", "pagamento", "pagamenti", "pay", "paid", "payment"}
)  # fmt: skip
_CANT_PAY = frozenset({("non", "posso"), ("non", "riesco")})
# "Non mi fa pagare", "non mi fanno pagare" (without "non", a price: "mi fa pagare troppo").
_LETS_PAY = frozenset({("fa", "pagare"), ("fanno", "pagare")})
_WHY = frozenset({"perche", "perch", "why"})
_REFUSED_PAYMENT = failing.REFUSED | {
    "rifiutati", "rifiutate", "respinto", "respinta", "declined",
}  # fmt: skip
_SAYS = frozenset({"dice", "dicono", "detto", "says", "said", "tells", "told"})


def _payment_refused(said: frozenset[str], pairs: set[tuple[str, str]]) -> bool:
    """Whether a message says (or asks why) her vouchers did not pay (_PAY_WORDS)."""
    cant = (
        pairs & _CANT_PAY
        or said & {"cant", "cannot", "couldnt"}
        or (pairs & _LETS_PAY and said & _NEGATION)
    )
    if said & _PAY_WORDS and (cant or (said & _WHY and said & _NEGATION)):
        return True
    vouchers = said & {"buono", "buoni", "voucher", "vouchers"}
    if said & _REFUSED_PAYMENT and (said & (_PAY_WORDS | {"spesa"}) or vouchers):
        return True
    if vouchers and said & failing.CARD_WORKS and said & failing.NEGATION:
        return True  # "il buono non passa", "i buoni non funzionano"
    return bool(said & _A_SHOP and said & _SAYS and said & _CASH and said & _NEGATION)


def _penniless(said: frozenset[str], pairs: set[tuple[str, str]]) -> bool:
    """ "Sono senza soldi", "siamo senza una lira", "I have no money": the balance, which
    says what to do when there is none (an application, else what is left)."""
    return bool(said & _WITHOUT and said & (_CASH | {"lira", "euro"})) or bool(pairs & _NO_MONEY)


_WITHOUT = frozenset({"senza", "without"})
# "Non riesco a pagare le bollette", "ho l'affitto da pagare", "mi hanno tagliato la luce",
# "I can't pay the rent": bills and rent, which the vouchers never pay.
_BILLS = frozenset(
    {"bolletta", "bollette", "bollete", "affitto", "laffitto", "affitti", "bill", "bills",
     "rent"}
)  # fmt: skip
_UTILITIES = frozenset(
    {"luce", "gas", "acqua", "lacqua", "corrente", "elettricita", "riscaldamento",
     "electricity", "power", "water", "heating"}
)  # fmt: skip
_CUT_OFF = frozenset(
    {"tagliato", "tagliata", "tagliati", "staccato", "staccata", "staccati", "sospeso",
     "sospesa", "cut", "disconnected"}
)  # fmt: skip
_TO_PAY_BILLS = frozenset({"pagare", "pago", "pay"})
# "Il cliente non ha abbastanza soldi", "credito insufficiente", "not enough money".
_ENOUGH = frozenset({"abbastanza", "sufficiente", "sufficienti", "bastano", "basta", "enough"})
_INSUFFICIENT = frozenset({"insufficiente", "insufficienti", "insufficient"})
_NOT_HAVE = failing.NEGATION | {"hasnt", "havent", "lacks"}
# "Sono rimasta senza lavoro", "ho perso il lavoro", "sono disoccupata", "I lost my job".
_WORK = frozenset({"lavoro", "impiego", "job", "work"})
_JOBLESS = frozenset(
    {"disoccupato", "disoccupata", "disoccupati", "licenziato", "licenziata", "licenziati",
     "unemployed", "jobless", "fired"}
)  # fmt: skip
# "Ho ricevuto un messaggio strano", "una chiamata sospetta", "a weird text": the scam's
# answer (_MESSAGES, and a call or one message).
_CALLS = frozenset({"chiamata", "telefonata", "chiamato", "call", "called", "message", "text"})
_STRANGE = frozenset(
    {"strano", "strana", "strani", "strane", "sospetto", "sospetta", "sospetti", "weird",
     "strange", "suspicious", "odd"}
)  # fmt: skip
_NO_MONEY = frozenset({("no", "money"), ("nessun", "soldo"), ("zero", "soldi")})
# Someone of the household who died: "mio marito è morto", "è venuta a mancare mia
# madre", "my husband passed away". Not the phone or the card ("il telefono è morto").
_DIED = frozenset(
    {"morto", "morta", "morti", "deceduto", "deceduta", "scomparso", "scomparsa", "died",
     "dead", "deceased"}
)  # fmt: skip
_DIED_PAIRS = frozenset(
    {("venuto", "a"), ("venuta", "a"), ("passed", "away"), ("ci", "ha"), ("ha", "lasciato")}
)
# Said of a shop: "il negozio non accetta i buoni", "la cassiera non li prende".
_A_SHOP = frozenset(
    {"negozio", "negozi", "negoziante", "supermercato", "alimentari", "cassiere", "cassiera",
     "forno", "macelleria", "shop", "store", "supermarket", "cashier"}
)  # fmt: skip


# Someone who came to live with the writer or left, or was born: "mia figlia vive con me
# adesso", "mio figlio è andato via di casa", "è nato mio nipote", "my son moved out".
_MOVED = frozenset(
    {"nato", "nata", "nati", "trasferito", "trasferita", "separato", "separata", "born",
     "moved"}
)  # fmt: skip
_MOVED_PAIRS = frozenset(
    {("andato", "via"), ("andata", "via"), ("venuto", "a"), ("venuta", "a"), ("e", "tornato"),
     ("e", "tornata"), ("moved", "in"), ("moved", "out")}
)  # fmt: skip
_LIVES = frozenset({"vive", "abita", "lives"})
_WITH_US = frozenset({("con", "me"), ("con", "noi"), ("with", "me"), ("with", "us")})
_RELATIVES = _KIN | _FAMILY | {"nipote", "nipoti", "fratello", "sorella", "grandson",
                               "granddaughter", "brother", "sister", "baby"}  # fmt: skip


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


def _undoes_a_payment(said: frozenset[str]) -> bool:
    """Whether the words ask how to cancel or give back a payment (see _REFUND)."""
    if said & _THE_TOWN:
        return False
    give_back = said & _GIVE_BACK or {"give", "back"} <= said
    cancels = said & _CANCEL and said & _A_PAYMENT
    return bool(said & _REFUND or give_back or cancels or (said & _MISTAKEN and said & _THE_AMOUNT))


# "Scusi ho sbagliato", "scusate", "sorry, my mistake" with nothing asked: no harm done,
# answered "No problem." and the menu (commands.run), not "I did not understand".
APOLOGY = "apology"
_SORRY = frozenset(
    {"scusi", "scusa", "scusate", "scusami", "scusatemi", "perdono", "perdonate",
     "sbagliato", "sbagliata", "errore", "ops", "oops", "sorry", "pardon", "mistake"}
)  # fmt: skip
_APOLOGY_WORDS = _SORRY | frozenset(
    {"mi", "ho", "abbiamo", "per", "l", "lerrore", "un", "ma", "numero", "messaggio",
     "scritto", "chiedo", "my", "bad", "wrong", "number", "message", "im", "i", "made", "a",
     "so", "very", "tanto", "molto"}
)  # fmt: skip


def _names_someone(words: list[str]) -> bool:
    """Whether the words name a person of the family ("mio marito", "mia madre")."""
    return any(word in _RELATIVES for word in words)


# "Famiglia di 4", "per 3 persone", "siamo in 5", "a family of four": the household size a
# question about the amounts names, taken out of its words. Up to 20 people the rules'
# amount is told; more, the office decides; 0, how many live in the house is asked. A
# size has at most two digits ("famiglia di 3331000002" is a phone), and no currency after
# it ("famiglia di 5 euro" is an amount): those are no size, and get the help.
_HOUSEHOLD_WORDS = frozenset({"famiglia", "nucleo", "family", "household"})
# The words around a size said alone, nothing else asked: "siamo in 4", "famiglia di 3",
# "una famiglia di 5 persone", "4 persone", "family of 3".
_SIZE_ALONE = frozenset(
    {"siamo", "in", "famiglia", "nucleo", "familiare", "di", "da", "per", "persone",
     "componenti", "una", "un", "noi", "a", "family", "household", "of", "people", "persons",
     "we", "are"}
)  # fmt: skip
_PEOPLE_WORDS = frozenset({"persone", "componenti", "people", "persons"})
LARGEST_HOUSEHOLD = 20
_SIZE_DIGITS = 2
_ZERO = frozenset({"0", "00", "zero"})  # not "nessuno", "niente": no size said


def _household_size(words: list[str]) -> tuple[int | None, list[str]]:
    for at, word in enumerate(words):
        number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if number is None or (word.isdigit() and len(word) > _SIZE_DIGITS):
            continue
        if number == 0 and word not in _ZERO:
            continue
        before, after = words[max(0, at - 2) : at], words[at + 1 : at + 2]
        named = (
            (len(before) == 2 and before[0] in _HOUSEHOLD_WORDS and before[1] in {"di", "da", "of"})
            or (before[-1:] == ["in"] and before[:1] in (["siamo"], ["per"], ["we"]))
            or (after and after[0] in _PEOPLE_WORDS)
        )
        if named:
            return number, words[:at] + words[at + 1 :]
    return None, words


# "3 figli", "due bambini", "three children": children named by their number, which with
# the writer make a household of one more at least (the amounts' question, _children).
_CHILDREN = frozenset(
    {"figli", "figlie", "figlio", "figlia", "bambini", "bambine", "bimbi", "ragazzi",
     "children", "kids", "child", "sons", "daughters"}
)  # fmt: skip
CHILDREN_ARG = "children:"


def _children(words: list[str]) -> tuple[int | None, list[str]]:
    for at, word in enumerate(words):
        number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if number is None or not 1 <= number < LARGEST_HOUSEHOLD:
            continue
        if words[at + 1 : at + 2] and words[at + 1] in _CHILDREN:
            return number, words[:at] + words[at + 1 :]
    return None, words


def _introduces_herself(words: list[str]) -> bool:
    """Whether the words, the greeting apart, are only the writer's name: an introduction
    and at most three words after it, none a keyword or a number."""
    for intro in _INTRODUCTIONS:
        if tuple(words[: len(intro)]) == intro:
            name = words[len(intro) :]
            return (
                0 < len(name) <= _LONGEST_NAME
                and not has_digits(name)
                and not set(name) & (SENTENCE_KEYWORDS | _NAME_IS_NOT)
            )
    return False


def _named_apart(words: list[str], at: int) -> bool:
    """Whether the word at `at` names someone of the writer's ("mia madre", "mio figlio")
    as a person apart, not as one of a household they apply with ("vivo con mia madre",
    "io e mio marito")."""
    after_possessive = at > 0 and words[at - 1] in _POSSESSIVE
    return after_possessive and (at < 2 or words[at - 2] not in _TOGETHER)


def _names_a_parent(words: list[str]) -> bool:
    """Whether a sentence names the writer's parent or grandparent as another person ("di
    mia madre"), not as one of a household they apply with ("vivo con mia madre")."""
    return any(word in _FAMILY and _named_apart(words, at) for at, word in enumerate(words))


def _names_kin_as_holder(words: list[str]) -> bool:
    """Whether a sentence names the writer's child or spouse as the one whose vouchers are
    asked about: after "di" or "a" ("il saldo di mio marito", "quanto resta a mia figlia")."""
    return any(
        word in _KIN and _named_apart(words, at) and at >= 2 and words[at - 2] in _OF_OR_TO
        for at, word in enumerate(words)
    )


def _acts_for_writer(words: list[str]) -> bool:
    """Whether a sentence asks if someone of the writer's family (or their neighbour, their
    carer) may shop, pay or ask the balance for them: a child or spouse with "può" ("può
    andare mio figlio a comprare?"), anyone else with "per me" or the writer's own vouchers
    ("mia madre può fare la spesa per me?", "il mio vicino può fare la spesa per me?"). Not
    where to shop ("dove può fare la spesa mio marito?"), nor someone named as whose the
    vouchers are ("posso fare la spesa per mia madre?")."""
    said, pairs = frozenset(words), set(pairwise(words))
    if not said & _DELEGATES_DO or not said & _MAY or said & _WHERE:
        return False
    for at, word in enumerate(words):
        if word not in _KIN | _FAMILY | _HELPER or not _named_apart(words, at):
            continue
        if at >= 2 and words[at - 2] in _OF_OR_TO | {"per", "for"}:
            continue  # "per mia madre", "di mio marito": theirs, not the writer's
        if word in _KIN or pairs & _FOR_ME:
            return True
    return False


def another_card(words: list[str]) -> frozenset[str]:
    """The words of a sentence that name a card other than the voucher card, when it names
    one ("la carta d'identità", "tessera sanitaria", "carta di credito"): its card words,
    and "credito" of a credit card. Read as no keyword (question_of, in_sentence): CARTA
    there would show the voucher card's code, CREDITO the balance. Empty otherwise ("ho
    ancora credito sulla carta?" asks the balance)."""
    said, pairs = frozenset(words), set(pairwise(words))
    if not said & _CARD or not (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return frozenset()
    credit = said & _CREDIT if pairs & _CREDIT_CARD_PAIRS else frozenset()
    return (said & _CARD) | credit


def unasked(text: str | None) -> tuple[str, str] | None:
    """The request a message makes in words when nothing is being asked: a payment refused
    in words (refusal_of), a question of question_of, else the one keyword of a sentence
    (in_sentence). The general path (of_answer) and the one-trip plain turn
    (plain_turn.PlainTurn.candidate) both read it."""
    refusal = refusal_of(text)
    if refusal is not None:
        return REFUSE_PAYMENT, refusal
    shop = shop_or_shops(text)
    if shop is not None:
        # "negozio" alone: which of the two (SHOP_OR_SHOPS); "ho un negozio": REGISTRA;
        # "ho un codice cassiere": INVITO.
        return _SHOP_SAID[shop], ""
    return question_of(text) or in_sentence(text)


SHOP_OR_SHOPS = "shop_or_shops"
_SHOP_SAID: dict[ShopSaid, str] = {
    "ask": SHOP_OR_SHOPS,
    "register": "register",
    "shopkeeper": "shopkeeper",
    "join": "join",
}


# A full stop after a word, between two sentences ("saldo. grazie", "Buonasera.Mi dite"),
# never inside a number ("12.50").
_BETWEEN_SENTENCES = re.compile(r"(?<=[^\W\d])\.+(?=\s|[^\W\d]|$)")


def in_sentence(text: str | None) -> tuple[str, str] | None:
    """The one keyword a longer message contains, e.g. "Buongiorno, vorrei il saldo", also
    among sentences ("Buongiorno. Sono Giuseppe. Vorrei il saldo. Grazie")."""
    words = _BETWEEN_SENTENCES.sub(" ", fold(text).replace(",", " ")).split()
    if len(words) < 2:
        return None
    other_card = another_card(plain_words(text))
    found = {
        KEYWORDS[word] for word in words if word in SENTENCE_KEYWORDS and word not in other_card
    }
    if len(found) != 1:
        return None
    name = found.pop()
    if name == "shops":
        at = next(i for i, word in enumerate(words) if KEYWORDS.get(word) == "shops")
        rest = [word for word in words[at + 1 :] if word not in _SHOP_FILLER]
        return name, " ".join(rest)
    return name, ""
