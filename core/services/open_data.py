"""Open data: what the municipality publishes about the vouchers, for anyone to download.

The transparency report (core.services.reports: aggregates only, small counts withheld)
as rows, and the list of participating shops (name, category, address, position: the
disciplinare asks to publish it). Nothing here names or identifies a beneficiary.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from core.services import reports
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

REPORT_FIELDS = ("section", "metric", "value", "note")
SHOP_FIELDS = ("name", "category", "address", "postcode", "town", "latitude", "longitude")


@dataclass(frozen=True)
class PublishedReport:
    report: reports.TransparencyReport
    rows: list[dict[str, str]]  # REPORT_FIELDS, as in the report's CSV


async def report(
    uow: UnitOfWork, town: m.Municipality, now: datetime, window: int | None = None
) -> PublishedReport:
    """The report of window `window` (default: the latest), as the office's page shows it."""
    built = await reports.transparency_report(uow, town, now, window)
    rows = list(csv.DictReader(io.StringIO(built.to_csv())))
    return PublishedReport(built, [{key: row[key] for key in REPORT_FIELDS} for row in rows])


async def participating_shops(uow: UnitOfWork, town: m.Municipality) -> list[dict[str, str]]:
    """Approved shops by category, then name."""
    found = await uow.shops.search(town.id, approved_only=True)
    return [
        {
            "name": shop.name,
            "category": shop.category,
            "address": shop.address,
            "postcode": shop.postcode,
            "town": shop.town,
            "latitude": "" if shop.latitude is None else f"{shop.latitude:.5f}",
            "longitude": "" if shop.longitude is None else f"{shop.longitude:.5f}",
        }
        for shop in sorted(found, key=lambda s: (s.category, s.name))
    ]
