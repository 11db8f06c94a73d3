"""What people type, read: a package of small modules, one for each thing the words are
about, each with the tables of phrases it reads. Every reading is pure and errs on the
side of asking again: a message read two ways, or with a word no table knows, is no
answer.

- text: the folding every reading goes through (clean, fold, plain_words, as_said);
- answers: yes, no, nobody, "I don't know", "I want to add";
- codice_fiscale: a codice fiscale written in a message;
- codes: at a code step, "the code did not come", "the code does not work";
- numbers: whole numbers in words;
- household: how many live at home, and the words that name them;
- work_and_pension: the household's work and pension said in a sentence;
- sums: the application's sums (savings, support, rent) in a sentence;
- rent_and_support: "ho la naspi", "non pago l'affitto", without the sum;
- money: an amount in words or with its currency;
- till: the cashier's line (who pays and the amount), PAGA with a slip;
- lost: "non so come fare" (someone lost), "non ho ricevuto niente";
- shop_or_shops: "negozio" alone (which of the two?), "ho un negozio" (a shopkeeper's).

Callers import the readings from here (`from core.dialogue.words import yes_or_no`). A
name with a leading underscore (a table, a helper) is the package's own: its modules share
some of them, callers never read them."""

from __future__ import annotations

from core.dialogue.words.answers import (
    NO,
    YES,
    gives_up,
    says_dont_know,
    says_nobody,
    wants_to_add,
    yes_or_no,
    yes_or_no_leading,
)
from core.dialogue.words.codes import asks_for_a_new_code, says_the_code_fails
from core.dialogue.words.codice_fiscale import (
    NO_CODICE_FISCALE,
    WHAT_CODICE_FISCALE,
    WHERE_CODICE_FISCALE,
    codice_fiscale_asked,
    codice_fiscale_written,
    written_codice_fiscale,
)
from core.dialogue.words.household import count_in, household_count, people_named
from core.dialogue.words.lost import says_lost, says_nothing_came
from core.dialogue.words.money import (
    amount_alone,
    euro_and_cents,
    is_currency,
    says_amount_in_words,
    spoken_amount,
)
from core.dialogue.words.numbers import NUMBER_WORDS, spelled_number
from core.dialogue.words.rent_and_support import (
    RENT_WORDS,
    SAVINGS_WORDS,
    SUPPORT_WORDS,
    names_a_pension_not_support,
    names_other_than_rent,
    names_rent_or_support,
    says_there_is,
    says_there_is_none,
)
from core.dialogue.words.shop_or_shops import ShopSaid, shop_or_shops
from core.dialogue.words.sums import NOTHING, amount_in_sentence, amount_text, per_month, per_year
from core.dialogue.words.text import (
    COURTESY,
    MAX_INPUT,
    as_said,
    clean,
    fold,
    forget_messages,
    has_digits,
    plain_words,
    signs_alone,
    typo_distance,
    unshortened,
    was_cut,
)
from core.dialogue.words.till import (
    MONTH_NAMES,
    after_paga_slip,
    customer_to_charge,
    menu_digit_and_phone,
    month_named,
    payer_and_amount,
    split_amount,
)
from core.dialogue.words.work_and_pension import (
    about_all_of_us,
    about_oneself,
    names_subject,
    says_someone_has,
    work_and_pension,
)

__all__ = [
    "COURTESY",
    "MAX_INPUT",
    "MONTH_NAMES",
    "NO",
    "NOTHING",
    "NO_CODICE_FISCALE",
    "NUMBER_WORDS",
    "RENT_WORDS",
    "SAVINGS_WORDS",
    "SUPPORT_WORDS",
    "WHAT_CODICE_FISCALE",
    "WHERE_CODICE_FISCALE",
    "YES",
    "ShopSaid",
    "about_all_of_us",
    "about_oneself",
    "after_paga_slip",
    "amount_alone",
    "amount_in_sentence",
    "amount_text",
    "as_said",
    "asks_for_a_new_code",
    "clean",
    "codice_fiscale_asked",
    "codice_fiscale_written",
    "count_in",
    "customer_to_charge",
    "euro_and_cents",
    "fold",
    "forget_messages",
    "gives_up",
    "has_digits",
    "household_count",
    "is_currency",
    "menu_digit_and_phone",
    "month_named",
    "names_a_pension_not_support",
    "names_other_than_rent",
    "names_rent_or_support",
    "names_subject",
    "payer_and_amount",
    "people_named",
    "per_month",
    "per_year",
    "plain_words",
    "says_amount_in_words",
    "says_dont_know",
    "says_lost",
    "says_nobody",
    "says_nothing_came",
    "says_someone_has",
    "says_the_code_fails",
    "says_there_is",
    "says_there_is_none",
    "shop_or_shops",
    "signs_alone",
    "spelled_number",
    "split_amount",
    "spoken_amount",
    "typo_distance",
    "unshortened",
    "wants_to_add",
    "was_cut",
    "work_and_pension",
    "written_codice_fiscale",
    "yes_or_no",
    "yes_or_no_leading",
]
