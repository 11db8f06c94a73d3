"""Personal data on the office's pages and files: in full for clerks and managers, masked for
viewers (codici fiscali, cards, phones, and the IBANs of shops, many of them one person's
business)."""

from __future__ import annotations

from core.domain.cards import mask_codice_fiscale
from core.domain.identity import mask_iban, mask_phone
from core.services.application_desk import masked_card
from core.services.operators import may_see_personal_data
from core.storage import models as m


def codice_fiscale(operator: m.Operator, value: str) -> str:
    return value if may_see_personal_data(operator) else mask_codice_fiscale(value)


def card(operator: m.Operator, value: str | None) -> str:
    if not value:
        return ""
    return value if may_see_personal_data(operator) else masked_card(value)


def phone(operator: m.Operator, value: str | None) -> str:
    if not value:
        return ""
    return value if may_see_personal_data(operator) else mask_phone(value)


def iban(operator: m.Operator, value: str | None) -> str:
    if not value:
        return ""
    return value if may_see_personal_data(operator) else mask_iban(value)
