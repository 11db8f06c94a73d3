from __future__ import annotations

from datetime import UTC, date, datetime

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
