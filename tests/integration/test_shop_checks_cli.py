"""`buonispesa admin shops approve|refuse|unlock|lookups` and the server secret, end to end
on a SQLite file (the services under them run on both databases elsewhere)."""

from __future__ import annotations

import asyncio
import re
import stat
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from buonispesa.settings import Settings
from core.bootstrap import Core, open_core
from core.domain.errors import NotFound
from core.domain.shops import ShopCategory
from core.services import charges, security
from core.services.outbox import reply_of
from core.services.shops import ShopInput, register_shop
from core.storage import models as m
from core.storage.secret_file import SECRET_FILE
from tests.cli_runner import invoke
from tests.factories import make_cf, make_partita_iva, make_town

OWNER = "+393338887777"


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"sqlite+aiosqlite:///{tmp_path / 'shops.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", value)
    monkeypatch.delenv("BUONISPESA_SECRET_KEY", raising=False)
    return value


T = TypeVar("T")


def run(url: str, work: Callable[[Core], Awaitable[T]]) -> T:
    async def go() -> T:
        core = await open_core(url)
        try:
            return await work(core)
        finally:
            await core.close()

    return asyncio.run(go())


async def pending_shop(core: Core) -> int:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        shop = await register_shop(
            uow,
            town.municipality_id,
            ShopInput(
                "Forno Nuovo",
                make_partita_iva(42),
                ShopCategory.BAKERY,
                "Via Roma 2",
                "Testville",
                "62020",
                None,
                None,
                "IT40S0542811101000000123456",
            ),
            owner_channel="sms",
            owner_address=OWNER,
            now=core.now(),
        )
        await uow.commit()
        return shop.id


async def notices_to_owner(core: Core) -> list[str]:
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("sms", OWNER)
        return [reply_of(uow.keys, row).texts[0].msgid for row in rows]


def test_the_owner_is_told_of_a_refusal_and_of_an_approval(url: str) -> None:
    shop_id = run(url, pending_shop)
    code, output = invoke("admin", "shops", "refuse", "TST", str(shop_id), "--reason", "")
    assert code == 2 and "Write the reason for the refusal." in output
    code, output = invoke("admin", "shops", "refuse", "TST", str(shop_id), "--reason", "x" * 61)
    assert code == 2 and "at most 60 characters" in output
    code, output = invoke(
        "admin", "shops", "refuse", "TST", str(shop_id), "--reason", "IBAN non intestato"
    )
    assert code == 0 and f"Shop {shop_id} (Forno Nuovo) refused." in output
    code, output = invoke("admin", "shops", "approve", "TST", str(shop_id))
    assert code == 0, output
    assert run(url, notices_to_owner) == [
        "The municipality did not approve {shop}. Reason: {reason}",
        "The municipality approved {shop}: you can charge vouchers now. Write PAGA.",
    ]


def test_the_office_unlocks_a_shop_by_partita_iva_and_it_is_recorded(url: str) -> None:
    async def block(core: Core) -> int:
        town = await make_town(core, citizens=1)
        async with core.uow() as uow:
            shop = await uow.shops.by_id(town.shop_id)
            assert shop is not None
            shop.blocked_at = core.now()
            await uow.commit()
        return town.shop_id

    shop_id = run(url, block)
    code, output = invoke("admin", "shops", "unlock", "TST", "99999")
    assert code == 2 and "There is no shop 99999" in output
    code, output = invoke("admin", "shops", "unlock", "TST", make_partita_iva(1))
    assert code == 0 and f"Shop {shop_id} (Alimentari Test) unlocked" in output

    async def check(core: Core) -> tuple[datetime | None, list[m.SecurityEvent]]:
        async with core.uow() as uow:
            shop = await uow.shops.by_id(shop_id)
            assert shop is not None
            events = (await uow.session.scalars(select(m.SecurityEvent))).all()
            return shop.blocked_at, list(events)

    blocked_at, events = run(url, check)
    assert blocked_at is None
    assert [(x.kind, x.shop_id) for x in events] == [(security.SHOP_UNLOCKED, shop_id)]
    assert events[0].detail


def test_unlocking_a_shop_that_is_not_locked_says_so_and_changes_nothing(url: str) -> None:
    async def three_wrong_codes(core: Core) -> int:
        town = await make_town(core, citizens=1)
        async with core.uow() as uow:
            for _ in range(3):  # under the lock's 5: not locked, the count goes on
                await security.record(
                    uow,
                    security.WRONG_PAYMENT_CODE,
                    core.now(),
                    municipality_id=town.municipality_id,
                    shop_id=town.shop_id,
                )
            await uow.commit()
        return town.shop_id

    shop_id = run(url, three_wrong_codes)
    code, output = invoke("admin", "shops", "unlock", "TST", str(shop_id), "--by", "anna")
    assert code == 2, output
    assert f"Shop {shop_id} (Alimentari Test) is not locked: nothing was changed" in output
    assert "unlocked" not in output and "shop.not_locked" in output

    async def state(core: Core) -> tuple[int, list[str], list[str]]:
        async with core.uow() as uow:
            events = (await uow.session.scalars(select(m.SecurityEvent))).all()
            entries = (await uow.session.scalars(select(m.ActivityEntry))).all()
            return (
                await security.wrong_codes_of_shop(uow, shop_id, core.now()),
                [x.kind for x in events if x.kind != security.WRONG_PAYMENT_CODE],
                [x.action for x in entries if x.action == "shop.unlock"],
            )

    # Nothing recorded: the count of wrong codes was not restarted, no unlock was logged.
    assert run(url, state) == (3, [], [])


def test_piped_tables_are_not_cut_at_80_columns(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")
    run(url, lambda core: make_town(core, citizens=1))
    code, output = invoke("admin", "shops", "list", "TST")
    assert code == 0, output
    [line] = [x for x in output.splitlines() if "Alimentari Test" in x]
    # One line per shop, every column whole: nothing cut ("…") or folded.
    assert make_partita_iva(1) in line and "approved" in line and "…" not in line
    assert len(line) > 80
    # An explicit width is obeyed.
    monkeypatch.setenv("COLUMNS", "60")
    code, output = invoke("admin", "shops", "list", "TST")
    assert max(len(x) for x in output.splitlines()) <= 60


def test_a_locked_shop_shows_in_lookups_and_list_and_its_unlock_is_logged(url: str) -> None:
    async def lock(core: Core) -> int:
        town = await make_town(core, citizens=1)
        async with core.uow() as uow:
            shop = await uow.shops.by_id(town.shop_id)
            assert shop is not None
            shop.locked_until = core.now() + timedelta(minutes=30)
            for _ in range(5):  # no lookup miss at all: listed all the same
                await security.record(
                    uow,
                    security.WRONG_PAYMENT_CODE,
                    core.now(),
                    municipality_id=town.municipality_id,
                    shop_id=shop.id,
                )
            await uow.commit()
        return town.shop_id

    shop_id = run(url, lock)
    for command in ("lookups", "list"):
        code, output = invoke("admin", "shops", command, "TST")
        assert code == 0, output
        line = next(x for x in output.splitlines() if "Alimentari Test" in x)
        assert "(5 wrong codes)" in line and "until " in line, output
    code, output = invoke("admin", "shops", "unlock", "TST", str(shop_id), "--by", "anna")
    assert code == 0, output

    async def logged(core: Core) -> list[tuple[str, str]]:
        async with core.uow() as uow:
            entries = (await uow.session.scalars(select(m.ActivityEntry))).all()
            return [(x.action, x.actor) for x in entries]

    assert ("shop.unlock", "anna") in run(url, logged)
    code, output = invoke("admin", "shops", "lookups", "TST")
    assert "Alimentari Test" not in output


def test_lookups_that_found_nobody_are_listed(url: str) -> None:
    async def fish(core: Core) -> None:
        town = await make_town(core, citizens=1)
        for index in range(3):
            async with core.uow() as uow:
                with pytest.raises(NotFound):
                    await charges.request_charge(
                        uow,
                        shop_id=town.shop_id,
                        citizen_reference=make_cf(700 + index),
                        amount_cents=1_00,
                        requested_by="test",
                        now=core.now(),
                    )
                await uow.commit()
        # And a number flooded with confirmation codes it never typed back.
        async with core.uow() as uow:
            for index in range(security.CODES_PER_HOUR):
                await security.code_sent(
                    uow,
                    "sms",
                    "+393471112233",
                    "apply",
                    core.now(),
                    salt="s" * 32,
                    code_hash=f"{index:064d}",
                    municipality_id=town.municipality_id,
                )
            await uow.commit()

    code, output = invoke("admin", "shops", "lookups", "TST")
    assert code == 2  # no such municipality yet
    run(url, fish)
    code, output = invoke("admin", "shops", "lookups", "TST")
    assert code == 0, output
    assert "Alimentari Test" in output and " 3 " in output
    assert "1 number cannot be sent a confirmation code now" in output, output


def test_the_secret_is_generated_once_next_to_the_database_readable_by_owner_only(
    url: str, tmp_path: Path
) -> None:
    async def keys(core: Core) -> bytes:
        return core.keys.secret

    first = run(url, keys)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run(url, keys) == first  # the same secret at the next start


def test_a_secret_from_the_environment_is_used_and_checked(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "ab" * 32)
    assert Settings(_env_file=None).secret_bytes() == bytes.fromhex("ab" * 32)
    code, _ = invoke("admin", "municipality", "list")
    assert code == 0 and not (tmp_path / SECRET_FILE).exists()
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "too-short")
    code, output = invoke("admin", "municipality", "list")
    assert code == 2 and "BUONISPESA_SECRET_KEY" in output


def test_the_office_lists_and_removes_a_cashier_and_it_is_logged(url: str) -> None:
    cashier = "+393339990050"

    async def staff(core: Core) -> tuple[int, int, int]:
        town = await make_town(core, citizens=1)
        async with core.uow() as uow:
            member = m.ShopMember(
                shop_id=town.shop_id,
                channel="sms",
                address=cashier,
                role="cashier",
                created_at=core.now(),
            )
            uow.add(member)
            await uow.flush()
            owner = next(x for x in await uow.shops.members_of(town.shop_id) if x.role == "owner")
            await uow.commit()
            return town.shop_id, member.id, owner.id

    shop_id, member_id, owner_id = run(url, staff)
    code, output = invoke("admin", "shops", "members", "TST", make_partita_iva(1))
    assert code == 0 and "SMS ***050" in output and cashier not in output

    def joined_on(word: str) -> str:
        """When the row naming `word` joined, as the list shows it (with the seconds)."""
        [row] = [x for x in output.splitlines() if word in x]
        since = re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", row)
        assert since is not None, output
        return since.group(0)

    joined, owner_joined = joined_on("***050"), joined_on("owner")
    remove = ("admin", "shops", "remove-member", "TST", str(shop_id))
    code, output = invoke(*remove, str(owner_id), "--since", owner_joined)
    assert code == 2 and "The owner of a shop cannot be removed" in output
    code, output = invoke(*remove, "99999", "--since", joined)
    assert code == 2 and "This shop has no member 99999" in output
    code, output = invoke(*remove, str(member_id))
    assert code == 2 and "--since" in output
    code, output = invoke(*remove, str(member_id), "--since", "yesterday")
    assert code == 2 and "Write --since as 'admin shops members' shows it" in output
    code, output = invoke(*remove, str(member_id), "--since", "01/01/2026 10:00:00")
    assert code == 2 and f"Member {member_id} is now SMS ***050, who joined on {joined}" in output
    assert "Nothing was done" in output
    code, output = invoke(*remove, str(member_id), "--since", joined, "--by", "anna")
    assert code == 0, output
    assert "SMS ***050 no longer works for Alimentari Test; 0 payments" in output

    async def check(core: Core) -> tuple[list[str], list[m.ActivityEntry], list[str]]:
        async with core.uow() as uow:
            left = [x.address for x in await uow.shops.members_of(shop_id)]
            log = (
                await uow.session.scalars(
                    select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.member_remove")
                )
            ).all()
            told = [
                reply_of(uow.keys, row).texts[0].msgid
                for row in await uow.outbox.for_address("sms", cashier)
            ]
            return left, list(log), told

    left, log, told = run(url, check)
    assert cashier not in left and len(left) == 1
    assert [(x.actor, x.subject) for x in log] == [("cli:anna", f"{shop_id} Alimentari Test")]
    assert told == [
        "You no longer work for {shop}: this chat can no longer charge, refund or see its "
        "statement."
    ]


def test_the_list_names_a_status_in_the_offices_words_and_filters_by_either(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Italian office read "pending" in its table; it reads "da esaminare", and
    `--status` takes the word it reads as well as the documented code."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    run(url, pending_shop)
    code, output = invoke("admin", "shops", "list", "TST")
    assert code == 0, output
    [waiting] = [x for x in output.splitlines() if "Forno Nuovo" in x]
    assert "da esaminare" in waiting and "pending" not in waiting
    [approved] = [x for x in output.splitlines() if "Alimentari Test" in x]
    assert "approvato" in approved
    for typed in ("pending", "da esaminare", "Da Esaminare"):
        code, output = invoke("admin", "shops", "list", "TST", "--status", typed)
        assert code == 0, output
        assert "Forno Nuovo" in output and "Alimentari Test" not in output, typed


def test_a_rename_or_an_approval_under_another_shops_name_is_refused(url: str) -> None:
    """`admin shops rename` and `admin shops approve` ask the shops service, which refuses
    the name of another shop of the town (case and spaces aside) and says why."""
    shop_id = run(url, pending_shop)  # "Forno Nuovo", waiting; make_town's "Alimentari Test"
    code, output = invoke("admin", "shops", "rename", "TST", str(shop_id), "ALIMENTARI  test")
    assert code == 2 and "There is already a shop called Alimentari Test" in output, output
    assert '"Alimentari Test via Roma"' in output
    code, output = invoke("admin", "shops", "approve", "TST", str(shop_id))
    assert code == 0, output
    code, output = invoke("admin", "shops", "rename", "TST", str(shop_id), "Forno Nuovo Est")
    assert code == 0 and "Forno Nuovo is now Forno Nuovo Est" in output, output
