"""The office's session store, on SQLite and PostgreSQL: sessions start at sign-in, end at
sign-out, password change and disabling, expire idle or at their lifetime, and expired rows
go away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import DomainError
from core.services import office_sessions, operators
from core.services.office_sessions import Ended, SessionRules
from core.storage import models as m
from tests.conftest import FakeClock

PASSWORD = "correct horse battery"
RULES = SessionRules(idle=timedelta(minutes=30), lifetime=timedelta(hours=10))


@pytest.fixture
async def town(core: Core) -> m.Municipality:
    async with core.uow() as uow:
        town = m.Municipality(
            code="BEL", name="Comune di Belforte del Chienti", policy_toml="", created_at=core.now()
        )
        uow.add(town)
        await uow.flush()
        for username in ("bel.clerk", "bel.manager"):
            await operators.add_operator(
                uow, town, username, "clerk", core.now(), password=PASSWORD
            )
        await uow.commit()
    return town


async def operator_id(core: Core, username: str) -> int:
    async with core.uow() as uow:
        found = await uow.operators.by_username(username)
        assert found is not None
        return found.id


async def start(core: Core, username: str) -> str:
    operator = await operator_id(core, username)
    async with core.uow() as uow:
        token = await office_sessions.start(uow, operator, core.now(), RULES)
        await uow.commit()
    return token


async def resume(core: Core, token: str) -> str:
    """Whose session the token is, or why it signs nobody in."""
    async with core.uow() as uow:
        found = await office_sessions.resume(uow, token, core.now(), RULES)
    return found.username if isinstance(found, m.Operator) else found.value


async def rows(core: Core) -> int:
    async with core.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count()).select_from(m.OperatorSession)) or 0
        )


async def test_only_the_token_hash_is_stored_and_sign_out_ends_that_session_only(
    core: Core, town: m.Municipality
) -> None:
    desk = await start(core, "bel.clerk")
    other_desk = await start(core, "bel.clerk")
    async with core.uow() as uow:
        stored = list(await uow.session.scalars(select(m.OperatorSession.token_hash)))
    assert desk not in stored and office_sessions.token_hash(desk) in stored
    assert await resume(core, desk) == "bel.clerk"
    async with core.uow() as uow:
        await office_sessions.end(uow, desk)
    assert await resume(core, desk) == Ended.ENDED
    assert await resume(core, other_desk) == "bel.clerk"  # the operator's other desk
    assert await resume(core, "forged-token") == Ended.ENDED


async def test_idle_for_the_timeout_ends_the_session_and_deletes_its_row(
    core: Core, town: m.Municipality, clock: FakeClock
) -> None:
    token = await start(core, "bel.clerk")
    clock.advance(minutes=29)
    assert await resume(core, token) == "bel.clerk"  # a request moves the deadline on
    clock.advance(minutes=29)
    assert await resume(core, token) == "bel.clerk"
    clock.advance(minutes=30)
    assert await resume(core, token) == Ended.IDLE
    assert await rows(core) == 0
    assert await resume(core, token) == Ended.ENDED


async def test_the_lifetime_ends_a_session_in_use(
    core: Core, town: m.Municipality, clock: FakeClock
) -> None:
    token = await start(core, "bel.clerk")
    for _ in range(10 * 3 - 1):  # a request every 20 minutes for almost 10 hours
        clock.advance(minutes=20)
        assert await resume(core, token) == "bel.clerk"
    clock.advance(minutes=20)
    assert await resume(core, token) == Ended.LIFETIME
    assert await rows(core) == 0


async def test_a_sign_in_deletes_every_expired_session(
    core: Core, town: m.Municipality, clock: FakeClock
) -> None:
    await start(core, "bel.clerk")
    await start(core, "bel.manager")
    clock.advance(minutes=31)
    fresh = await start(core, "bel.manager")
    assert await rows(core) == 1
    assert await resume(core, fresh) == "bel.manager"


async def test_a_password_change_ends_every_session_of_the_operator_only(
    core: Core, town: m.Municipality
) -> None:
    first, second = await start(core, "bel.clerk"), await start(core, "bel.clerk")
    manager = await start(core, "bel.manager")
    clerk = await operator_id(core, "bel.clerk")
    async with core.uow() as uow:
        await operators.change_password(uow, clerk, PASSWORD, "quiet river under stone", core.now())
    assert await resume(core, first) == await resume(core, second) == Ended.ENDED
    assert await resume(core, manager) == "bel.manager"


async def test_disabling_ends_the_sessions_and_the_sign_in_until_enabled(
    core: Core, town: m.Municipality
) -> None:
    token = await start(core, "bel.clerk")
    async with core.uow() as uow:
        _, ended = await operators.disable(uow, town, "bel.clerk", core.now(), "cli:admin")
        await uow.commit()
    assert ended == 1
    assert await resume(core, token) == Ended.ENDED
    async with core.uow() as uow:
        with pytest.raises(DomainError) as refused:
            await operators.sign_in(uow, "bel.clerk", PASSWORD, core.now())
    assert refused.value.code == "operator.sign_in_refused"
    async with core.uow() as uow:
        with pytest.raises(DomainError) as again:
            await operators.disable(uow, town, "bel.clerk", core.now(), "cli:admin")
    assert again.value.code == "operator.disabled"
    async with core.uow() as uow:
        await operators.enable(uow, town, "bel.clerk", core.now(), "cli:admin")
        await uow.commit()
    async with core.uow() as uow:
        signed_in = await operators.sign_in(uow, "bel.clerk", PASSWORD, core.now())
    assert signed_in.operator.username == "bel.clerk"
    async with core.uow() as uow:
        logged = list(
            await uow.session.scalars(
                select(m.ActivityEntry.action).where(m.ActivityEntry.subject == "bel.clerk")
            )
        )
    assert "operator.disable" in logged and "operator.enable" in logged


async def test_a_session_row_of_a_disabled_operator_signs_nobody_in(
    core: Core, town: m.Municipality
) -> None:
    """Even a row left behind (written by hand): the operator's state is read each time."""
    token = await start(core, "bel.clerk")
    async with core.uow() as uow:
        found = await uow.operators.by_username("bel.clerk")
        assert found is not None
        found.disabled_at = core.now()
        await uow.commit()
    assert await resume(core, token) == Ended.ENDED
    assert await rows(core) == 0


@pytest.mark.parametrize(
    ("new", "code"),
    [
        ("aaaaaaaaaaaa", "operator.password_easy"),
        ("abcdefghijklmn", "operator.password_easy"),
        ("password1234", "operator.password_easy"),
        ("clerk of the year 2026", "operator.password_names_operator"),
        ("I love Belforte 2026", "operator.password_names_town"),
        ("short", "operator.password_too_short"),
        (PASSWORD, "operator.password_unchanged"),
    ],
)
async def test_a_weak_password_is_refused_and_the_old_one_kept(
    core: Core, town: m.Municipality, new: str, code: str
) -> None:
    clerk = await operator_id(core, "bel.clerk")
    async with core.uow() as uow:
        with pytest.raises(DomainError) as refused:
            await operators.change_password(uow, clerk, PASSWORD, new, core.now())
    assert refused.value.code == code
    async with core.uow() as uow:
        signed_in = await operators.sign_in(uow, "bel.clerk", PASSWORD, core.now())
    assert signed_in.operator.id == clerk


async def test_a_wrong_current_password_says_so(core: Core, town: m.Municipality) -> None:
    clerk = await operator_id(core, "bel.clerk")
    async with core.uow() as uow:
        with pytest.raises(DomainError) as refused:
            await operators.change_password(
                uow, clerk, "not the password", "quiet river under stone", core.now()
            )
    assert refused.value.code == "operator.current_password_wrong"
