"""The replies of the hot turns, byte for byte as they were before the work on their speed
(bench/callgrind_turns.py, docs/benchmarks.md): balances with every kind of movement, by
SMS and on Telegram, for a holder and a delegate, with shop names that are not GSM-7; the
menu, the help and the welcome; amounts, days, distances, moments and counts, in Italian
and in English. The text a person reads and the payload the outbox stores.

replies_unchanged.json was written by the code before those changes. When a sentence
changes on purpose, write it again: `python tests/dialogue/test_replies_unchanged.py`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))  # run as a script

from core.dialogue.flows.citizen import balance_reply
from core.dialogue.menus import CITIZEN_HELP, MenuShop, help_of, menu_replies, welcome_of
from core.dialogue.render import render_plain
from core.domain import gsm7
from core.domain.ledger import PostingKind
from core.domain.messages import Day, Distance, Moment, Money, Reply, reply_to_json, t, tn
from core.i18n import LANGUAGES, format_in_sentence, format_param, render_text
from core.services.movements import Movement

EXPECTED = Path(__file__).with_name("replies_unchanged.json")
NOW = datetime(2026, 4, 6, 21, 30, 15, tzinfo=UTC)
SHOPS = ("Forno Chienti", "Caffè “Da Gino” ☕", "Ëlite Market", "Macelleria Paoletti & C.", "")
KINDS = list(PostingKind)


def _moves(count: int) -> list[Movement]:
    return [
        Movement(
            KINDS[i % len(KINDS)],
            (-1 if i % 2 else 1) * (1_250 + 731 * i),
            NOW - timedelta(days=i, hours=3 * i),
            SHOPS[i % len(SHOPS)] or None,
            i or None,
        )
        for i in range(count)
    ]


def _replies() -> dict[str, Reply]:
    replies: dict[str, Reply] = {}
    for language in LANGUAGES:
        for sms in (True, False):
            for count in (0, 1, 3, 6, 12):
                for cents in (0, 137_50, 1_234_567_89):
                    for holder in (None, "RSSMRA85T10A562S"):
                        key = (
                            f"balance/{language}/{'sms' if sms else 'tg'}/{count}/{cents}/{holder}"
                        )
                        replies[key] = balance_reply(
                            cents,
                            _moves(count),
                            "Europe/Rome",
                            holder=holder,
                            language=language,
                            sms=sms,
                        )
            shops = [MenuShop(1, "Alimentari Da Rita", approved=True, owner=True, refused=False)]
            for menu_shops in ([], shops):
                for community in (False, True):
                    name = f"menu/{language}/{sms}/{len(menu_shops)}/{community}"
                    for index, reply in enumerate(
                        menu_replies(
                            [welcome_of("Belforte del Chienti")],
                            menu_shops,
                            None,
                            community=community,
                            language=language,
                            sms=sms,
                        )
                    ):
                        replies[f"{name}/{index}"] = reply
        for shop in (False, True):
            for community in (False, True):
                texts, _ = help_of(shop=shop, community=community)
                replies[f"help/{language}/{shop}/{community}"] = Reply(texts=tuple(texts))
    replies["help/alone"] = Reply(texts=(CITIZEN_HELP,))
    return replies


def _params() -> dict[str, object]:
    return {
        "money": Money(1_234_50),
        "money-small": Money(5),
        "day": Day(date(2026, 12, 31)),
        "near": Distance(850),
        "far": Distance(12_345),
        "moment": Moment(NOW),
        "moment-seconds": Moment(NOW, seconds=True),
        "count": 12_345,
        "name": "Caffè “Da Gino”",
    }


def rendered() -> dict[str, str]:
    """Every case's text: each reply as an SMS and as plain text, its outbox payload."""
    out: dict[str, str] = {}
    for key, reply in _replies().items():
        for language in LANGUAGES:
            for sms in (True, False):
                out[f"{key}|{language}|{sms}"] = render_plain(reply, language, sms=sms)
        out[f"{key}|payload"] = json.dumps(reply_to_json(reply), ensure_ascii=False)
    for key, value in _params().items():
        for language in LANGUAGES:
            out[f"param/{key}|{language}"] = format_param(value, language)  # type: ignore[arg-type]
            sentence = format_in_sentence(value, language)  # type: ignore[arg-type]
            out[f"sentence/{key}|{language}"] = sentence
    for language in LANGUAGES:
        for count in (1, 2, 1_000):
            text = tn("{count} voucher", "{count} vouchers", count)
            out[f"plural/{count}|{language}"] = render_text(text, language, sms=True)
        line = t("{day} -{amount} {shop}", day=Day(date(2026, 1, 2)), amount=Money(99), shop="È…")
        out[f"gsm7/{language}"] = render_text(line, language, sms=True)
        segments = gsm7.count(out[f"gsm7/{language}"])
        out[f"gsm7-count/{language}"] = f"{segments.encoding} {segments.length} {segments.segments}"
    return out


def test_every_reply_reads_as_before() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    now = rendered()
    assert set(now) == set(expected), "a case was added or lost: write the file again"
    changed = {key: (expected[key], now[key]) for key in expected if now[key] != expected[key]}
    assert not changed, changed


if __name__ == "__main__":
    EXPECTED.write_text(
        json.dumps(rendered(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
