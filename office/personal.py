"""Personal data on the office's pages and files: in full for clerks and managers, masked for
viewers (codici fiscali, cards, phones, and the IBANs of shops, many of them one person's
business)."""

from __future__ import annotations

from stdnum import iban as stdnum_iban

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


def iban_shown(operator: m.Operator, value: str | None) -> str:
    """A shop's IBAN as a page or a printed document shows it: in groups of four, as it is
    printed on a bank's papers and read out (IT40 S054 2811 1010 0000 0123 456), masked for
    viewers. The files for machines (the CSV, the spreadsheet, the SEPA file) keep it in
    one run (`iban`)."""
    if not value:
        return ""
    return stdnum_iban.format(value) if may_see_personal_data(operator) else mask_iban(value)
