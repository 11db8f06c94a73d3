"""SEPA pain.001.001.03 files: structure, counts, sums, amounts, character set, identifiers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import InvalidIdentifier
from core.domain.sepa import (
    MAX_AMOUNT_CENTS,
    MAX_NAME,
    MAX_REMITTANCE,
    NAMESPACE,
    SEPA_CHARACTERS,
    CreditTransfer,
    PaymentOrder,
    SepaError,
    build_pain001,
    remittance_text,
    sanitize,
    sepa_name,
    summarize,
)
from core.services.sepa_schema import schema, validate_pain001

NS = {"p": NAMESPACE}
TOWN_IBAN = "IT60X0542811101000000123456"
SHOP_IBANS = [
    "IT40S0542811101000000123456",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
]


def order(*amounts: int, bic: str | None = None, **changes: object) -> PaymentOrder:
    transfers = tuple(
        CreditTransfer(
            end_to_end_id=f"BEL-R1-S{index}",
            amount_cents=cents,
            creditor_name=f"Negozio {index}",
            creditor_iban=SHOP_IBANS[index % len(SHOP_IBANS)],
            remittance=remittance_text("Belforte del Chienti", "01/04/2026-06/04/2026"),
        )
        for index, cents in enumerate(amounts)
    )
    base = PaymentOrder(
        message_id="BEL-20260406100000-1",
        created_at=datetime(2026, 4, 6, 10, 0, 0),
        initiating_party="Comune di Belforte del Chienti",
        debtor_name="Comune di Belforte del Chienti",
        debtor_iban=TOWN_IBAN,
        debtor_bic=bic,
        execution_date=date(2026, 4, 8),
        transfers=transfers,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def parse(xml: bytes) -> ET.Element:
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    validate_pain001(xml)
    return ET.fromstring(xml)


def text(root: ET.Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None, path
    return found.text or ""


def test_group_header_and_batch_carry_counts_and_control_sums() -> None:
    root = parse(build_pain001(order(12_345, 5, 100_000_00)))
    assert root.tag == f"{{{NAMESPACE}}}Document"
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId") == "BEL-20260406100000-1"
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm") == "2026-04-06T10:00:00"
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs") == "3"
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum") == "100123.50"
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:InitgPty/p:Nm") == (
        "Comune di Belforte del Chienti"
    )
    batches = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert len(batches) == 1
    batch = batches[0]
    assert text(batch, "p:PmtMtd") == "TRF"
    assert text(batch, "p:BtchBookg") == "true"
    assert text(batch, "p:NbOfTxs") == "3"
    assert text(batch, "p:CtrlSum") == "100123.50"
    assert text(batch, "p:PmtTpInf/p:SvcLvl/p:Cd") == "SEPA"
    assert text(batch, "p:ReqdExctnDt") == "2026-04-08"
    assert text(batch, "p:DbtrAcct/p:Id/p:IBAN") == TOWN_IBAN
    assert text(batch, "p:ChrgBr") == "SLEV"


def test_each_transfer_has_id_amount_creditor_iban_and_remittance() -> None:
    root = parse(build_pain001(order(12_345, 5, 100_000_00)))
    items = root.findall(".//p:CdtTrfTxInf", NS)
    assert [text(i, "p:PmtId/p:EndToEndId") for i in items] == [
        "BEL-R1-S0",
        "BEL-R1-S1",
        "BEL-R1-S2",
    ]
    amounts = [i.find("p:Amt/p:InstdAmt", NS) for i in items]
    assert [a.text for a in amounts if a is not None] == ["123.45", "0.05", "100000.00"]
    assert all(a is not None and a.attrib == {"Ccy": "EUR"} for a in amounts)
    assert [text(i, "p:CdtrAcct/p:Id/p:IBAN") for i in items] == SHOP_IBANS
    assert [text(i, "p:Cdtr/p:Nm") for i in items] == ["Negozio 0", "Negozio 1", "Negozio 2"]
    assert text(items[0], "p:RmtInf/p:Ustrd") == (
        "Buoni spesa Belforte del Chienti rimborso 01/04/2026-06/04/2026"
    )
    assert summarize(build_pain001(order(12_345, 5, 100_000_00))) == (3, 100_000_00 + 12_350)


def test_every_file_here_is_checked_against_the_official_schema() -> None:
    # parse() validates each file these tests build; this one also proves the check is on.
    xml = build_pain001(order(100, 2_00, bic="BPPIITRRXXX"))
    parse(xml)
    assert schema().is_valid(xml)


@pytest.mark.parametrize(
    ("before", "after", "where"),
    [
        # The XSD is a strict sequence: a bank's validator rejects elements out of order.
        (b"<NbOfTxs>1</NbOfTxs>\n      <CtrlSum>1.00</CtrlSum>",
         b"<CtrlSum>1.00</CtrlSum>\n      <NbOfTxs>1</NbOfTxs>", "GrpHdr"),
        (b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>DD</PmtMtd>", "PmtMtd"),
        (b'Ccy="EUR"', b'Ccy="euro"', "InstdAmt"),
        (b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>SLEV</ChrgBr><ChrgBr>SLEV</ChrgBr>", "PmtInf"),
    ],
)  # fmt: skip
def test_the_schema_refuses_what_a_bank_would(before: bytes, after: bytes, where: str) -> None:
    xml = build_pain001(order(1_00))
    assert before in xml
    with pytest.raises(SepaError, match=where):
        validate_pain001(xml.replace(before, after))


def test_debtor_agent_is_the_bic_or_notprovided() -> None:
    without = parse(build_pain001(order(100)))
    assert text(without, ".//p:DbtrAgt/p:FinInstnId/p:Othr/p:Id") == "NOTPROVIDED"
    assert without.find(".//p:DbtrAgt/p:FinInstnId/p:BIC", NS) is None
    with_bic = parse(build_pain001(order(100, bic="bppiitrr xxx")))
    assert text(with_bic, ".//p:DbtrAgt/p:FinInstnId/p:BIC") == "BPPIITRRXXX"
    with pytest.raises(InvalidIdentifier):
        build_pain001(order(100, bic="BPPI1TRR"))


def test_names_are_transliterated_to_the_sepa_character_set() -> None:
    assert sanitize("Città di Forlì — Società Coop. «Bio» & Figli", 70) == (
        "Citta di Forli - Societa Coop. Bio + Figli"
    )
    assert sanitize("Straße Ærø Łódź 北京 €5 ½", 70) == "Strasse AEro Lodz Bei Jing EUR5 1/2"
    assert sanitize("  Dell’Orto\tGiuseppe\n", 70) == "Dell'Orto Giuseppe"
    shop = CreditTransfer("E2E-1", 1_00, "Macelleria Dell’Òrto & C. — ☺", SHOP_IBANS[0], "x")
    root = parse(build_pain001(replace(order(1), transfers=(shop,), debtor_name="Comune di Città")))
    assert text(root, ".//p:Cdtr/p:Nm") == "Macelleria Dell'Orto + C. -"
    assert text(root, ".//p:Dbtr/p:Nm") == "Comune di Citta"


@given(st.text(max_size=300))
def test_sanitised_text_only_uses_the_sepa_set(value: str) -> None:
    clean = sanitize(value, MAX_NAME)
    assert set(clean) <= SEPA_CHARACTERS
    assert len(clean) <= MAX_NAME
    assert clean == clean.strip() and "  " not in clean


def test_whole_file_text_is_in_the_sepa_set() -> None:
    weird = CreditTransfer("E2E-1", 7_77, "Pâtisserie Noël & Sœurs ♥", SHOP_IBANS[1], "Réf ü")
    root = parse(build_pain001(replace(order(1), transfers=(weird,))))
    for element in root.iter():
        assert set(element.text.strip() if element.text else "") <= SEPA_CHARACTERS, element.tag


def test_remittance_keeps_the_period_and_fits_140_characters() -> None:
    long_town = "Comune di " + "Santo Stefano " * 20
    line = remittance_text(long_town, "01/04/2026-30/04/2026")
    assert len(line) <= MAX_REMITTANCE
    assert line.startswith("Buoni spesa Comune di Santo Stefano")
    assert line.endswith(" rimborso 01/04/2026-30/04/2026")


def test_invalid_creditor_iban_is_refused() -> None:
    bad = CreditTransfer("E2E-1", 1_00, "Negozio", "IT60X0542811101000000123457", "x")
    with pytest.raises(InvalidIdentifier) as caught:
        build_pain001(replace(order(1), transfers=(bad,)))
    assert caught.value.kind == "iban"
    assert caught.value.reason == "checksum"


def test_invalid_debtor_iban_is_refused() -> None:
    with pytest.raises(InvalidIdentifier):
        build_pain001(order(1_00, debtor_iban="IT00X0542811101000000123456"))


def test_ibans_are_written_compact() -> None:
    root = parse(build_pain001(order(1_00, debtor_iban="it60 x054 2811 1010 0000 0123 456")))
    assert text(root, ".//p:DbtrAcct/p:Id/p:IBAN") == TOWN_IBAN


@pytest.mark.parametrize("amount", [0, -1, 1_000_000_000_00])
def test_amount_outside_the_sepa_range_is_refused(amount: int) -> None:
    with pytest.raises(SepaError):
        build_pain001(order(amount))


@pytest.mark.parametrize(
    "message_id", ["", "A" * 36, "BEL 1", "/BEL-1", "BEL-1/", "BEL//1", "BEL-1à", "BEL_1"]
)
def test_malformed_references_are_refused(message_id: str) -> None:
    with pytest.raises(SepaError):
        build_pain001(order(1_00, message_id=message_id))


def test_duplicate_end_to_end_ids_and_empty_orders_are_refused() -> None:
    two = order(1_00, 2_00)
    same = (two.transfers[0], replace(two.transfers[1], end_to_end_id="BEL-R1-S0"))
    with pytest.raises(SepaError):
        build_pain001(replace(two, transfers=same))
    with pytest.raises(SepaError):
        build_pain001(order())


def test_other_scripts_are_transliterated_not_dropped() -> None:
    assert sanitize("Alimentari Đặng & Søn — 日本", 70) == "Alimentari Dang + Son - Ri Ben"
    assert sanitize("Αλφα Μάρκετ", 70) == "Alpha Market"
    assert sanitize("Продукты Ольга", 70) == "Produkty Ol'ga"
    assert sepa_name("日本") == "Ri Ben"
    shop = CreditTransfer("E2E-1", 1_00, "日本", SHOP_IBANS[0], "x")
    root = parse(build_pain001(replace(order(1), transfers=(shop,))))
    assert text(root, ".//p:Cdtr/p:Nm") == "Ri Ben"


@pytest.mark.parametrize("name", ["🍞🥖", "☺ ♥", "@#*", ""])
def test_a_name_with_nothing_sepa_can_write_is_refused(name: str) -> None:
    assert sepa_name(name) is None
    with pytest.raises(SepaError):
        build_pain001(replace(order(1), debtor_name=name))


@given(st.lists(st.integers(min_value=1, max_value=MAX_AMOUNT_CENTS), min_size=1, max_size=30))
def test_counts_and_sums_match_the_transfers(amounts: list[int]) -> None:
    root = parse(build_pain001(order(*amounts)))
    written = [
        element.text or "" for element in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)
    ]
    for value, cents in zip(written, amounts, strict=True):
        whole, _, decimals = value.partition(".")
        assert len(decimals) == 2 and int(whole) * 100 + int(decimals) == cents
    total = sum(amounts)
    assert (
        text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum") == f"{total // 100}.{total % 100:02d}"
    )
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs") == str(len(amounts))
    assert summarize(build_pain001(order(*amounts))) == (len(amounts), total)
