"""The conversations, each written once for every channel. `FLOWS` finds one by its stored name."""

from __future__ import annotations

from core.dialogue.flows.apply import ApplyFlow
from core.dialogue.flows.base import Flow
from core.dialogue.flows.charge import ChargeFlow
from core.dialogue.flows.community import BuyFlow, DonateFlow, GiveFlow, VouchersFlow
from core.dialogue.flows.identify import IdentifyFlow
from core.dialogue.flows.refund import RefundFlow
from core.dialogue.flows.shop_finder import ShopFinderFlow
from core.dialogue.flows.shop_register import ShopRegisterFlow
from core.dialogue.flows.shop_reports import StatementFlow
from core.dialogue.flows.shop_staff import InviteFlow, JoinFlow, ShopkeeperFlow

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        ApplyFlow(),
        ChargeFlow(),
        IdentifyFlow(),
        RefundFlow(),
        ShopFinderFlow(),
        ShopRegisterFlow(),
        StatementFlow(),
        InviteFlow(),
        JoinFlow(),
        ShopkeeperFlow(),
        BuyFlow(),
        DonateFlow(),
        GiveFlow(),
        VouchersFlow(),
    )
}

__all__ = ["FLOWS", "Flow"]
