"""README's table of the demo's people names each demo household and shop as seeded."""

from __future__ import annotations

from pathlib import Path

from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_demo_household_and_shop_as_seeded() -> None:
    rows = [line for line in README.read_text("utf-8").splitlines() if line.startswith("| ")]
    for citizen in DEMO_CITIZENS:
        assert any(f"`{citizen.codice_fiscale}`" in row and citizen.phone in row for row in rows), (
            citizen.codice_fiscale
        )
    for name, *_, phone in DEMO_SHOPS:
        assert any(f"{name}, {phone}" in row for row in rows), name
