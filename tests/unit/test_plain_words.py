"""The one reading of what people write (core/dialogue/words.py, commands.parse): yes and
no in other words, questions in plain words, keywords with an emoji or punctuation around
them. Pure: the general path and the one-trip plain turn both call these."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.dialogue import commands, questions
from core.dialogue.commands import reading
from core.dialogue.context import ACKNOWLEDGED, DECLINED, Turn, offered_of
from core.dialogue.flows import shop_finder
from core.dialogue.inbound import Channel, Inbound
from core.dialogue.languages import written_in
from core.dialogue.plain_turn import PlainTurn
from core.dialogue.words import (
    RENT_WORDS,
    SUPPORT_WORDS,
    amount_in_sentence,
    as_said,
    household_count,
    per_month,
    per_year,
    plain_words,
    says_there_is_none,
    yes_or_no,
    yes_or_no_leading,
)
from core.domain.messages import Option, t

YES = ("si", "sì", "si'", "Sì", "Si.", "SI!", "si grazie", "Sì, grazie mille!", "certo", "ok",
       "OK 👍", "va bene", "Va bene, grazie", "d'accordo", "yes", "yes please", "yep", "yeah",
       "sure", "si si", "accetto", "I agree")  # fmt: skip
NO = ("no", "No.", "NO!", "no grazie", "No, grazie", "nope", "no thanks", "no no",
      "non accetto", "I don't agree")  # fmt: skip
NEITHER = ("si no", "boh", "forse", "non so", "si ma", "", "   ", "grazie", "👍", "123456",
           "12,50", "si 123456", "ok 12", "nessuno", "maybe")  # fmt: skip


@pytest.mark.parametrize("text", YES)
def test_yes_in_other_words(text: str) -> None:
    assert yes_or_no(text) is True


@pytest.mark.parametrize("text", NO)
def test_no_in_other_words(text: str) -> None:
    assert yes_or_no(text) is False


@pytest.mark.parametrize("text", NEITHER)
def test_anything_ambiguous_is_neither(text: str) -> None:
    assert yes_or_no(text) is None


def test_plain_words_leave_out_courtesy_punctuation_and_emoji_but_keep_digits() -> None:
    assert plain_words("Sì, grazie!") == ["si"]
    assert plain_words("si'") == ["si"]
    assert plain_words("Buongiorno, quanto mi resta? Grazie") == ["quanto", "mi", "resta"]
    assert plain_words("👍 SALDO per favore 🙏") == ["saldo"]
    assert plain_words("What's my balance?") == ["whats", "my", "balance"]
    assert plain_words("grazie per favore") == []
    # Courtesy only at the ends: "grazie" in the middle is a word of the message.
    assert plain_words("si grazie no") == ["si", "grazie", "no"]
    assert plain_words("123456") == ["123456"]
    assert plain_words("12,50 €") == ["12,50"]


BALANCE = ("quanto mi resta?", "Quanto mi resta", "quanti soldi ho", "Quanti soldi ho?",
           "saldo?", "Saldo per favore", "SALDO grazie", "Buongiorno, quanto mi resta?",
           "quanto mi rimane?", "il mio saldo", "how much do I have left",
           "How much do I have left?", "What's my balance?", "balance please",
           "👍 SALDO", "SALDO 👍", "saldo.", "¿saldo?", "*saldo*", "Saldo!!!")  # fmt: skip


@pytest.mark.parametrize("text", BALANCE)
def test_balance_in_plain_words(text: str) -> None:
    assert commands.parse(text) == ("balance", "")


def test_a_keyword_with_an_emoji_or_punctuation_around_it_is_the_keyword() -> None:
    assert commands.parse("*MENU*") == ("menu", "")
    assert commands.parse("👍 AIUTO") == ("help", "")
    assert commands.parse("menu.") == ("menu", "")
    assert commands.parse("/menu@buonispesa_bot") == ("menu", "")
    assert commands.parse("Stop.") == ("stop", "")
    assert commands.parse("👍 START") == ("start", "")
    assert commands.parse("START 🙂") == ("start", "")
    assert commands.parse("NEGOZI per favore") == ("shops", "")
    # An argument stays as written.
    assert commands.parse("👉 PAGA RSSMRA85T10A562S 12,50") == ("charge", "RSSMRA85T10A562S 12,50")
    assert commands.parse("NEGOZI Sant'Angelo") == ("shops", "Sant'Angelo")
    assert commands.parse("START 12345") == ("start", "12345")


def test_what_is_not_a_command_stays_an_answer() -> None:
    # A 6-digit code, an amount, a phone number: never a phrase nor a keyword.
    for text in ("123456", "12,50", "12,50 €", "-5", "+393331234567", "0", "quanto 123456"):
        assert commands.parse(text) is None, text
    # STOP acts only as itself (with punctuation or an emoji around it), never with words.
    assert commands.parse("STOP grazie") is None
    assert commands.parse("per favore stop") is None
    # Other words around a keyword that takes no argument: an answer, e.g. a shop's name.
    assert commands.parse("Menu del giorno") is None
    assert commands.parse("quanto costa il pane") is None
    assert commands.parse("grazie") is None


def test_every_phrase_is_a_command_and_none_holds_a_digit() -> None:
    for phrase, name in commands.PHRASES.items():
        assert name in commands.COMMANDS
        assert plain_words(phrase) == phrase.split(), phrase
        assert commands.parse(phrase) == (name, ""), phrase
        # The phrase with a code or an amount is not the phrase.
        assert commands.parse(f"{phrase} 123456") is None, phrase


def test_the_plain_turn_takes_the_same_forms_as_the_general_path() -> None:
    """One reading for both: what parse reads as SALDO or MENU is a plain candidate."""
    for text in (*BALANCE, "*MENU*", "👍 AIUTO", "menu grazie"):
        inbound = Inbound(Channel.SMS, "+393331234567", text=text)
        assert commands.of_message(inbound) in (("balance", ""), ("menu", ""), ("help", ""))
        assert PlainTurn.candidate(inbound), text
    # A code or an amount is no command (digits alone stay candidates: an option's number,
    # which the conversation's offered options decide).
    for text in ("123456", "12,50", "STOP grazie"):
        assert commands.of_message(Inbound(Channel.SMS, "+393331234567", text=text)) is None
    for text in ("12,50", "STOP grazie", "si grazie"):
        assert not PlainTurn.candidate(Inbound(Channel.SMS, "+393331234567", text=text)), text


def read(text: str, options: list[Option]) -> str | None:
    return Turn.read(Inbound(Channel.SMS, "+393331234567", text=text), offered_of(options)).choice


def test_a_yes_or_a_no_in_other_words_picks_the_option_of_a_yes_or_no_question() -> None:
    refund = [Option("yes", t("Yes, refund")), Option("no", t("No"))]
    for text in YES:
        if text.strip():
            assert read(text, refund) == "yes", text
    for text in NO:
        assert read(text, refund) == "no", text
    for text in ("si no", "boh"):
        assert read(text, refund) is None, text
    assert read("1", refund) == "yes" and read("2", refund) == "no"
    # "Did you mean DOMANDA?" offers one option labelled Yes.
    suggested = [Option("apply", t("Yes"))]
    assert read("si grazie", suggested) == "apply"
    # A no never picks the suggestion: it declines it (the menu follows, nothing starts).
    assert read("no grazie", suggested) == DECLINED
    # Options that are not a yes or a no are not picked by one.
    menu = [Option("balance", t("Balance")), Option("shops", t("Shops"))]
    assert read("ok", menu) is None


def test_a_yes_that_says_who_counts_only_where_the_household_is_asked() -> None:
    for text in ("si la pensione di mio marito", "Sì, mio marito lavora", "sì sì, mia figlia"):
        assert yes_or_no_leading(text) is True, text
        # Where a yes acts (a refund, a consent, the declaration): no yes.
        assert yes_or_no(text) is None, text
        refund = [Option("yes", t("Yes, refund")), Option("no", t("No"))]
        assert read(text, refund) is None, text
    for text in ("no, nessuno", "No purtroppo nessuno", "nessuno"):
        assert yes_or_no_leading(text) is False, text
    # ("Nessuno" alone is a no to who in the household: see NOBODY below.)
    neither = [text for text in NEITHER if text != "nessuno"]
    for text in (*neither, "si ma non più", "sì forse", "si, aveva la pensione", "si 2 pensioni",
                 "no, solo mio marito", "no ma mio marito si", "mio marito si"):  # fmt: skip
        assert yes_or_no_leading(text) is None, text
    # Every plain yes and no is read as before.
    assert all(yes_or_no_leading(text) is True for text in YES if text.strip())
    assert all(yes_or_no_leading(text) is False for text in NO)


NOBODY = ("nessuno", "Nessuna.", "nessuno lavora", "nessuno ha la pensione", "none", "nobody",
          "no one works", "No, nessuno lavora", "non lavora nessuno", "nessuno di noi",
          "nessun reddito", "Nessuno, grazie", "nobody has a pension")  # fmt: skip


@pytest.mark.parametrize("text", NOBODY)
def test_nobody_is_a_no_only_where_the_household_is_asked(text: str) -> None:
    assert yes_or_no_leading(text) is False
    # Where a yes or a no acts (a payment, a refund, a consent, the declaration): neither.
    assert yes_or_no(text) is None
    refund = [Option("yes", t("Yes, refund")), Option("no", t("No"))]
    assert read(text, refund) is None


def test_nobody_with_other_words_is_neither() -> None:
    for text in ("nessun problema", "nessuno tranne mio marito", "nessuno, solo io",
                 "nessuno ma mio marito ha la pensione", "sì, nessuno", "si nessuno lavora",
                 "no, ha la pensione", "nessuno 2", "non so, nessuno"):  # fmt: skip
        assert yes_or_no_leading(text) is None, text
        assert yes_or_no(text) is None, text


def test_one_amount_in_a_sentence() -> None:
    assert amount_in_sentence("pago 350 euro di affitto") == "350"
    assert amount_in_sentence("prendo 300 euro di naspi al mese") == "300"
    assert amount_in_sentence("ho circa 1200 euro in banca") == "1200"
    assert amount_in_sentence("350 al mese") == "350"
    assert amount_in_sentence("€ 350 di affitto") == "350"
    assert amount_in_sentence("pago 1.200,50€ al mese") == "1.200,50"
    assert amount_in_sentence("ho una pensione di 300 euro") == "300"  # "una": an article
    assert amount_in_sentence("prendo trecento euro") == "300"
    assert amount_in_sentence("I pay 350 euros a month") == "350"
    # Two numbers, a doubt, a range, a bound or a "non": not guessed.
    for text in ("350 o 400", "pago 350 o 400 euro", "tra 300 e 400 euro", "più di 300 euro",
                 "300 euro forse", "non pago 350 euro", "350 euro e 50", "siamo 2, 350 euro",
                 "ho due conti con 300 euro"):  # fmt: skip
        assert amount_in_sentence(text) is None, text
    # A number not marked as money (by the currency or "al mese" beside it): not an amount.
    for text in ("siamo in 3", "pago l'affitto da 6 mesi", "mio marito ha 80 anni", "350",
                 "chiamami al 3331234567 euro", "alle 12:30 euro"):  # fmt: skip
        assert amount_in_sentence(text) is None, text


def test_an_amount_next_to_what_the_question_asks() -> None:
    """ "Pago 300 di affitto" at the rent question, without the currency: the number beside
    what the question asks is its money. Elsewhere, and for a number beside another word,
    nothing is guessed."""
    for text in ("pago 300 di affitto", "l'affitto è 300", "affitto 300", "300 d'affitto",
                 "I pay 300 for rent", "la pigione è 300"):  # fmt: skip
        assert amount_in_sentence(text, about=RENT_WORDS) == "300", text
        assert amount_in_sentence(text) is None, text
    assert amount_in_sentence("prendo 500 di naspi", about=SUPPORT_WORDS) == "500"
    assert amount_in_sentence("800 di cassa integrazione", about=SUPPORT_WORDS) == "800"
    for text in ("pago l'affitto da 6 mesi", "non pago 300 di affitto", "300 o 350 di affitto",
                 "siamo in 3 in affitto da 2 anni", "300 di naspi"):  # fmt: skip
        assert amount_in_sentence(text, about=RENT_WORDS) is None, text


def test_the_household_in_a_sentence_only_when_it_says_everyone() -> None:
    assert household_count("io e mio marito siamo 2") == 2
    assert household_count("Io e mio marito, siamo in due.") == 2
    assert household_count("in casa siamo in tre persone") == 3
    assert household_count("siamo solo 2") == 2
    assert household_count("vivo da sola") == 1
    assert household_count("I live alone") == 1
    assert household_count("we are 4") == 4
    # count_in's forms, as before.
    for text, count in (("3", 3), ("tre", 3), ("siamo in 3", 3), ("3 persone", 3), ("sola", 1)):
        assert household_count(text) == count, text
    for text in ("siamo 2 più i bambini", "siamo 2 adulti e 3 bambini",
                 "io e mio marito non siamo 2", "mio marito ha 80 anni", "siamo 2 e 3",
                 "non vivo da sola", "siamo tanti", "2 figli"):  # fmt: skip
        assert household_count(text) is None, text


def test_the_household_as_a_family_of_so_many() -> None:
    """ "Siamo una famiglia di 4", "we are a family of four", "four of us": the size, in
    either language; more after it is asked again."""
    for text, count in (("siamo una famiglia di quattro", 4), ("famiglia di 4", 4),
                        ("nucleo di 3 persone", 3), ("we are a family of four", 4),
                        ("family of 5", 5), ("four of us", 4)):  # fmt: skip
        assert household_count(text) == count, text
    for text in ("una famiglia di 4 più la nonna", "family of 4 and a dog",
                 "la famiglia di mio figlio", "mia sorella e la famiglia di 4"):  # fmt: skip
        assert household_count(text) is None, text


def test_the_household_counted_then_named() -> None:
    """ "Siamo in due io e mio marito": the number, then who they are, agreeing. A name list
    that counts otherwise ("siamo in 3 io e mio marito") is asked again, not guessed."""
    for text, count in (("siamo in due io e mio marito", 2), ("siamo 2, io e mia figlia", 2),
                        ("siamo in tre: io e i miei 2 figli", 3),
                        ("siamo in 3 io mio marito e mia madre", 3),
                        ("we are 2, me and my wife", 2)):  # fmt: skip
        assert household_count(text) == count, text
    for text in ("siamo in 3 io e mio marito", "siamo in due io e i miei figli",
                 "siamo in 2 io e mio marito e i bambini", "siamo 2 e 3"):  # fmt: skip
        assert household_count(text) is None, text


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("io e mio marito", 2), ("Io e mia moglie.", 2), ("io e il mio compagno", 2),
        ("io e i miei due figli", 3), ("io e i miei 2 figli", 3), ("io e una figlia", 2),
        ("io, mio marito e i nostri 2 bambini", 4), ("io mio marito e 2 figli", 4),
        ("io e mia sorella con i suoi 3 bambini", 5), ("mio marito ed io", 2),
        ("siamo io e mio marito", 2), ("vivo con mia figlia", 2),
        ("abito con mio figlio e mia nuora", 3), ("io e i miei genitori", 3),
        ("solo io", 1), ("me and my wife", 2), ("my wife and I", 2), ("me and a son", 2),
        ("I live with my wife and 2 kids", 4), ("just me", 1),
    ],
)  # fmt: skip
def test_the_household_named_person_by_person(text: str, people: int) -> None:
    assert household_count(text) == people


@pytest.mark.parametrize(
    "text",
    ["io e la mia famiglia", "io e i miei figli", "mio marito e mia figlia", "i miei due figli",
     "io e mio figlio di 5 anni", "io e due figlio", "io e 0 figli", "io e il mio cane",
     "io e mia madre anziana", "io e mio marito e io", "vivo con", "io", "me and my kids",
     "io e mio marito non", "io e mio marito e forse mia madre"],
)  # fmt: skip
def test_a_household_that_does_not_say_how_many_is_not_guessed(text: str) -> None:
    assert household_count(text) is None


def test_savings_where_they_are_kept_and_a_monthly_sum() -> None:
    for text, amount in (("ho circa 1200 in banca", "1200"), ("1500 sul libretto", "1500"),
                         ("ho 1200 sul conto", "1200"), ("800 in the bank", "800"),
                         ("ho circa 1200 euro in banca", "1200")):  # fmt: skip
        assert amount_in_sentence(text, saved=True) == amount, text
    # Where savings are kept marks a number as money only at the savings question.
    assert amount_in_sentence("ho circa 1200 in banca") is None
    for text in ("ho 2 conti in banca", "1200 in banca e 300 in posta", "siamo in 3",
                 "non ho 1200 in banca"):  # fmt: skip
        assert amount_in_sentence(text, saved=True) is None, text
    for text in ("1200 al mese", "1200 euro al mese", "800 a month", "1200 mensili",
                 "prendo 900 ogni mese", "1.200 € al mese"):  # fmt: skip
        assert per_month(text), text
    for text in ("1200", "ho circa 1200 in banca", "il mese scorso avevo 1200", "mesi"):
        assert not per_month(text), text


def test_a_yearly_sum() -> None:
    for text in ("6000 euro all'anno", "5000 l'anno", "3600 € annui", "4800 a year",
                 "prendo 900 ogni anno", "2000 yearly"):  # fmt: skip
        assert per_year(text), text
    for text in ("1200", "1200 al mese", "a fine anno avevo 1200", "l'anno scorso 300",
                 "anni", "nel 2025 avevo 1500"):  # fmt: skip
        assert not per_year(text), text


def test_spoken_forms_are_undone_only_for_requests() -> None:
    assert as_said(plain_words("quant'è che c'ho sui bbuoni?")) == [
        "quante", "che", "ho", "sui", "buoni"
    ]  # fmt: skip
    assert as_said(plain_words("c'ho ancora li ssordi")) == ["ho", "ancora", "li", "sordi"]
    # Words too short to double, and digits, stay as written.
    assert as_said(["ll", "1100", "ssi"]) == ["ll", "1100", "si"]


SAID_BALANCE = ("quanto c'ho", "Quanto c’ho?", "quanto c'ho ancora", "quanti soldi c'ho")


@pytest.mark.parametrize("text", SAID_BALANCE)
def test_the_balance_as_it_is_said_at_every_step(text: str) -> None:
    assert commands.parse(text) == ("balance", "")


@pytest.mark.parametrize(
    "text",
    ["quant'è che c'ho sui bbuoni?", "quanti soldi ho sulla carta", "c'ho ancora li ssordi?",
     "Quanto c'ho sulla carta?", "non c'ho più credito"],
)  # fmt: skip
def test_the_balance_as_it_is_said_when_nothing_is_asked(text: str) -> None:
    assert questions.unasked(text) == ("balance", "")
    assert commands.parse(text) is None  # a question waiting keeps its answer


def test_other_sentences_with_c_ho_are_no_balance() -> None:
    for text in ("c'ho fame", "quanto c'ho messo", "quant'è il pane?", "c'ho un problema",
                 "non c'ho ancora la tessera", "quanto c'ho messo ad arrivare"):  # fmt: skip
        assert commands.parse(text) is None, text
        assert questions.question_of(text) != ("balance", ""), text


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("ciao", "greeting"),
        ("Buongiorno!", "greeting"),
        ("pronto?", "greeting"),
        ("pronto, chi parla?", "greeting"),
        ("chi siete?", "greeting"),
        ("who are you?", "greeting"),
        ("grazie mille, gentilissimi", "thanks"),
        ("grazie, buona giornata", "thanks"),
        ("thank you very much", "thanks"),
        ("stop per favore", "stop_hint"),
        ("please stop", "stop_hint"),
        ("mi resta qualcosa?", "balance"),
        ("non ho più soldi?", "balance"),
        ("is there anything left?", "balance"),
        ("ho perso la tessera", "lost_card"),
        ("tessera persa", "lost_card"),
        ("non trovo più la carta", "lost_card"),
        ("I lost my card", "lost_card"),
    ],
)
def test_questions_in_plain_words(text: str, asked: str) -> None:
    assert questions.question_of(text) == (asked, "")
    # None of them is a keyword read at every step (a question waiting keeps its answer).
    assert commands.parse(text) is None


@pytest.mark.parametrize(
    "text",
    ["quanto costano i buoni?", "Quanto costano i buoni spesa", "devo pagare per la domanda?",
     "i buoni si pagano?", "quanto costa la tessera", "how much do the vouchers cost?",
     "do I have to pay for the vouchers?"],
)  # fmt: skip
def test_what_the_vouchers_cost_is_no_balance(text: str) -> None:
    assert questions.unasked(text) == ("price", "")
    assert commands.parse(text) is None  # a question waiting keeps its answer


def test_paying_with_the_card_or_a_price_of_something_else_is_not_the_vouchers_price() -> None:
    assert questions.unasked("devo pagare con la tessera?") == ("card", "")
    assert questions.unasked("how do I pay for the shopping with the card") == ("card", "")
    assert questions.unasked("quanto costa il pane") is None
    assert questions.unasked("quanto mi resta sui buoni") == ("balance", "")


@pytest.mark.parametrize(
    "text",
    ["ho perso la carta d'identità", "Non trovo più la carta d’identità", "I lost my ID card",
     "mi hanno rubato la tessera sanitaria", "ho perso la carta di credito",
     "lost my credit card"],
)  # fmt: skip
def test_another_card_lost_is_not_the_voucher_card(text: str) -> None:
    assert questions.question_of(text) == ("other_card", "")
    assert questions.unasked(text) == ("other_card", "")
    # The voucher card lost, or its credit asked, is read as before.
    assert questions.question_of("ho perso la tessera") == ("lost_card", "")
    assert questions.question_of("ho perso la tessera, ho ancora credito?") == ("balance", "")


@pytest.mark.parametrize(
    "text",
    ["devo portare la carta d'identità?", "serve la tessera sanitaria?",
     "quanto costa la carta d'identità?", "posso pagare con la carta di credito?",
     "accettate il bancomat o solo la carta?", "do I need my ID card?",
     "can I pay by credit card?"],
)  # fmt: skip
def test_another_card_named_is_no_voucher_card_keyword(text: str) -> None:
    """A sentence naming another card, nothing lost: neither CARTA (the voucher card's
    code) nor CREDITO or a question of the balance."""
    assert questions.unasked(text) is None
    assert commands.parse(text) is None


@pytest.mark.parametrize(
    ("text", "asked"),
    [("ho ancora credito sulla carta?", "balance"), ("quanto c'è sulla tessera?", "balance"),
     ("vorrei la carta", "card"), ("mi mandate la tessera?", "card")],
)  # fmt: skip
def test_the_voucher_card_in_a_sentence_is_read_as_before(text: str, asked: str) -> None:
    assert questions.unasked(text) == (asked, "")


@pytest.mark.parametrize(
    ("text", "language"),
    [("italiano", "it"), ("Italiano!", "it"), ("in italiano per favore", "it"),
     ("italian", "it"), ("English", "en"), ("english please", "en"), ("INGLESE", "en"),
     ("in English", "en")],
)  # fmt: skip
def test_a_language_named_alone_is_lingua_with_it(text: str, language: str) -> None:
    assert commands.parse(text) == ("language", language)
    assert commands.LANGUAGE_WORDS[commands.parse(text)[1]] == language  # type: ignore[index]


def test_a_language_in_a_sentence_is_no_command() -> None:
    for text in ("non parlo bene l'italiano", "italiano e inglese", "it", "en", "in",
                 "sono italiano da 30 anni"):  # fmt: skip
        assert commands.parse(text) is None, text


def test_what_is_none_of_those_questions() -> None:
    for text in ("non ho più soldi, vorrei fare la domanda", "ho perso la carta d'identità",
                 "ho perso il codice", "per favore", "prego", "chi"):  # fmt: skip
        assert questions.question_of(text) not in (
            ("balance", ""),
            ("lost_card", ""),
            ("greeting", ""),
            ("thanks", ""),
        ), text


# "nn" is how a phone writes "non": read wherever "non" is read, and only as a word alone.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nn accetto", False),  # a consent refused, as "non accetto"
        ("nn lavora nessuno", False),  # nobody works, as "non lavora nessuno"
        ("si nn piu", None),  # a yes taken back: no plain yes
        ("sì, ma nn più", None),
        ("si mia nonna", True),  # "nonna" is no "non"
        ("si, la pensione del nonno", True),
    ],
)
def test_nn_is_non_in_a_yes_or_no(text: str, expected: bool | None) -> None:
    assert yes_or_no_leading(text) is expected


def test_nn_leaves_a_household_or_an_amount_unread_as_non_does() -> None:
    assert household_count("nn vivo da sola") is None
    assert household_count("io e mia nonna") == 2
    assert amount_in_sentence("nn pago 350 euro di affitto") is None
    assert amount_in_sentence("pago 350 euro di affitto") == "350"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("nn ho capito", ("help", "")),
        ("Nn capisco", ("help", "")),
        ("nn trovo la tessera", ("lost_card", "")),
        ("nn ho più soldi?", ("balance", "")),
    ],
)
def test_nn_asks_what_non_asks(text: str, command: tuple[str, str]) -> None:
    assert (commands.parse(text) or questions.unasked(text)) == command


def test_nn_is_written_out_only_as_a_word_alone() -> None:
    assert plain_words("nn ho capito") == ["non", "ho", "capito"]
    for word in ("nonna", "nonno", "anno", "panna", "nnn"):
        assert plain_words(word) == [word]
    assert questions.unasked("nn ho ancora soldi") is None  # as "non ho ancora soldi"
    assert written_in("nn") == "it"


# A 75-year-old citizen's trial (December 2026): her questions, read whole, and the
# neighbouring sentences that mean something else (tests/dialogue/test_her_own_words.py).
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("quanto posso spendere ancora?", "balance"),
        ("vorrei sapere quanto ho", "balance"),
        ("quanto mi resta da spendere", "balance"),
        ("ho finito i soldi?", "balance"),
        ("how much can I still spend?", "balance"),
        ("I'd like to know how much I have", "balance"),
        ("have I finished my money?", "balance"),
        ("voglio parlare con una persona", "office"),
        ("posso parlare con qualcuno?", "office"),
        ("vorrei parlare con l'assistente sociale", "office"),
        ("I want to talk to a person", "office"),
        ("I'd like to talk to the social worker", "office"),
    ],
)
def test_her_questions_are_read_at_every_step(text: str, name: str) -> None:
    assert commands.parse(text) == (name, "")


@pytest.mark.parametrize(
    "text",
    ["quanto ho incassato", "vorrei sapere quanto ho incassato", "voglio parlare con mia figlia",
     "posso parlare con il negozio?", "ho finito la spesa"],
)  # fmt: skip
def test_neighbouring_sentences_are_no_balance_nor_office(text: str) -> None:
    assert commands.parse(text) is None


def test_the_money_arrived_asks_after_the_application() -> None:
    # "reimbursement": a citizen's status, a shop's reimbursements (commands.run).
    for text in ("mi sono arrivati i soldi?", "has my money arrived?", "did the money arrive?"):
        assert questions.unasked(text) == ("reimbursement", ""), text
    for text in ("ho dato i soldi al negozio", "non ho ancora ricevuto i soldi"):
        assert questions.unasked(text) is None, text


@pytest.mark.parametrize(
    ("text", "lost"),
    [("scusi non ho capito", True), ("si", True), ("no", True), ("dove li posso spendere", True),
     ("sorry, I don't understand", True), ("where can I spend them?", True),
     ("62020", False), ("Testville", False), ("alimentari", False),
     ("dove trovo un alimentari", False), ("Noto", False), ("Sinalunga", False)],
)  # fmt: skip
def test_words_at_the_shop_question_that_search_nothing(text: str, lost: bool) -> None:
    assert shop_finder.asks_what_to_write(text) is lost


def test_none_said_in_words_at_the_monthly_questions() -> None:
    """ "Non ce l'ho", "non pago l'affitto", "nessun sostegno", "casa di proprietà" (the
    rent): a plain no in a sentence is 0. A digit, another subject, a "più", a "ma" or any
    other word leaves it unread (asked again)."""
    for text in ("non ce l'ho", "non prendo niente", "nessun sostegno",
                 "no non prendiamo niente", "non abbiamo nessun sostegno"):  # fmt: skip
        assert says_there_is_none(text, SUPPORT_WORDS), text
    for text in ("non pago l'affitto", "non pago affitto", "niente affitto", "no non pago",
                 "casa di proprietà", "la casa è mia", "abito in casa mia",
                 "siamo in casa nostra", "non paghiamo l'affitto"):  # fmt: skip
        assert says_there_is_none(text, RENT_WORDS), text
    for text in ("non pago l'affitto", "non ho più la naspi", "non ce l'ho ma mio marito si",
                 "non prendo 300", "ho la naspi", "non ho la naspi"):  # fmt: skip
        assert not says_there_is_none(text, SUPPORT_WORDS), text
    for text in ("non ho la naspi", "non pago più di 300", "non è casa mia", "pago l'affitto",
                 "la casa è di mio figlio", "non pago l'affitto da 2 mesi"):  # fmt: skip
        assert not says_there_is_none(text, RENT_WORDS), text


@pytest.mark.parametrize(
    "text", ["ok", "Va bene.", "sì, va bene", "ricevuto", "ok capito", "d'accordo", "got it"]
)
def test_an_acknowledgement_alone_is_read_as_one(text: str) -> None:
    # "Ok" to a notice read hours later: "All right." and the menu, not "I did not understand".
    assert questions.question_of(text) == (ACKNOWLEDGED, "")


@pytest.mark.parametrize("text", ["si", "ok ma non ho capito", "ok saldo", "va bene 12,50"])
def test_an_acknowledgement_with_more_is_not_one(text: str) -> None:
    assert questions.question_of(text) != (ACKNOWLEDGED, "")


@pytest.mark.parametrize(
    "text",
    ["nun ce capisco gnente", "non ce capisco niente", "non ci capisco nulla",
     "NON CI HO CAPITO NIENTE", "non capisco nulla"],
)  # fmt: skip
def test_not_understanding_as_spoken_asks_for_the_help(text: str) -> None:
    assert commands.phrase_of(text) == "help"


@pytest.mark.parametrize("text", ["ricevuto, grazie", "ho capito grazie mille", "ok grazie"])
def test_an_acknowledgement_with_thanks_is_thanks(text: str) -> None:
    assert questions.question_of(text) == ("thanks", "")


_KEYWORD_PIECES = ["SALDO", "saldo", "/menu", "/saldo@buonispesa_bot", "AIUTO", "negozi",
                   "Saldo per favore", "👍", " ", ".", "?", "12", "italiano", "vorrei sapere",
                   "quanto mi resta", "paga", "ABCD 2345 23", "x" * 40]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_KEYWORD_PIECES) | st.text(max_size=12), max_size=5))
def test_a_kept_reading_is_the_reading(pieces: list[str]) -> None:
    """A short message's command is kept once read (commands.parse): read again, short or
    past the kept length, it is what reading it afresh gives."""
    text = " ".join(pieces)
    fresh = reading._parse(text)
    assert commands.parse(text) == fresh
    assert commands.parse(text) == fresh  # the kept one, for a short text
