"""`admin shops refusals` lists the payments customers refused as "not me", the newest first
(when, the shop, the amount, the till that asked, as `admin shops members` shows a chat:
its last three digits, and how the customer wrote and whether she confirmed it), for the
town or for one shop; `admin shops list` counts them per shop, confirmed and not apart.
The office's Shops page shows the same refusals (tests/office/test_not_me_refusals)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.bootstrap import open_core
from core.domain.shops import ShopCategory
from core.services import charges, security, shops
from tests.cli_runner import invoke
from tests.factories import make_partita_iva, make_town

TILL = "+393337654321"


@pytest.fixture
def town(database_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """TST with two shops: the first saw a 12,50 € refusal two hours ago (by SMS) and a
    7,00 € one an hour ago (by Telegram), the second none; a 3,00 € payment cancelled
    with a plain ANNULLA is no refusal. The office reads English."""
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")

    async def build() -> tuple[int, int]:
        core = await open_core(database_url)
        made = await make_town(core, citizens=3)
        now = core.now()
        async with core.uow() as uow:
            other = await shops.register_shop(
                uow,
                made.municipality_id,
                shops.ShopInput(
                    "Forno Bianchi",
                    make_partita_iva(2),
                    ShopCategory.BAKERY,
                    "Via Roma 2",
                    "Testville",
                    "62020",
                    None,
                    None,
                    "IT60X0542811101000000123456",
                ),
                owner_channel="sms",
                owner_address="+393338888888",
                now=now,
            )
            await uow.commit()
        # Refused by SMS (the challenge never came back: not confirmed), on Telegram
        # (confirmed at once), and by SMS with a plain ANNULLA.
        for index, (cents, till, ago, not_me, channel) in enumerate(
            [
                (12_50, f"sms:{TILL}", 2, True, "sms"),
                (7_00, "telegram:555000111", 1, True, "telegram"),
                (3_00, f"sms:{TILL}", 0, False, "sms"),
            ]
        ):
            async with core.uow() as uow:
                asked = await charges.request_charge(
                    uow,
                    shop_id=made.shop_id,
                    citizen_reference=made.citizen_cfs[index],
                    amount_cents=cents,
                    requested_by=till,
                    now=now - timedelta(hours=ago),
                )
                assert await charges.refuse_charge(
                    uow,
                    charge_id=asked.charge_id,
                    citizen_id=made.citizen_ids[index],
                    now=now - timedelta(hours=ago),
                    not_me=not_me,
                    channel=channel,
                    challenge=security.not_me_challenge(core.keys, channel),
                )
                await uow.commit()
        await core.close()
        return made.shop_id, other.id

    return asyncio.run(build())


def rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if "€" in line]


def test_refusals_are_listed_newest_first_with_the_till_masked(town: tuple[int, int]) -> None:
    code, output = invoke("admin", "shops", "refusals", "TST")
    assert code == 0, output
    newest, oldest = rows(output)
    assert "€7.00" in newest and "Telegram ***111" in newest
    assert "Telegram: confirmed by the customer" in newest
    assert "€12.50" in oldest and "SMS ***321" in oldest
    assert "SMS: not confirmed" in oldest
    assert "€3.00" not in output  # a plain ANNULLA
    assert TILL not in output and "555000111" not in output
    assert "Asked from" in output


def test_refusals_of_one_shop(town: tuple[int, int]) -> None:
    refused, quiet = town
    code, output = invoke("admin", "shops", "refusals", "TST", str(refused))
    assert code == 0 and len(rows(output)) == 2, output
    code, output = invoke("admin", "shops", "refusals", "TST", make_partita_iva(2))  # by P.IVA
    assert code == 0, output
    assert 'No payment was refused as "not me".' in output and not rows(output)
    code, output = invoke("admin", "shops", "refusals", "TST", str(quiet + 100))
    assert code == 2 and "€" not in output, output


def test_the_list_of_shops_counts_them(town: tuple[int, int]) -> None:
    code, output = invoke("admin", "shops", "list", "TST")
    assert code == 0, output
    assert '"Not me"' in output
    lines = output.splitlines()
    refused = next(x for x in lines if "Alimentari Test" in x)
    bianchi = next(x for x in lines if "Forno Bianchi" in x)
    # The confirmed and the not confirmed apart, in the last two columns; blank for none.
    assert '"Not me" not confirmed' in output
    cells = [cell.strip() for cell in refused.strip(" │").split("│")]
    assert cells[-2:] == ["1", "1"], refused
    assert bianchi.rstrip(" │").endswith("│ no"), bianchi
