"""The GSM-7 segment counter (3GPP TS 23.038)."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from core.dialogue.context import fits_sms
from core.dialogue.render import render_parts, render_plain, sms_septets_at_most
from core.domain import gsm7
from core.domain.messages import Day, Money, Option, Reply, t
from core.i18n import septets_at_most


def test_basic_and_extension_characters() -> None:
    assert gsm7.count("Saldo: 12,50 €").length == 15  # € takes an escape: two septets
    assert gsm7.count("è à ù ì ò é É Ç").encoding == "GSM-7"
    assert gsm7.count("[]{}~^|\\").length == 16


def test_characters_that_force_ucs2() -> None:
    for text in ("È finita", "l’ultima", "“ciao”", "• uno", "…", "😀"):
        assert gsm7.count(text).encoding == "UCS-2", text
    assert gsm7.non_gsm7("È l’ora…") == ["È", "’", "…"]


def test_segment_boundaries() -> None:
    assert gsm7.segments("") == 0
    assert gsm7.segments("a" * 160) == 1
    assert gsm7.segments("a" * 161) == 2
    assert gsm7.segments("a" * 306) == 2
    assert gsm7.segments("a" * 307) == 3
    assert gsm7.segments("€" * 80) == 1
    assert gsm7.segments("€" * 81) == 2  # 162 septets
    assert gsm7.segments("a" * 158 + "€") == 1
    # An escape pair is never split: 152 + 2 does not fit the first 153, nor 152 + 150 + 2 two.
    assert gsm7.segments("a" * 152 + "€" + "a" * 150 + "€") == 3
    assert gsm7.segments("È" * 70) == 1
    assert gsm7.segments("È" * 71) == 2
    assert gsm7.segments("😀" * 35) == 1  # 70 UTF-16 units
    assert gsm7.segments("😀" * 36) == 2


@given(st.text(alphabet=gsm7.BASIC.replace("\x1b", "") + gsm7.EXTENSION, max_size=600))
def test_gsm7_segments_hold_the_text(text: str) -> None:
    count = gsm7.count(text)
    assert count.encoding == "GSM-7"
    assert count.length == len(text) + sum(ch in gsm7.EXTENSION for ch in text)
    if count.length <= 160:
        assert count.segments == (1 if text else 0)
    else:
        # Each segment holds 153 septets, 152 when an escape pair had to move on.
        assert 152 * (count.segments - 1) < count.length <= 153 * count.segments


@given(st.text(alphabet=gsm7.BASIC.replace("\x1b", "") + gsm7.EXTENSION, max_size=400))
def test_one_sms_of_gsm7_is_counted_as_count_counts_it(text: str) -> None:
    assert gsm7.gsm7_fits_one(text) is gsm7.count(text).single


def test_one_sms_of_gsm7_at_its_edges() -> None:
    assert gsm7.gsm7_fits_one("a" * 160)
    assert not gsm7.gsm7_fits_one("a" * 161)
    assert gsm7.gsm7_fits_one("a" * 158 + "€")
    assert not gsm7.gsm7_fits_one("a" * 159 + "€")  # 161 septets
    assert gsm7.gsm7_fits_one("€" * 80)
    assert not gsm7.gsm7_fits_one("€" * 81)


@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(
                [*"ab €{}[]è\n", *gsm7._LOOKALIKES, "\u00a0", "\u00c5", "\U0001f600", "\x1b"]
            ),
            max_size=60,
        ),
        min_size=1,
        max_size=4,
    ),
    st.text(alphabet=st.sampled_from([*"ab€", "\U0001f600", "\u2019"]), max_size=20),
)
def test_a_reply_rendered_for_sms_is_gsm7(names: list[str], label: str) -> None:
    """What fits_sms counts with gsm7_fits_one: every text and option rendered for SMS,
    whatever a person typed into a name, is GSM-7 (the precondition of that count)."""
    texts = [
        t("{day} -{amount} {shop}", day=Day(date(2026, 12, 7)), amount=Money(1250), shop=name)
        for name in names
    ]
    options = [Option("x", t("{name}", name=label))]
    rendered = render_parts(texts, options, "it", sms=True)
    assert gsm7.is_gsm7(rendered)
    assert gsm7.gsm7_fits_one(rendered) is gsm7.count(rendered).single


def test_every_character_is_placed_in_its_table() -> None:
    """The regex classes that check a text in one pass agree with the tables, one
    character at a time, over the whole of Unicode (escapes in the class included)."""
    basic = set(gsm7.BASIC) - {"\x1b"}
    extension = set(gsm7.EXTENSION)
    for code in range(0x110000):
        ch = chr(code)
        expected = ch in basic or ch in extension
        assert gsm7.is_gsm7(ch) is expected, hex(code)
        if expected:
            assert gsm7.septets("a" + ch) == (3 if ch in extension else 2), hex(code)


@given(
    st.text(
        alphabet=st.sampled_from(
            [*"aZ0 \n\r-^]\\[€|{}~\x0c@£è", "\x1b", "\u00a0", "\u00c8", "\U0001f600", "’"]
        ),
        max_size=200,
    )
)
def test_count_reads_the_text_as_the_tables_say(text: str) -> None:
    gsm = all(ch in gsm7.BASIC.replace("\x1b", "") or ch in gsm7.EXTENSION for ch in text)
    count = gsm7.count(text)
    assert gsm7.is_gsm7(text) is gsm
    if gsm:
        assert count.encoding == "GSM-7"
        assert count.length == len(text) + sum(ch in gsm7.EXTENSION for ch in text)
        assert gsm7.septets(text) == count.length
    else:
        assert count.encoding == "UCS-2"
        assert count.length == len(text.encode("utf-16-le")) // 2


def test_plain_rendering_numbers_the_options() -> None:
    reply = Reply(
        texts=(t("Your balance: {balance}.", balance=Money(12_50)),),
        options=(Option("balance", t("Balance")), Option("shops", t("Shops"))),
    )
    assert render_plain(reply, "it", sms=True) == "Il tuo saldo: 12,50 €.\n1 Saldo\n2 Negozi"
    assert render_plain(reply, "en", sms=False) == "Your balance: €12.50.\n1 Balance\n2 Shops"


def letter_by_letter(text: str) -> str:
    """The rule of to_gsm7 spelled out one letter at a time, as the reference."""
    out = []
    for ch in text:
        if gsm7.is_gsm7(ch):
            out.append(ch)
        elif ch in gsm7._LOOKALIKES:
            out.append(gsm7._LOOKALIKES[ch])
        else:
            base = "".join(
                x for x in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(x)
            )
            if base and gsm7.is_gsm7(base):
                out.append(base)
    return gsm7._DOUBLE_SPACE.sub(" ", "".join(out)).strip(" ")


@given(
    st.text(
        alphabet=st.sampled_from(
            [*"ab €\u00e0\u00e8 ,.", *gsm7._LOOKALIKES, "\u00a0", "\u00c5", "\U0001f600", "\u00fb"]
        ),
        max_size=40,
    )
)
def test_to_gsm7_takes_the_short_way_to_the_same_text(text: str) -> None:
    converted = gsm7.to_gsm7(text)
    assert converted == (text if gsm7.is_gsm7(text) else letter_by_letter(text))
    assert gsm7.is_gsm7(converted)


def test_an_amount_from_babel_keeps_its_space_and_euro() -> None:
    assert gsm7.to_gsm7("06/04/2026 -12,50\u00a0\u20ac Forno") == "06/04/2026 -12,50 \u20ac Forno"


# What a person may have typed into a shop's name (or a code, a town): every kind of
# character to_gsm7 keeps, doubles, replaces, strips of its accent or leaves out.
_TYPED = st.text(
    alphabet=st.sampled_from(
        [*"ab €{}[]è\n ", *gsm7._LOOKALIKES, "\u00a0", "\u00c5", "\U0001f600", "\x1b"]
    ),
    max_size=50,
)


@given(st.lists(_TYPED, min_size=1, max_size=4), _TYPED, st.sampled_from(["it", "en"]))
def test_an_sms_is_counted_at_most_at_its_rendered_septets(
    names: list[str], label: str, language: str
) -> None:
    """The count fits_sms asks first, from the templates and the parameters' words, is never
    below the septets of the SMS rendered: an SMS it says fits does fit."""
    texts = [
        t("Your balance: {balance}.", balance=Money(137_50)),
        *(
            t("{day} -{amount} {shop}", day=Day(date(2026, 12, 7)), amount=Money(1250), shop=n)
            for n in names
        ),
    ]
    options = [Option("card", t("My card")), Option("x", t("{name}", name=label))]
    rendered = render_parts(texts, options, language, sms=True)
    bound = sms_septets_at_most(texts, options, language)
    assert bound is not None
    assert bound >= gsm7.septets(rendered)
    assert fits_sms(texts, options, language) is gsm7.count(rendered).single


def test_a_plain_sms_is_counted_exactly() -> None:
    """Nothing typed to collapse or strip: the count is the rendered SMS's own septets."""
    texts = [
        t("Your balance: {balance}.", balance=Money(137_50)),
        t("Last movements:"),
        t("{day} -{amount} {shop}", day=Day(date(2026, 12, 7)), amount=Money(1250), shop="Forno"),
    ]
    for language in ("it", "en"):
        rendered = render_parts(texts, [Option("card", t("My card"))], language, sms=True)
        counted = sms_septets_at_most(texts, [Option("card", t("My card"))], language)
        assert counted == gsm7.septets(rendered), language


def test_a_template_only_rendering_counts_is_left_to_it() -> None:
    """A format spec, an index or a missing parameter: no count, the SMS is rendered (and a
    text without its parameter fails there, as it always did)."""
    assert septets_at_most(t("{amount:>10}", amount="5"), "it") is None
    assert septets_at_most(t("{a[0]}", a="5"), "it") is None
    assert septets_at_most(t("{day} -{amount} {shop}", day="oggi"), "it") is None
    assert septets_at_most(t("{n} km", n=5), "it") == 4
    assert fits_sms([t("{amount:>10}", amount="5")])
    assert not fits_sms([t("{amount:>200}", amount="5")])
