"""The outbox payload's JSON text written directly (messages.reply_json_text) is, character
for character, what json.dumps writes of reply_to_json: a plain turn's plan stores the
former, the ORM's JSON column the latter, and the outbox reads both the same way."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import StrEnum

import pytest

from core.domain.messages import (
    Day,
    Distance,
    DocumentRef,
    Invoice,
    MapPin,
    Moment,
    Money,
    Option,
    Reply,
    Text,
    reply_from_json,
    reply_json_text,
    reply_to_json,
    t,
    tn,
)
from tests.dialogue.test_replies_unchanged import _replies


class _Colour(StrEnum):
    RED = "rosso"


_NOW = datetime(2026, 4, 6, 21, 30, 15, tzinfo=UTC)

_ODD = {
    "every parameter": Reply.of(
        t(
            "{a} {b} {c} {d} {e} {f} {g} {h} {i} {j}",
            a='Caffè “Da Gino” ☕ "quoted" back\\slash\nnew line',
            b=Money(-137_50),
            c=Day(date(2026, 1, 2)),
            d=Distance(850),
            e=Moment(_NOW),
            f=Moment(_NOW, seconds=True),
            g=0,
            h=-12_345,
            i=_Colour.RED,
            j="",
        )
    ),
    "a day that is a datetime": Reply.of(t("{d}", d=Day(_NOW))),
    "a key that needs escaping": Reply.of(Text("x", {"città": "Macerata"})),
    "plural": Reply.of(tn("{count} voucher", "{count} vouchers", 3)),
    "plural without a count": Reply.of(Text("a", {}, plural="b", count=None)),
    "options, request and sensitive": Reply(
        texts=(t("Your code: {code}.", code="123456"),),
        options=(Option("yes", t("Yes")), Option("è", t("{n} more", n=2))),
        request="contact",
        sensitive=True,
    ),
    "no texts": Reply(texts=()),
    "a pin": Reply(texts=(t("Here"),), pin=MapPin(43.2, 13.1, "Forno", "Via Roma 1")),
    "a document": Reply(texts=(t("Card"),), document=DocumentRef("card", "ABC")),
    "an invoice": Reply(
        texts=(t("Pay"),),
        invoice=Invoice(t("T"), t("D"), t("L"), "payload", 5_000),
    ),
}


@pytest.mark.parametrize("name", sorted(_ODD))
def test_an_unusual_reply_is_written_as_json_writes_it(name: str) -> None:
    reply = _ODD[name]
    text = reply_json_text(reply)
    assert text == json.dumps(reply_to_json(reply))
    if name != "a day that is a datetime":  # (read back as its date, either way)
        assert reply_from_json(json.loads(text)) == reply


def test_every_reply_of_the_hot_turns_is_written_as_json_writes_it() -> None:
    replies = _replies()
    assert len(replies) > 100
    differ = {
        key: reply_json_text(reply)
        for key, reply in replies.items()
        if reply_json_text(reply) != json.dumps(reply_to_json(reply))
    }
    assert not differ, differ
