from __future__ import annotations

import pytest
from stdnum.it import codicefiscale

from core.domain.errors import InvalidIdentifier
from core.domain.identity import (
    codice_fiscale_forms,
    codice_fiscale_in,
    codice_fiscale_person_key,
    mask_phone,
    normalize_codice_fiscale,
    normalize_iban,
    normalize_partita_iva,
    normalize_phone,
)


def test_codice_fiscale_normalised_and_checked() -> None:
    assert normalize_codice_fiscale(" rssmra85t10a562s ") == "RSSMRA85T10A562S"
    # Omocodia: digits replaced by letters are still a valid code.
    assert normalize_codice_fiscale("RSSMRA85T10A56NH") == "RSSMRA85T10A56NH"
    with pytest.raises(InvalidIdentifier) as error:
        normalize_codice_fiscale("RSSMRA85T10A562X")
    assert error.value.code == "codice_fiscale.checksum"
    with pytest.raises(InvalidIdentifier) as error:
        normalize_codice_fiscale("RSSMRA85")
    assert error.value.code == "codice_fiscale.length"


# Rossi of the demo town, and his code written with omocodia as the trial's attacker
# wrote it (the place's last digit 9 as V, the check letter computed again), and with
# every digit as its letter: all valid codes, all Rossi's person key.
ROSSI = "RSSMRA85T10A739J"
OMOCODES = ("RSSMRA85T10A73VY", "RSSMRAURTMLATPVE", "RSSMRA85T1LA739M")


@pytest.mark.parametrize("omocode", OMOCODES)
def test_an_omocode_folds_to_the_person_key_of_its_base_code(omocode: str) -> None:
    assert normalize_codice_fiscale(omocode.lower()) == omocode  # stdnum: valid
    assert codice_fiscale_person_key(omocode) == "RSSMRA85T10A739"
    assert codice_fiscale_person_key(ROSSI) == "RSSMRA85T10A739"


def test_the_person_key_keeps_the_letters_of_names_month_and_place() -> None:
    # Surname, name, month (T), place (A, L...) are letters of the code, not omocodia:
    # only the seven digit positions fold. LMNPQR... in the name stay what they are.
    stem = "LMNPQR85T10L739"  # a surname and name made of omocodia letters, place L739
    code = stem + codicefiscale.calc_check_digit(stem)
    assert normalize_codice_fiscale(code) == code
    assert codice_fiscale_person_key(code) == stem
    folded = "LMNPQRURTMLLTPV"
    assert codice_fiscale_person_key(folded + codicefiscale.calc_check_digit(folded)) == stem
    # Two different people (another name, another month) keep different keys.
    assert codice_fiscale_person_key("RSSMRA85A10A739W") != codice_fiscale_person_key(ROSSI)
    assert codice_fiscale_person_key("RSSMRB85T10A739") != codice_fiscale_person_key(ROSSI)


def test_the_forms_of_a_code_are_its_128_valid_omocodic_spellings() -> None:
    forms = codice_fiscale_forms(OMOCODES[0])
    assert len(set(forms)) == 128
    assert {ROSSI, *OMOCODES} <= set(forms)
    assert all(codicefiscale.is_valid(form) for form in forms)
    assert {codice_fiscale_person_key(form) for form in forms} == {"RSSMRA85T10A739"}


@pytest.mark.parametrize(
    "text",
    [
        "RSS MRA 85T10 A562S",
        "il mio codice fiscale è rssmra85t10a562s",
        "CF: RSSMRA85T10A562S, grazie",
        "RSSMRA85T10A562S RSSMRA85T10A562S",
    ],
)
def test_the_codice_fiscale_of_a_sentence(text: str) -> None:
    assert codice_fiscale_in(text) == "RSSMRA85T10A562S"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("il mio codice fiscale è rssmra85t10a562x", "codice_fiscale.checksum"),
        ("RSSMRA85T10A562S oppure BNCGNN40A01A739E", "codice_fiscale.length"),
        ("buongiorno", "codice_fiscale.length"),
    ],
)
def test_no_codice_fiscale_in_a_sentence(text: str, code: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        codice_fiscale_in(text)
    assert error.value.code == code


def test_partita_iva_and_iban() -> None:
    assert normalize_partita_iva("IT 00743110157") == "00743110157"
    with pytest.raises(InvalidIdentifier):
        normalize_partita_iva("00743110158")
    assert normalize_iban("IT60 X054 2811 1010 0000 0123 456") == "IT60X0542811101000000123456"
    with pytest.raises(InvalidIdentifier):
        normalize_iban("IT61X0542811101000000123456")


@pytest.mark.parametrize("typed", ["si", "sì", "ok", "no", "non lo so", "IBAN", "boh"])
def test_words_without_a_digit_are_no_iban_not_wrong_check_digits(typed: str) -> None:
    # "si" at the IBAN question was told its check digits did not add up.
    with pytest.raises(InvalidIdentifier) as refused:
        normalize_iban(typed)
    assert refused.value.reason == "format"


def test_an_iban_with_a_wrong_digit_is_still_told_its_check_digits() -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        normalize_iban("it60 x054 2811 1010 0000 0123 457")
    assert refused.value.reason == "checksum"


@pytest.mark.parametrize("raw", ["333 123 4567", "+39 333 1234567", "0039 3331234567"])
def test_phone_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+393331234567"


def test_bad_phone_and_mask() -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_phone("12")
    assert mask_phone("+393331234567").endswith("567")
    assert "1234" not in mask_phone("+393331234567")
