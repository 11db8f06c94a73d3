"""Putting Texts into words: gettext catalogs from locales/ and Babel formatting.

Catalogs are compiled by `make` (pybabel compile); when a .mo file is missing
or older than its .po (a fresh checkout, an edited catalog) the .po is compiled
in memory with Babel, so a user never sees an untranslated msgid.
"""

from __future__ import annotations

import gettext
import io
import string
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from core.domain import gsm7
from core.domain.gsm7 import to_gsm7
from core.domain.messages import Day, Distance, Moment, Money, Param, Text

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "it"
LANGUAGES = ("it", "en")
TIMEZONE = "Europe/Rome"
# Day and time as Italian and British readers write them, with the full year.
DATE_FORMAT = "dd/MM/yyyy"
DATETIME_FORMAT = "dd/MM/yyyy HH:mm"
# Inside a sentence a moment reads as people say it ("Riprova dal 04/12/2026 alle 18:54");
# a table cell or a document's field keeps the plain form above.
SENTENCE_DATETIME_FORMATS = {"it": "dd/MM/yyyy 'alle' HH:mm", "en": "dd/MM/yyyy 'at' HH:mm"}
# Added to either when a minute is not precise enough (Moment.seconds): 10:00:37.
SECONDS = ":ss"


def supported(language: str | None) -> str:
    lang = (language or "").lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> gettext.NullTranslations:
    lang = supported(language)
    base = LOCALES_DIR / lang / "LC_MESSAGES"
    po_path, mo_path = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po_path.exists():
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


@cache
def babel_locale(language: str) -> Locale:
    return Locale.parse({"it": "it_IT", "en": "en_GB"}[supported(language)])


@lru_cache(maxsize=4096)
def format_money(cents: int, language: str) -> str:
    return str(format_currency(Decimal(cents) / 100, "EUR", locale=babel_locale(language)))


@lru_cache(maxsize=4096)
def format_day(value: date, language: str) -> str:
    # Four-digit years ("31/03/2020"): "31/03/20" reads as a time or a code to many.
    # Cached like amounts: a balance shows the same few days to everyone who asks.
    return str(format_date(value, format=DATE_FORMAT, locale=babel_locale(language)))


def format_distance(meters: int, language: str) -> str:
    locale = babel_locale(language)
    if meters < 1000:
        return f"{format_decimal(meters, locale=locale)} m"
    km = (Decimal(meters) / 1000).quantize(Decimal("0.1"))
    # "10 km", not "10,0 km": a decimal only when it says something ("2,5 km").
    return f"{format_decimal(km, format='#,##0.#', locale=locale)} km"


def format_score(text: str, language: str) -> str:
    """A score stored as plain text with a dot ("83.33", as in the CSV) written the way the
    language writes decimals ("83,33" in Italian); "" stays "" (no score)."""
    if not text:
        return ""
    return str(format_decimal(Decimal(text), format="#,##0.00", locale=babel_locale(language)))


def format_param(value: Param, language: str) -> str:
    # The kinds a reply carries most first (a balance: names, amounts and days), and the
    # locale looked up only by the formatters that take it: every SMS turn formats a dozen.
    if isinstance(value, str):
        return value
    if isinstance(value, Money):
        return format_money(value.cents, language)
    if isinstance(value, Day):
        return format_day(value.value, language)
    if isinstance(value, Distance):
        return format_distance(value.meters, language)
    if isinstance(value, Moment):
        return str(
            format_datetime(
                value.value,
                format=DATETIME_FORMAT + (SECONDS if value.seconds else ""),
                tzinfo=ZoneInfo(TIMEZONE),
                locale=babel_locale(language),
            )
        )
    if isinstance(value, int):
        return str(format_decimal(value, locale=babel_locale(language)))
    return value


def format_in_sentence(value: Param, language: str) -> str:
    """A parameter as a sentence says it (a moment with "alle" / "at")."""
    if isinstance(value, Moment):
        language = supported(language)
        return str(
            format_datetime(
                value.value,
                format=SENTENCE_DATETIME_FORMATS[language] + (SECONDS if value.seconds else ""),
                tzinfo=ZoneInfo(TIMEZONE),
                locale=babel_locale(language),
            )
        )
    return format_param(value, language)


def gettext_for(language: str, msgid: str) -> str:
    return translations(language).gettext(msgid)


def render_text(text: Text, language: str, *, sms: bool = False) -> str:
    catalog = translations(language)
    if text.plural is not None:
        template = catalog.ngettext(text.msgid, text.plural, text.count or 0)
    else:
        template = catalog.gettext(text.msgid)
    params = text.params
    if params:
        # A balance's texts: names, amounts and days, a dozen a turn. Their exact types are
        # put into words here, without format_in_sentence and format_param's chain of
        # isinstance tests (the same words: the same cached formatters); anything else goes
        # through them. format_map, not format(**values): no copy of the dict into keywords.
        values: dict[str, str] = {}
        for key, value in params.items():
            if type(value) is str:
                values[key] = value
            elif type(value) is Money:
                values[key] = format_money(value.cents, language)
            elif type(value) is Day:
                values[key] = format_day(value.value, language)
            else:
                values[key] = format_in_sentence(value, language)
        rendered = template.format_map(values)
    else:
        rendered = template
    # On SMS, names people typed (curly quotes, emoji) must not force UCS-2 (see gsm7).
    return to_gsm7(rendered) if sms else rendered


# What septets_at_most knows of a template: the septets of its own characters and the
# names of its fields in order; None for a template that is not only text and plain
# `{name}` fields (a format spec, a conversion, an index), which only rendering counts.
# Keyed by the catalog and the msgid (a catalog read again, as tests do, is another
# object), a plural's by its template.
_Shape = tuple[int, tuple[str, ...]] | None
_SHAPES: dict[object, _Shape] = {}
_NO_SHAPE: Any = object()
_FORMATTER = string.Formatter()


def _shape(template: str) -> _Shape:
    fixed, names = 0, []
    try:
        for literal, name, spec, conversion in _FORMATTER.parse(template):
            fixed += gsm7.septets_at_most(literal)
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion is not None:
                return None
            names.append(name)
    except ValueError:  # a lone brace: render_text says so
        return None
    return fixed, tuple(names)


# The septets of a parameter's words: a pure function of the words (a name as typed, an
# amount, a day), asked again and again for the same few (a regex pass costs about 2,500
# instructions even on a word of five letters, the cache's look-up a tenth of it).
_word_septets = lru_cache(maxsize=4096)(gsm7.septets_at_most)


@lru_cache(maxsize=4096)
def _money_septets(cents: int, language: str) -> int:
    return gsm7.septets_at_most(format_money(cents, language))


@lru_cache(maxsize=4096)
def _day_septets(value: date, language: str) -> int:
    return gsm7.septets_at_most(format_day(value, language))


def septets_at_most(text: Text, language: str) -> int | None:
    """At most how many GSM-7 septets `render_text(text, language, sms=True)` takes,
    counted from the template's shape and each parameter's words, without putting them
    together nor through to_gsm7 (gsm7.septets_at_most says why it is at most); None when
    only rendering can tell. An SMS reply is asked whether it fits one segment on every
    turn that words one (core.dialogue.context.fits_sms)."""
    catalog = translations(language)
    key: object
    if text.plural is not None:
        key = catalog.ngettext(text.msgid, text.plural, text.count or 0)
    else:
        key = (catalog, text.msgid)
    shape: _Shape = _SHAPES.get(key, _NO_SHAPE)
    if shape is _NO_SHAPE:
        template = key if isinstance(key, str) else catalog.gettext(text.msgid)
        shape = _shape(template)
        if len(_SHAPES) < 4096:  # the catalogs' templates: a few hundred
            _SHAPES[key] = shape
    if shape is None:
        return None
    total, names = shape
    params = text.params
    for name in names:
        # As render_text puts each parameter into words (the same cached formatters).
        value = params.get(name)
        kind = type(value)
        if kind is str:
            total += _word_septets(value)
        elif kind is Money:
            total += _money_septets(value.cents, language)  # type: ignore[union-attr]
        elif kind is Day:
            total += _day_septets(value.value, language)  # type: ignore[union-attr]
        elif value is None:
            return None  # render_text raises: let it
        else:
            word = format_in_sentence(value, language)
            if type(word) is not str:
                return None
            total += _word_septets(word)
    return total
