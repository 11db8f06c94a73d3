"""Questions in plain words: the request a sentence makes when nothing is being asked
("quanto mi resta?", "la tessera non passa", "quanto danno a una famiglia di 4?"), read
by its words from small sets, never guessed (question_of), the statement or the
reimbursements a shop asks at a till's question (shop_question), and the one keyword a
longer message holds (in_sentence). core/dialogue/commands runs what they name.

A package of small modules, one for each thing a question is about, each with the word
sets its rules read:

- rules: question_of (the counts and the courtesy said alone, then its groups of rules in
  their order); shop_question; unasked;
- asked: a sentence as the rules read it, and the keywords each rule may hold;
- rules_courtesy, rules_needs, rules_shop, rules_cards, rules_family_and_money,
  rules_spending_and_status: the groups of rules, each in its order;
- sentence: the keywords read inside a sentence, and in_sentence;
- courtesy: thanks, "ok", greetings, an apology, a name said with a greeting;
- household_size: the household size or the children the amounts' question names;
- money: the balance, money short, a payment refused, the bills and a lost job;
- family: a delegate or someone of the family, and the household's changes;
- application: applying, its progress, who may apply, the window, the price;
- spending: where to shop, what to buy, how to pay, until when;
- shopkeeper: the statement, the reimbursement, a cashier, a payment undone;
- codes_and_calls: a code that came or not, a new number, a scam, STOP in a sentence;
- cards: the voucher card lost (with the phone too), and another card named.

Callers import from here (`from core.dialogue.questions import unasked`). A name with a
leading underscore (a word set, a helper) is the package's own: its modules share some of
them, callers never read them."""

from __future__ import annotations

from core.dialogue.questions.cards import AND_CARD, WALLET, another_card
from core.dialogue.questions.courtesy import APOLOGY
from core.dialogue.questions.household_size import CHILDREN_ARG, LARGEST_HOUSEHOLD
from core.dialogue.questions.rules import SHOP_OR_SHOPS, question_of, shop_question, unasked
from core.dialogue.questions.sentence import SENTENCE_KEYWORDS, in_sentence
from core.dialogue.questions.shopkeeper import (
    CASHIER_CANT_JOIN,
    CHARGE_IN_WORDS,
    CLOSE_TILL,
    LAST_PAYMENT,
)

__all__ = [
    "AND_CARD",
    "APOLOGY",
    "CASHIER_CANT_JOIN",
    "CHARGE_IN_WORDS",
    "CHILDREN_ARG",
    "CLOSE_TILL",
    "LARGEST_HOUSEHOLD",
    "LAST_PAYMENT",
    "SENTENCE_KEYWORDS",
    "SHOP_OR_SHOPS",
    "WALLET",
    "another_card",
    "in_sentence",
    "question_of",
    "shop_question",
    "unasked",
]
