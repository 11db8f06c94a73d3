"""The conversations, each written once for every channel. `FLOWS` finds one by its stored name.

A flow is written like python-telegram-bot's `ConversationHandler(states=...)`: the class
ends with its whole graph in one place,

    entry = ("who",)                                        # where it may start
    steps = table({
        "who": Step(ask_who, on_who, to=("amount",)),       # question, answer, next steps
        "amount": Step(ask_amount, on_amount, to=("code",)),
        "code": Step(ask_code, on_code),                    # no `to`: the flow ends here
    })

- `ask_<step>(turn)` asks the question; `on_<step>(turn, inp)` handles the answer. A wrong
  answer raises `Reject` (the conversation stays on the step); a right one moves on with
  `await self.goto(turn, "next")`, or ends with `turn.finish()`.
- `goto`/`move` refuse a move the table does not declare (`StepError`): the table is the
  truth, and tests/dialogue/test_step_tables.py checks it (every step reachable from
  `entry`, every `to` naming a step that exists).
- The answers are a typed `FlowState` subclass from core/dialogue/state.py, named by the
  flow's `state_type` and read with `self.state(turn)`; its field names are the JSON keys
  stored in `conversations.data`, so add fields with defaults and never rename one (a
  conversation in progress must load after a deploy). `known(value)` reads an answer an
  earlier step has given.
- A step that takes a shared contact or position as its answer says so with
  `takes=Takes.CONTACT` / `Takes.LOCATION` (elsewhere those have their global meaning).
- `keeps_draft = True`: MENU in the middle keeps the answers; add `"resume": resume(...)`
  listing every step a draft can be left at. A `ConfirmedFlow` ends with
  `confirm_then_do(turn)`: from SMS it goes to the `VERIFY` step (`verify(...)` in the table,
  with where `confirmed` leads) for a code sent to the sender's own number.
- Flows read and change data through services (core/services); a new flow is added to FLOWS
  below and started by a command in core/dialogue/commands (reading.FLOW_COMMANDS).
"""

from __future__ import annotations

from typing import Any

from core.dialogue.flows.appeal import AppealFlow
from core.dialogue.flows.apply import ApplyFlow
from core.dialogue.flows.base import Flow
from core.dialogue.flows.charge import ChargeFlow
from core.dialogue.flows.community import BuyFlow, DonateFlow, GiveFlow, VouchersFlow
from core.dialogue.flows.identify import IdentifyFlow
from core.dialogue.flows.refund import RefundFlow
from core.dialogue.flows.shop_finder import ShopFinderFlow
from core.dialogue.flows.shop_register import ShopRegisterFlow
from core.dialogue.flows.shop_reports import StatementFlow
from core.dialogue.flows.shop_staff import (
    CashiersFlow,
    InviteFlow,
    JoinFlow,
    LeaveFlow,
    ShopkeeperFlow,
)

FLOWS: dict[str, Flow[Any]] = {
    flow.name: flow
    for flow in (
        ApplyFlow(),
        AppealFlow(),
        ChargeFlow(),
        IdentifyFlow(),
        RefundFlow(),
        ShopFinderFlow(),
        ShopRegisterFlow(),
        StatementFlow(),
        InviteFlow(),
        CashiersFlow(),
        LeaveFlow(),
        JoinFlow(),
        ShopkeeperFlow(),
        BuyFlow(),
        DonateFlow(),
        GiveFlow(),
        VouchersFlow(),
    )
}

__all__ = ["FLOWS", "Flow"]
