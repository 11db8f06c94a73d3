"""Each flow's step table: the whole graph is sound, moves outside it are refused, and a
conversation stored before the typed states still goes on after a deploy."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from core.bootstrap import Core
from core.dialogue.context import Turn
from core.dialogue.flows import FLOWS, Flow
from core.dialogue.flows.base import RESUME, VERIFY, ConfirmedFlow, StepError, Takes
from core.dialogue.inbound import Channel, Inbound
from core.dialogue.menus import FIRST_HELP
from core.dialogue.state import (
    ApplyState,
    ChatMemory,
    FlowState,
    RegisterState,
    TillSession,
    dump,
    load,
)
from core.domain.shops import ShopCategory
from core.storage import models as m
from tests.dialogue.harness import Chat, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, DECLARE, SUMMARY

ALL = sorted(FLOWS)


def reachable(flow: Flow[Any]) -> set[str]:
    seen = set(flow.entry_points)
    todo = deque(seen)
    while todo:
        for following in flow.steps[todo.popleft()].to:
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


@pytest.mark.parametrize("name", ALL)
def test_every_move_names_a_step_of_the_flow(name: str) -> None:
    flow = FLOWS[name]
    assert flow.name == name
    assert flow.entry, "a flow starts somewhere"
    for step in flow.entry_points:
        assert step in flow.steps, f"{name}: entry {step!r} is no step"
    for step, spec in flow.steps.items():
        unknown = set(spec.to) - set(flow.steps)
        assert not unknown, f"{name}.{step} leads to unknown steps {unknown}"


@pytest.mark.parametrize("name", ALL)
def test_every_step_is_reachable_from_the_start(name: str) -> None:
    flow = FLOWS[name]
    assert reachable(flow) == set(flow.steps), name


@pytest.mark.parametrize("name", ALL)
def test_drafts_and_codes_have_their_steps(name: str) -> None:
    flow = FLOWS[name]
    # A flow that keeps drafts can resume one; resuming leads back to any answer left.
    assert (RESUME in flow.steps) == flow.keeps_draft, name
    if flow.keeps_draft:
        assert set(flow.steps[RESUME].to) == set(flow.steps) - {RESUME}, name
    # Only a flow that confirms by code has the step where the code is typed.
    assert (VERIFY in flow.steps) == isinstance(flow, ConfirmedFlow), name


def test_shared_contacts_and_positions_answer_only_their_steps() -> None:
    takes = {
        (name, step): spec.takes
        for name, flow in FLOWS.items()
        for step, spec in flow.steps.items()
        if spec.takes is not Takes.TEXT
    }
    assert takes == {
        ("apply", "contact"): Takes.CONTACT,
        ("identify", "contact"): Takes.CONTACT,
        # A shop's member on Telegram shares their own phone (flows/member_phone).
        ("join", "contact"): Takes.CONTACT,
        ("register", "contact"): Takes.CONTACT,
        ("charge", "contact"): Takes.CONTACT,
        ("refund", "contact"): Takes.CONTACT,
        ("register", "position"): Takes.LOCATION,
        ("shops", "query"): Takes.LOCATION,
    }
    assert FLOWS["apply"].contact_steps == frozenset({"contact"})
    assert FLOWS["register"].location_steps == frozenset({"position"})


def _turn(flow: str | None, step: str | None) -> Turn:
    """A turn standing at a step; moving between steps touches nothing else."""
    return Turn(
        uow=cast(Any, None),
        now=datetime(2026, 12, 3, tzinfo=UTC),
        inbound=Inbound(channel=Channel.SMS, address="+393331234567", text=""),
        conversation=m.Conversation(),
        municipality=None,
        flow=flow,
        step=step,
        memory=ChatMemory(),
        state=FlowState(),
        language="it",
    )


def test_a_move_outside_the_table_is_refused() -> None:
    apply = FLOWS["apply"]
    turn = _turn("apply", "members")
    turn.state = ApplyState(members=3)
    apply.move(turn, "work")
    assert isinstance(turn.state, ApplyState)
    assert (turn.step, turn.state.members) == ("work", 3)
    with pytest.raises(StepError):
        apply.move(turn, "rent")  # work leads to pension (or back to the summary)
    with pytest.raises(StepError):
        apply.move(_turn(None, None), "summary")  # not a place to start
    with pytest.raises(StepError):
        apply.move(turn, "nowhere")
    assert turn.step == "work"


def test_starting_gives_the_flow_its_own_empty_answers() -> None:
    turn = _turn("register", "vat")
    turn.state = RegisterState(name="Forno")
    FLOWS["apply"].move(turn, "language")
    answers: FlowState = turn.state
    assert (turn.flow, turn.step, answers) == ("apply", "language", ApplyState())


def test_stored_json_keeps_its_keys_and_leaves_out_defaults() -> None:
    # As the engine wrote it before the typed states (amounts in cents, a position skipped).
    old = {
        "name": "Forno Rossi",
        "vat": "01234567897",
        "category": "bakery",
        "lat": None,
        "back": "summary",
        "otp": {"salt": "s", "hash": "h", "expires": "2026-12-03T10:00:00+00:00"},
        "otp_attempts": 1,
    }
    state = load(RegisterState, old)
    assert state is not None
    assert (state.category, state.lat, state.otp_attempts) == (ShopCategory.BAKERY, None, 1)
    assert state.otp is not None and state.otp.expires == datetime(2026, 12, 3, 10, tzinfo=UTC)
    written = dump(state)
    assert {key: written[key] for key in ("name", "vat", "category", "back")} == {
        key: old[key] for key in ("name", "vat", "category", "back")
    }
    assert "lat" not in written and "town" not in written
    assert load(RegisterState, written) == state
    memory = load(
        ChatMemory,
        {
            "till": {"shop_id": 4, "until": "2026-12-03T18:00:00+00:00"},
            "options": [{"k": "yes", "w": ["si", "yes"]}],
            "language_chosen": True,
            "something_old": 1,
        },
    )
    assert memory is not None and memory.till == TillSession(
        4, datetime(2026, 12, 3, 18, tzinfo=UTC)
    )
    assert memory.options[0].k == "yes" and memory.language_chosen
    assert load(ApplyState, {"members": "many"}) is None  # no longer fits: dropped


async def _stored(core: Core, municipality_id: int, address: str, step: str, data: Any) -> None:
    async with core.uow() as uow:
        uow.session.add(
            m.Conversation(
                municipality_id=municipality_id,
                channel=Channel.SMS.value,
                address=address,
                language="en",
                flow="apply",
                step=step,
                data=data,
                stopped=False,
                updated_at=core.now(),
            )
        )
        await uow.commit()


async def test_an_application_stored_before_a_deploy_goes_on(core: Core) -> None:
    town = await town_with_open_window(core)
    address = "+393471239901"
    # Exactly what the release before typed states stored in the middle of an application.
    old = {
        "state": {
            "mode": "new",
            "consent": True,
            "cf": APPLICANT,
            "members": 3,
            "work": False,
            "pension": False,
            "liquidity": 150000,
            "support": 0,
        },
        "drafts": {},
        "options": [],
        "language_chosen": True,
    }
    await _stored(core, town.municipality_id, address, "rent", old)
    chat = Chat(core, address)
    await chat.expect("400", SUMMARY, DECLARE)
    flow, step, data = await chat.state()
    assert (flow, step) == ("apply", "summary")
    assert data["state"]["members"] == 3 and data["state"]["rent"] == 400_00
    assert data["language_chosen"] is True


async def test_a_stored_step_that_no_longer_exists_starts_from_the_help(core: Core) -> None:
    town = await town_with_open_window(core)
    address = "+393471239902"
    await _stored(core, town.municipality_id, address, "household", {"state": {"members": 2}})
    chat = Chat(core, address)
    await chat.expect("boh", FIRST_HELP.msgid)
    assert (await chat.state())[:2] == (None, None)
    # And the application starts afresh.
    await chat.expect(
        "DOMANDA",
        "Privacy (GDPR): {town} uses your data only for the grocery vouchers; notice at the town "
        "hall. Agree?",
    )
    assert (await chat.state())[:2] == ("apply", "privacy")
