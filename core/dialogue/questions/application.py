"""The application in a question's words: wanting the vouchers, how it is going, whether
they came, who may have them and how much the town gives, when the window closes, and
their price (nothing)."""

from __future__ import annotations

from core.dialogue.questions.spending import _EXPIRE

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
# application?": the status, not a new application (question_of, in rules, reads it before
# the application's rule).
_PROGRESS = frozenset(
    {
        "punto", "andata", "stata", "accettata", "accolta", "approvata", "ammessa",
        "respinta", "esito", "novita", "notizie", "risposta", "stato", "valutata",
        "happened", "accepted", "approved", "news", "progress", "result", "status",
    }
)  # fmt: skip
_APPLICATION = frozenset({"domanda", "richiesta", "application"})
_STATUS_KEYWORDS = frozenset({"domanda", "stato", "status"})
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
# "Quanto posso avere?", "a quanto ho diritto?", "how much money can I get?", "how much am I
# entitled to?": the same question as the town's amounts, asked of oneself; not the balance
# ("how much do I have?"), nor what is left of it (_STILL, _REMAINS), nor what was had.
_TO_GET = frozenset(
    {"avere", "ricevere", "prendere", "ottenere", "diritto", "spetterebbe", "get", "receive",
     "entitled", "eligible"}
)  # fmt: skip
_HAD = frozenset({"did", "got", "ancora", "still", "left", "resta", "rimane", "rimasto"})
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
