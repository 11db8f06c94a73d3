"""A plain dialogue turn answered in one trip writes what the general path writes
(core/dialogue/plain_turn.py, core/storage/turn_trip.py,
docs/decisions/0007-one-trip-dialogue-turn.md).

Two databases start from the same state; the same messages go to an engine that
answers plain turns in one trip and to one that runs every turn through the general
path (`one_trip=False`). After every message the outbox rows it wrote, the
conversations and the dedupe records must be the same in both, and the turns meant to
be plain must have been answered in one trip (so that the comparison is not vacuous)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine, HandleResult
from core.dialogue.inbound import Channel, Inbound
from core.dialogue.plain_turn import PlainTurn
from core.domain.shops import MemberRole, ShopCategory
from core.services import delegates, municipalities
from core.services.applications import ApplicationInput, submit_application
from core.services.outbox import PAYMENT_LANE
from core.services.shops import ShopInput, register_shop
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock, fresh_database
from tests.dialogue.harness import Chat, open_till
from tests.factories import (
    Town,
    approved_request,
    make_cf,
    make_partita_iva,
    make_town,
    pay,
    request,
    shared_phone,
)

TOWN_NUMBER = "+390733000001"
OTHER_NUMBER = "+390733000002"
DELEGATE = "+393470000077"
NEWCOMER = "+393470000088"  # applied in the open round: a citizen with no account yet
UNKNOWN = "+393470000099"
LINKED_CHAT = "900001"
SHOP_PHONE = "+393339999999"  # make_town's shop owner; also owns a second shop, pending
PENDING_SHOP_CHAT = "900003"  # owns a shop the office has not approved yet
CASHIER_CHAT = "900004"  # a cashier of make_town's shop


@pytest.fixture
def twin_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the same backend as `database_url`."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    yield from fresh_database(request, backend, tmp_path / "twin.sqlite3")


@pytest.fixture
async def twins(
    database_url: str, twin_url: str, clock: FakeClock
) -> AsyncIterator[tuple[Core, Core]]:
    fast = Core(engine=make_engine(database_url), clock=clock)
    general = Core(engine=make_engine(twin_url), clock=clock)
    yield fast, general
    await fast.close()
    await general.close()


@dataclass(frozen=True)
class Step:
    address: str
    text: str | None
    plain: bool  # expected to be answered in one trip
    channel: Channel = Channel.SMS
    to: str | None = None
    option: str | None = None
    message_id: str | None = None  # default: a new one per step


async def world(core: Core, *, two_towns: bool, community: bool = False) -> Town:
    """The same starting state in each database: a town with credited citizens (citizen 1
    with five movements, citizen 2 with a delegate), a newcomer without an account, a
    linked Telegram chat, shops (the owner of two by SMS, one approved; the owner of a
    pending one and a cashier on Telegram); for `two_towns`, a second town, each with its
    number; for `community`, the town's community vouchers on."""
    town = await make_town(core, citizens=3)
    for cents in (5_00, 7_25, 12_00, 3_10):
        await pay(core, town, cents, citizen=1)
    now = core.now()
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[2]
        yes = await approved_request(uow, municipality, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, municipality, cf, DELEGATE, now, approved=yes)
        await municipalities.open_window(uow, municipality, now - timedelta(minutes=1))
        await submit_application(
            uow,
            municipality,
            ApplicationInput(make_cf(50), NEWCOMER, 1, False, False, 0, 0, 0),
            source="paper",
            now=now,
        )
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.telegram_chat_id = LINKED_CHAT
        for index, (channel, address) in enumerate(
            [("sms", SHOP_PHONE), ("telegram", PENDING_SHOP_CHAT)], start=2
        ):
            await register_shop(
                uow,
                town.municipality_id,
                ShopInput(
                    f"Bottega {index}",
                    make_partita_iva(index),
                    ShopCategory.BAKERY,
                    "Via Roma 2",
                    "Testville",
                    "62020",
                    None,
                    None,
                    "IT40S0542811101000000123456",
                ),
                owner_channel=channel,
                owner_address=address,
                now=now,
                owner_phone=shared_phone(channel, address),
            )
        uow.session.add(
            m.ShopMember(
                shop_id=town.shop_id,
                channel="telegram",
                address=CASHIER_CHAT,
                role=MemberRole.CASHIER.value,
                created_at=now,
                phone=shared_phone("telegram", CASHIER_CHAT),
            )
        )
        municipality.community_enabled = community
        if two_towns:
            municipality.sms_number = TOWN_NUMBER
            await municipalities.add_municipality(
                uow, code="OTH", name="Otherville", now=now, sms_number=OTHER_NUMBER
            )
        await uow.commit()
    return town


async def snapshot(core: Core, after_outbox_id: int) -> dict[str, Any]:
    """What a turn leaves: the outbox rows after `after_outbox_id`, every conversation,
    how many deliveries are recorded (ids left out: they are the databases' own)."""
    async with core.uow() as uow:
        outbox = (
            await uow.session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.id > after_outbox_id)
                .order_by(m.OutboxMessage.id)
            )
        ).all()
        conversations = (
            await uow.session.scalars(
                select(m.Conversation).order_by(
                    m.Conversation.channel, m.Conversation.address, m.Conversation.municipality_id
                )
            )
        ).all()
        # And how many rows every table holds: a turn writes nothing else.
        counts = {
            table.name: await uow.session.scalar(select(func.count()).select_from(table))
            for table in m.Base.metadata.sorted_tables
        }
        return {
            "outbox": [_columns(row) for row in outbox],
            "conversations": [_columns(row) for row in conversations],
            "counts": counts,
        }


def _columns(row: m.Base) -> dict[str, Any]:
    return {
        column.key: getattr(row, column.key)
        for column in row.__table__.columns
        if column.key != "id"
    }


async def last_outbox_id(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.max(m.OutboxMessage.id))) or 0)


async def send(core: Core, engine: DialogueEngine, step: Step, index: int) -> HandleResult:
    return await engine.handle(
        Inbound(
            channel=step.channel,
            address=step.address,
            text=step.text,
            option=step.option,
            provider_message_id=step.message_id or f"M{index}",
            to=step.to,
        )
    )


async def run_both(
    twins: tuple[Core, Core],
    steps: list[Step],
    *,
    two_towns: bool,
    payments: bool = False,
    setup: Callable[[Core, Town], Awaitable[None]] | None = None,
) -> None:
    """`setup`: what else both databases hold before the steps, after world()."""
    fast_core, general_core = twins
    for core in twins:
        town = await world(core, two_towns=two_towns, community=payments)
        if setup is not None:
            await setup(core, town)
    fast = DialogueEngine(fast_core, payments=payments)
    general = DialogueEngine(general_core, payments=payments, one_trip=False)
    # The same start (the outbox aside: payment codes are random, and sealed).
    start = await snapshot(fast_core, 0), await snapshot(general_core, 0)
    assert [{**state, "outbox": len(state["outbox"])} for state in start] * 1 == [
        {**start[1], "outbox": len(start[1]["outbox"])}
    ] * 2
    for index, step in enumerate(steps):
        before = (await last_outbox_id(fast_core), await last_outbox_id(general_core))
        fast_result = await send(fast_core, fast, step, index)
        general_result = await send(general_core, general, step, index)
        assert fast_result.one_trip is step.plain, (index, step)
        assert not general_result.one_trip
        assert fast_result.duplicate == general_result.duplicate, (index, step)
        assert len(fast_result.outbox_ids) == len(general_result.outbox_ids), (index, step)
        assert fast_result.payments == general_result.payments, (index, step)
        fast_rows = await snapshot(fast_core, before[0])
        general_rows = await snapshot(general_core, before[1])
        assert fast_rows == general_rows, (index, step)


def sms(address: str, text: str, plain: bool, **kwargs: Any) -> Step:
    return Step(address, text, plain, **kwargs)


def telegram(chat: str, text: str | None, plain: bool, **kwargs: Any) -> Step:
    return Step(chat, text, plain, channel=Channel.TELEGRAM, **kwargs)


CITIZEN = [f"+39333{2000000 + index:07d}" for index in range(3)]  # make_town's phones


async def test_plain_turns_of_one_town_write_what_the_general_path_writes(
    twins: tuple[Core, Core],
) -> None:
    steps = [
        # A first message creates the conversation: never plain.
        sms(CITIZEN[0], "MENU", False),
        sms(CITIZEN[0], "SALDO", True),  # one movement (the credit)
        sms(CITIZEN[0], "SALDO", True, message_id="M1"),  # the provider retries: duplicate
        sms(CITIZEN[0], "Buongiorno, vorrei sapere il mio saldo", True),
        # Plain words (commands.parse, one reading for both paths): a question of the
        # phrase table, an emoji or punctuation around the keyword, courtesy words.
        sms(CITIZEN[0], "quanto mi resta?", True),
        # Questions read by their words (questions.question_of), the same on both paths.
        sms(CITIZEN[0], "quanto c'ho sulla tessera", True),
        sms(CITIZEN[0], "mi dici quanti soldi mi restano", True),
        sms(CITIZEN[0], "grazie", False),  # thanks: the general path
        sms(CITIZEN[0], "dove posso fare la spesa?", False),  # a request: the general path
        sms(CITIZEN[0], "ANNULLA", False),
        sms(CITIZEN[0], "👍 SALDO", True),
        sms(CITIZEN[0], "Saldo per favore", True),
        # English to an Italian chat: the general path, which adds the way to English.
        sms(CITIZEN[0], "balance please", False),
        sms(CITIZEN[0], "ciao", False),  # a greeting: the welcome and the menu
        sms(CITIZEN[0], "123456", False),  # a code is never a phrase: the general path
        sms(CITIZEN[0], "MENU", True),
        sms(CITIZEN[0], "1", True),  # the menu's first option is the balance
        sms(CITIZEN[1], "MENU", False),
        sms(CITIZEN[1], "saldo", True),  # five movements: as many as fit one SMS
        # A request in progress (a citizen's NEGOZI lists the town's shops at once).
        sms(CITIZEN[1], "DOMANDA", False),
        sms(CITIZEN[1], "SALDO", False),
        sms(CITIZEN[1], "LANGUAGE en", False),
        sms(CITIZEN[1], "BALANCE", True),  # an English conversation
        sms(CITIZEN[1], "How much do I have left?", True),
        sms(CITIZEN[1], "how much money is on my card?", True),
        sms(NEWCOMER, "MENU", False),
        sms(NEWCOMER, "SALDO", True),  # no account yet: no movements, STATO suggested
        sms(DELEGATE, "MENU", False),
        sms(DELEGATE, "SALDO", True),  # the delegate sees whose balance
        sms(UNKNOWN, "MENU", False),
        # Nobody's phone: no vouchers for this number, DOMANDA suggested only while the
        # window is open, which the general path reads.
        sms(UNKNOWN, "SALDO", False),
        sms(UNKNOWN, "quanti soldi ho?", False),
        sms(CITIZEN[2], "STOP", False),
        sms(CITIZEN[2], "SALDO", False),  # stopped
        sms(CITIZEN[2], "saldo per favore", False),
        telegram(LINKED_CHAT, "/start", False),
        telegram(LINKED_CHAT, "/saldo", True),
        telegram(LINKED_CHAT, None, True, option="balance"),  # the Balance button
        telegram(LINKED_CHAT, "quanti soldi ho", True),
        telegram("900002", "/start", False),
        telegram("900002", "/saldo", True),  # not linked: asked for the contact
        telegram("900002", "/saldo", True),  # asked again, at the contact step
        telegram("900002", None, True, option="balance"),
        telegram("900002", "Quanto mi resta?", True),  # a phrase at the contact step
        telegram("900002", "vorrei il saldo", False),  # an answer to the step
        telegram("900002", "/stato", False),
    ]
    await run_both(twins, steps, two_towns=False)


async def test_plain_turns_routed_by_the_number_written_to(twins: tuple[Core, Core]) -> None:
    steps = [
        sms(CITIZEN[0], "MENU", False, to=TOWN_NUMBER),
        sms(CITIZEN[0], "SALDO", True, to=TOWN_NUMBER),
        sms(CITIZEN[0], "SALDO", True, to="0733 000001"),  # the same number, written otherwise
        sms(CITIZEN[0], "MENU", False, to=OTHER_NUMBER),
        sms(CITIZEN[0], "SALDO", False, to=OTHER_NUMBER),  # nobody of the other town
        sms(CITIZEN[0], "SALDO", False),  # no number: no town to route to
        sms(DELEGATE, "MENU", False, to=TOWN_NUMBER),
        sms(DELEGATE, "SALDO", True, to=TOWN_NUMBER),
        telegram(LINKED_CHAT, "/saldo", False),  # several towns: the chat picks one first
    ]
    await run_both(twins, steps, two_towns=True)


# MENU, AIUTO and START: what they answer depends only on the shops an address works
# for and on the town, so they are plain from anybody (a citizen or not, linked or not).
MENUS_AND_HELP = [
    # Citizens by SMS, and an unknown number.
    sms(CITIZEN[0], "SALDO", False),  # the first message creates the conversation
    sms(CITIZEN[0], "MENU", True),
    # By SMS the help is the general path's (a payment waiting for a code comes first).
    sms(CITIZEN[0], "AIUTO", False),  # the first help
    sms(CITIZEN[0], "AIUTO", False),  # every word
    sms(CITIZEN[0], "8", True),  # the help's eighth word is MENU
    sms(CITIZEN[0], "aiuto per favore", False),  # a sentence with the keyword
    sms(CITIZEN[0], "START", True),  # the welcome and the menu, perhaps in two SMS
    sms(CITIZEN[0], "start", True, message_id="M5"),  # a retry of the same delivery
    sms(CITIZEN[0], "START 12345", False),  # a deep link's payload: not plain
    sms(CITIZEN[0], "DOMANDA", False),  # a request in progress...
    sms(CITIZEN[0], "MENU", False),  # ...is interrupted by the general path
    sms(CITIZEN[0], "MENU", True),
    sms(UNKNOWN, "AIUTO", False),
    sms(UNKNOWN, "MENU", True),
    sms(UNKNOWN, "AIUTO", False),
    sms(UNKNOWN, "START", True),
    sms(UNKNOWN, "1", False),  # the menu's Balance, from nobody's phone: the general path
    sms(UNKNOWN, "*MENU*", True),  # punctuation and emoji around the keyword
    sms(UNKNOWN, "👍 AIUTO", False),
    sms(UNKNOWN, "menu, grazie", True),
    sms(CITIZEN[1], "LANGUAGE en", False),
    sms(CITIZEN[1], "HELP", False),  # an English conversation
    sms(CITIZEN[1], "START", True),
    # STOP: nothing is plain until START (the general path's) ends it.
    sms(CITIZEN[2], "STOP", False),
    sms(CITIZEN[2], "MENU", False),
    sms(CITIZEN[2], "AIUTO", False),
    sms(CITIZEN[2], "START", False),
    sms(CITIZEN[2], "MENU", True),
    # The owner of two shops: asked which one, then that shop's menu.
    sms(SHOP_PHONE, "MENU", False),
    sms(SHOP_PHONE, "MENU", True),  # "For which shop?"
    sms(SHOP_PHONE, "AIUTO", False),  # a shop's help
    sms(SHOP_PHONE, "START", True),
    sms(SHOP_PHONE, "MENU", True),
    sms(SHOP_PHONE, "1", False),  # picks the first shop (a choice, not a command)
    sms(SHOP_PHONE, "MENU", True),  # its menu, with "Change shop"
    sms(SHOP_PHONE, "2", False),  # Refund: a request
    sms(SHOP_PHONE, "ANNULLA", False),
    sms(SHOP_PHONE, "START", True),
    # Telegram: a linked chat, an unlinked one, the owner of a pending shop, a cashier.
    telegram(LINKED_CHAT, "/aiuto", False),
    telegram(LINKED_CHAT, "/menu", True),
    telegram(LINKED_CHAT, None, True, option="menu"),  # a tapped Menu button
    telegram(LINKED_CHAT, "/start", True),
    telegram(LINKED_CHAT, "menu.", True),
    telegram(LINKED_CHAT, "/aiuto", True),
    telegram(LINKED_CHAT, "1", True),  # the help's first word: the balance
    telegram("900002", "/menu", False),
    telegram("900002", "/start", True),
    telegram("900002", "/aiuto", True),
    telegram("900002", "/menu", True),
    telegram("900002", "/saldo", True),  # not linked: asked for the contact (a step)
    telegram("900002", "/menu", False),  # which the general path leaves
    telegram("900002", "/start", True),
    telegram(PENDING_SHOP_CHAT, "/start", False),
    telegram(PENDING_SHOP_CHAT, "/menu", True),  # waiting for the approval
    telegram(PENDING_SHOP_CHAT, "/aiuto", True),
    telegram(CASHIER_CHAT, "/start", False),
    telegram(CASHIER_CHAT, "/start", True),  # the shop's menu, without "Add cashier"
    telegram(CASHIER_CHAT, "/aiuto", True),
    telegram(CASHIER_CHAT, "/stop", False),
    telegram(CASHIER_CHAT, "/menu", False),  # stopped: the general path
    telegram(CASHIER_CHAT, "/start", False),
    telegram(CASHIER_CHAT, "/start", True),
]


async def test_menus_help_and_start_write_what_the_general_path_writes(
    twins: tuple[Core, Core],
) -> None:
    await run_both(twins, MENUS_AND_HELP, two_towns=False)


async def test_menus_and_help_with_community_vouchers_on(twins: tuple[Core, Core]) -> None:
    """Telegram with payments, in a town with community vouchers: the menu and the help
    name them; by SMS they do not."""
    steps = [
        telegram(LINKED_CHAT, "/start", False),
        telegram(LINKED_CHAT, "/menu", True),
        telegram(LINKED_CHAT, "/aiuto", True),
        telegram(LINKED_CHAT, "9", False),  # the help's ninth word: COMPRA, not plain
        telegram(LINKED_CHAT, "/menu", True),
        telegram("900002", "/start", False),
        telegram("900002", "/start", True),
        telegram(CASHIER_CHAT, "/start", False),
        telegram(CASHIER_CHAT, "/aiuto", True),  # a shop's help: no community words
        sms(CITIZEN[0], "MENU", False),
        sms(CITIZEN[0], "AIUTO", False),
        sms(CITIZEN[0], "START", True),
    ]
    await run_both(twins, steps, two_towns=False, payments=True)


async def test_menus_routed_by_the_number_written_to(twins: tuple[Core, Core]) -> None:
    steps = [
        sms(CITIZEN[0], "MENU", False, to=TOWN_NUMBER),
        sms(CITIZEN[0], "MENU", True, to=TOWN_NUMBER),
        sms(CITIZEN[0], "START", False, to=OTHER_NUMBER),  # a first message to the other town
        sms(CITIZEN[0], "START", True, to=OTHER_NUMBER),  # its own welcome
        sms(SHOP_PHONE, "MENU", False, to=OTHER_NUMBER),
        sms(SHOP_PHONE, "AIUTO", False, to=OTHER_NUMBER),  # by SMS: the general path
        sms(CITIZEN[1], "AIUTO", False),  # no number: no town to route to
        sms(CITIZEN[1], "AIUTO", False),
        telegram(LINKED_CHAT, "/start", False),
        telegram(LINKED_CHAT, "/start", False),  # several towns: the chat picks one first
    ]
    await run_both(twins, steps, two_towns=True)


WAITING_CHAT = "900005"  # linked to citizen 3, whose payment codes go to their delegate


async def payments_waiting(core: Core, town: Town) -> None:
    """A payment waiting for the code sent to the linked chat; one asked of the delegate's
    citizen, whose code went to the delegate's phone though a chat is linked to them too."""
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[2])
        assert citizen is not None
        citizen.telegram_chat_id = WAITING_CHAT
        await uow.commit()
    await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
    await request(core, town.shop_id, town.citizen_cfs[2], 3_00)


async def test_help_with_a_payment_waiting_writes_what_the_general_path_writes(
    twins: tuple[Core, Core],
) -> None:
    """The help names a payment waiting for the code sent to this chat (the general path):
    a plain turn looks for one in its trip and leaves the help to the general path when
    there is; the menu never names it, and a shop's help neither."""
    steps = [
        telegram(LINKED_CHAT, "/start", False),
        telegram(LINKED_CHAT, "/aiuto", False),  # the payment, then the help
        telegram(LINKED_CHAT, "non capisco", False),  # the help asked in words
        telegram(LINKED_CHAT, "/menu", True),
        telegram(LINKED_CHAT, "/start", True),
        telegram(LINKED_CHAT, "/saldo", True),
        # A payment of the chat's citizen whose code went elsewhere (their delegate's
        # phone): not named, by the general path all the same.
        telegram(WAITING_CHAT, "/start", False),
        telegram(WAITING_CHAT, "/aiuto", False),
        telegram(CASHIER_CHAT, "/start", False),
        telegram(CASHIER_CHAT, "/aiuto", True),  # a shop's help: no payment looked for
        telegram("900002", "/start", False),
        telegram("900002", "/aiuto", True),  # nobody's chat
        sms(CITIZEN[0], "MENU", False),
        sms(CITIZEN[0], "AIUTO", False),
        # Refused: nothing waits any more, and the help is plain again.
        telegram(LINKED_CHAT, "/annulla", False),
        telegram(LINKED_CHAT, "/aiuto", True),
    ]
    await run_both(twins, steps, two_towns=False, setup=payments_waiting)


@pytest.fixture
async def second_core(database_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """Another process's view of the same database: its own engine and writer lock."""
    other = Core(engine=make_engine(database_url), clock=clock)
    yield other
    await other.close()


async def test_concurrent_deliveries_of_a_plain_turn_reply_once(
    core: Core, second_core: Core
) -> None:
    town = await make_town(core)
    phone = town.citizen_phones[0]
    await DialogueEngine(core).handle(Inbound(Channel.SMS, phone, text="MENU"))
    inbound = Inbound(Channel.SMS, phone, text="SALDO", provider_message_id="SM-9")
    engines = [DialogueEngine(c) for c in (core, second_core, core, second_core)]
    results = await asyncio.gather(*(engine.handle(inbound) for engine in engines))
    assert all(result.one_trip for result in results)
    assert sum(not result.duplicate for result in results) == 1
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("sms", phone)
    balances = [row for row in rows if row.payload["texts"][0]["msgid"].startswith("Your balance")]
    assert len(balances) == 1


async def test_concurrent_plain_turns_of_one_chat_are_all_answered(
    core: Core, second_core: Core
) -> None:
    """Two processes answer the same chat at once: the conversation row (locked on
    PostgreSQL, the one writer on SQLite) makes them take turns, none is lost."""
    town = await make_town(core)
    phone = town.citizen_phones[0]
    await DialogueEngine(core).handle(Inbound(Channel.SMS, phone, text="MENU"))
    engines = [DialogueEngine(c) for c in (core, second_core) * 3]
    results = await asyncio.gather(
        *(
            engine.handle(Inbound(Channel.SMS, phone, text="SALDO", provider_message_id=f"S{i}"))
            for i, engine in enumerate(engines)
        )
    )
    assert all(result.one_trip and not result.duplicate for result in results)
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("sms", phone)
    assert sorted(row.id for row in rows)[-6:] == sorted(
        id_ for result in results for id_ in result.outbox_ids
    )


async def test_concurrent_plain_turns_share_the_sqlite_group_commit(sqlite_url: str) -> None:
    core = Core(engine=make_engine(sqlite_url), clock=FakeClock())
    try:
        town = await make_town(core, citizens=8)
        engine = DialogueEngine(core)
        for phone in town.citizen_phones:
            await engine.handle(Inbound(Channel.SMS, phone, text="MENU"))
        group = core.group_commit
        assert group is not None
        before = group.batches, group.committed
        results = await asyncio.gather(
            *(
                engine.handle(Inbound(Channel.SMS, phone, text="SALDO", provider_message_id=phone))
                for phone in town.citizen_phones
            )
        )
        assert all(result.one_trip and len(result.outbox_ids) == 1 for result in results)
        assert group.committed - before[1] == 8
        assert group.batches - before[0] < 8  # several turns per COMMIT (one fsync)
    finally:
        await core.close()


async def test_a_plan_that_fails_leaves_nothing_and_the_general_path_answers(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = await make_town(core)
    phone = town.citizen_phones[0]
    engine = DialogueEngine(core)
    await engine.handle(Inbound(Channel.SMS, phone, text="MENU"))

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in the plain turn")

    monkeypatch.setattr(PlainTurn, "decide", broken)
    inbound = Inbound(Channel.SMS, phone, text="SALDO", provider_message_id="SM-broken")
    result = await engine.handle(inbound)
    assert not result.one_trip and not result.duplicate and len(result.outbox_ids) == 1
    async with core.uow() as uow:
        row = await uow.outbox.by_id(result.outbox_ids[0])
        assert row is not None and row.payload["texts"][0]["msgid"] == "Your balance: {balance}."
    assert (await engine.handle(inbound)).duplicate  # recorded once, by the general path


async def test_a_turn_says_whether_it_queued_a_payment_message(core: Core) -> None:
    """What the adapters pass to the outbox's wake: only payment rows wake its payment loop."""
    town = await make_town(core)
    engine = DialogueEngine(core)
    phone = town.citizen_phones[0]
    await engine.handle(Inbound(Channel.SMS, phone, text="MENU"))
    balance = await engine.handle(Inbound(Channel.SMS, phone, text="SALDO"))
    assert balance.one_trip and balance.outbox_ids and not balance.payments
    general = await DialogueEngine(core, one_trip=False).handle(
        Inbound(Channel.SMS, phone, text="SALDO")
    )
    assert general.outbox_ids and not general.payments
    await open_till(Chat(core, town.shop_phone))
    charge = await engine.handle(Inbound(Channel.SMS, town.shop_phone, text=f"PAGA {phone} 10"))
    assert charge.outbox_ids and charge.payments
    async with core.uow() as uow:
        to_citizen = await uow.outbox.for_address("sms", phone)
    # The citizen's code, written by the payment service beside the shop's reply.
    assert [row.lane for row in to_citizen if row.charge_id is not None] == [PAYMENT_LANE]


async def test_a_plain_turn_meets_its_dedupe_record_only_by_writing_it(
    sqlite_url: str, clock: FakeClock
) -> None:
    """The plan sends no SELECT for the provider's message id: its INSERT … ON CONFLICT
    DO NOTHING is the dedupe, and a retry of the same message writes nothing else."""
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        town = await make_town(core)
        phone = town.citizen_phones[0]
        engine = DialogueEngine(core)
        await engine.handle(Inbound(Channel.SMS, phone, text="MENU"))
        group = core.group_commit
        assert group is not None
        sent: list[str] = []
        await group.run(lambda connection: connection.set_trace_callback(sent.append))
        inbound = Inbound(Channel.SMS, phone, text="SALDO", provider_message_id="SM-once")
        first = await engine.handle(inbound)
        assert first.one_trip and not first.duplicate and len(first.outbox_ids) == 1
        dedupe = [s.split()[0] for s in sent if "inbound_messages" in s]
        assert dedupe == ["INSERT"], sent
        sent.clear()
        again = await engine.handle(inbound)
        assert again.one_trip and again.duplicate and not again.outbox_ids
        writes = [s for s in sent if s.startswith(("INSERT", "UPDATE", "DELETE"))]
        assert [s.split()[2] for s in writes] == ["inbound_messages"], writes
        async with core.uow() as uow:
            rows = await uow.outbox.for_address("sms", phone)
        assert sum(r.payload["texts"][0]["msgid"].startswith("Your balance") for r in rows) == 1
    finally:
        await core.close()
