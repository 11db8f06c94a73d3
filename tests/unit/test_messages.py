from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.domain.messages import (
    Day,
    Distance,
    DocumentRef,
    MapPin,
    Moment,
    Money,
    Option,
    Reply,
    reply_from_json,
    reply_to_json,
    t,
    tn,
)
from core.i18n import format_distance, format_money


def test_reply_survives_the_outbox_json() -> None:
    reply = Reply(
        texts=(
            t("Balance: {amount}", amount=Money(1250)),
            tn("{count} shop", "{count} shops", 2),
            t(
                "{d} {m} {x}",
                d=Day(date(2026, 4, 6)),
                m=Moment(datetime(2026, 4, 6, tzinfo=UTC)),
                x=Distance(1200),
            ),
        ),
        options=(Option("balance", t("Balance")),),
        request="location",
        pin=MapPin(43.16, 13.24, "Forno", "Via Roma 1"),
        document=DocumentRef("card", "ABCD"),
        sensitive=True,
    )
    assert reply_from_json(reply_to_json(reply)) == reply


def test_money_and_distance_in_the_readers_language() -> None:
    assert format_money(1250, "it").replace("\xa0", " ") == "12,50 €"
    assert format_money(123456, "en") == "€1,234.56"
    assert format_distance(850, "it") == "850 m"
    assert format_distance(1250, "it") == "1,2 km"
    assert format_distance(1250, "en") == "1.2 km"


def test_the_records_built_on_every_turn_keep_their_dataclass_init() -> None:
    """Text, Money, Day and Reply get an __init__ that sets their slots directly
    (messages._slot_init): the same parameters and defaults, a fresh dict for each text's
    parameters, and still frozen."""
    import dataclasses
    import inspect

    from core.domain.messages import Day, Money, Option, Reply, Text

    assert list(inspect.signature(Reply).parameters) == [
        "texts",
        "options",
        "request",
        "pin",
        "document",
        "sensitive",
        "invoice",
    ]
    first, second = Text("a"), Text("a")
    assert first == second and first.params == {} and first.params is not second.params
    assert (first.plural, first.count) == (None, None)
    assert Text("a", {"n": 1}, plural="b", count=1) == Text(
        msgid="a", params={"n": 1}, plural="b", count=1
    )
    reply = Reply(texts=(first,), options=(Option("k", first),))
    assert (reply.request, reply.pin, reply.document, reply.sensitive, reply.invoice) == (
        None,
        None,
        None,
        False,
        None,
    )
    assert hash(Money(5)) == hash(Money(5)) and Money(5) != Money(6)
    assert dataclasses.replace(reply, sensitive=True).sensitive
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.texts = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        Day()  # type: ignore[call-arg]
