"""The office's sign-in lock-out with device cookies, on SQLite and PostgreSQL: a browser
that signed in before counts its wrong passwords alone; all others count together."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.domain import device_cookies
from core.domain.errors import DomainError
from core.domain.keys import ServerKeys, new_secret
from core.services import operators
from core.storage import models as m
from tests.conftest import FakeClock

PASSWORD = "correct horse battery"
WRONG = operators.MAX_FAILED_SIGN_INS


@pytest.fixture
async def manager(core: Core) -> str:
    async with core.uow() as uow:
        town = m.Municipality(code="BEL", name="Belforte", policy_toml="", created_at=core.now())
        uow.add(town)
        await uow.flush()
        for username in ("bel.manager", "bel.clerk"):
            await operators.add_operator(
                uow, town, username, "manager", core.now(), password=PASSWORD
            )
        await uow.commit()
    return "bel.manager"


async def attempt(core: Core, username: str, password: str, cookie: str | None = None) -> str:
    """What the sign-in answers: "ok", or the refusal's code."""
    async with core.uow() as uow:
        try:
            await operators.sign_in(uow, username, password, core.now(), device_cookie=cookie)
        except DomainError as refusal:
            return refusal.code
    return "ok"


async def cookie_of(core: Core, username: str, cookie: str | None = None) -> str:
    """The device cookie a browser gets by signing in as `username`."""
    async with core.uow() as uow:
        signed_in = await operators.sign_in(
            uow, username, PASSWORD, core.now(), device_cookie=cookie
        )
    return signed_in.device_cookie


async def lock_out_strangers(core: Core, username: str) -> None:
    answers = [await attempt(core, username, "guess") for _ in range(WRONG)]
    assert answers == ["operator.sign_in_refused"] * (WRONG - 1) + ["operator.locked"]
    assert await attempt(core, username, PASSWORD) == "operator.locked"


async def actions(core: Core) -> list[str]:
    async with core.uow() as uow:
        found = await uow.session.scalars(select(m.ActivityEntry.action).order_by("id"))
        return list(found)


async def test_strangers_locked_out_do_not_lock_out_the_known_browser(
    core: Core, manager: str, clock: FakeClock
) -> None:
    office_pc = await cookie_of(core, manager)
    await lock_out_strangers(core, manager)
    assert await attempt(core, manager, PASSWORD, office_pc) == "ok"
    # The strangers stay locked for the quarter of an hour, however the manager signs in.
    assert await attempt(core, manager, PASSWORD) == "operator.locked"
    clock.advance(minutes=operators.LOCK_MINUTES, seconds=1)
    assert await attempt(core, manager, PASSWORD) == "ok"
    assert "operator.locked" in await actions(core)


async def test_five_wrong_passwords_with_the_cookie_lock_that_browser_only(
    core: Core, manager: str, clock: FakeClock
) -> None:
    office_pc = await cookie_of(core, manager)
    laptop = await cookie_of(core, manager)
    answers = [await attempt(core, manager, "guess", office_pc) for _ in range(WRONG)]
    assert answers[-1] == "operator.locked" and set(answers[:-1]) == {"operator.sign_in_refused"}
    assert await attempt(core, manager, PASSWORD, office_pc) == "operator.locked"
    assert await attempt(core, manager, PASSWORD, laptop) == "ok"
    assert await attempt(core, manager, PASSWORD) == "ok"  # nor the unknown browsers
    assert (await actions(core)).count("operator.device_locked") == 1
    clock.advance(minutes=operators.LOCK_MINUTES, seconds=1)
    assert await attempt(core, manager, PASSWORD, office_pc) == "ok"


async def test_a_success_with_the_cookie_starts_its_count_again(core: Core, manager: str) -> None:
    office_pc = await cookie_of(core, manager)
    for _ in range(WRONG - 1):
        assert await attempt(core, manager, "guess", office_pc) == "operator.sign_in_refused"
    office_pc = await cookie_of(core, manager, office_pc)
    for _ in range(WRONG - 1):
        assert await attempt(core, manager, "guess", office_pc) == "operator.sign_in_refused"
    assert await attempt(core, manager, PASSWORD, office_pc) == "ok"


async def test_a_forged_or_altered_cookie_counts_as_an_unknown_browser(
    core: Core, manager: str
) -> None:
    office_pc = await cookie_of(core, manager)
    username, nonce, signature = office_pc.split(":")
    altered = f"{username}:{nonce[:-1]}{'A' if nonce[-1] != 'A' else 'B'}:{signature}"
    forged = f"{username}:{nonce}:{'x' * len(signature)}"
    other_secret = device_cookies.renewed(ServerKeys(new_secret()), None, manager)
    await lock_out_strangers(core, manager)
    for cookie in (altered, forged, other_secret, "junk", f"{office_pc}x", ""):
        assert await attempt(core, manager, PASSWORD, cookie) == "operator.locked", cookie
    assert await attempt(core, manager, PASSWORD, office_pc) == "ok"


async def test_a_cookie_of_another_username_is_an_unknown_browser(core: Core, manager: str) -> None:
    clerk_pc = await cookie_of(core, "bel.clerk")
    await lock_out_strangers(core, manager)
    assert await attempt(core, manager, PASSWORD, clerk_pc) == "operator.locked"
    # Its wrong passwords were counted as a stranger's, not as the clerk's browser's.
    assert await attempt(core, "bel.clerk", PASSWORD, clerk_pc) == "ok"


async def test_one_browser_remembers_the_operators_who_share_it(core: Core, manager: str) -> None:
    shared_pc = await cookie_of(core, manager)
    shared_pc = await cookie_of(core, "bel.clerk", shared_pc)
    await lock_out_strangers(core, manager)
    await lock_out_strangers(core, "bel.clerk")
    assert await attempt(core, manager, PASSWORD, shared_pc) == "ok"
    assert await attempt(core, "bel.clerk", PASSWORD, shared_pc) == "ok"


async def test_unlock_lifts_every_lock_of_the_account(core: Core, manager: str) -> None:
    office_pc = await cookie_of(core, manager)
    for _ in range(WRONG):
        await attempt(core, manager, "guess", office_pc)
    await lock_out_strangers(core, manager)
    assert await attempt(core, manager, PASSWORD, office_pc) == "operator.locked"
    async with core.uow() as uow:
        town = await uow.municipalities.by_code("BEL")
        assert town is not None
        await operators.unlock(uow, town, manager, core.now(), "cli:mario")
        await uow.commit()
    assert await attempt(core, manager, PASSWORD, office_pc) == "ok"
    assert await attempt(core, manager, PASSWORD) == "ok"
    async with core.uow() as uow:
        entry = await uow.session.scalar(
            select(m.ActivityEntry).where(m.ActivityEntry.action == "operator.unlock")
        )
        assert entry is not None and entry.before is not None
        assert entry.before["locked_browsers"] == 1 and entry.before["locked_until"] is not None
        assert list(await uow.session.scalars(select(m.OperatorDevice))) == []
