"""Spending the vouchers: where to shop and what to buy, how a payment is made, and until
when they last (they do not expire)."""

from __future__ import annotations

# "Cosa posso comprare con i buoni?", "posso comprare il vino?", "what can I buy?".
_BUY = frozenset({"comprare", "comprarci", "compro", "acquistare", "acquisto", "buy"})
_WHAT_OR_MAY = frozenset({"cosa", "che", "quali", "quale", "posso", "puo", "what", "can"})
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
# "C'è un negozio vicino a me?", "dove posso fare la spesa vicino a casa", "shops near me":
# the shops near her, as "NEGOZI vicino" (shop_finder.asks_near). Not "close" ("when do
# the shops close?").
_NEAR = frozenset({"vicino", "vicini", "vicina", "vicine", "vicinanze", "near", "nearby"})
_SHOPS_OR_SHOPPING = frozenset(
    {"negozio", "negozi", "negozietto", "supermercato", "supermercati", "spesa", "shop",
     "shops", "store", "stores", "supermarket", "shopping"}
)  # fmt: skip
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
