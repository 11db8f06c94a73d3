"""`buonispesa admin policy check`: a policy TOML read and what it decides."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from buonispesa.cli.admin import money, out, policy_app, read_policy, tell
from buonispesa.cli.common import say
from core.domain.messages import t, tn

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    pass


@policy_app.command("check")
def policy_check(file: Path) -> None:
    """Validate a policy TOML file and print what it decides."""
    policy = read_policy(file)
    table = Table(say(t("Members")), say(t("Amount")), say(t("Liquidity limit")))
    sizes = max(len(policy.amounts_by_size_cents), len(policy.liquidity_thresholds_cents))
    for size in range(1, sizes + 1):
        plus = "+" if size == sizes else ""
        table.add_row(
            f"{size}{plus}",
            money(policy.full_amount_cents(size)),
            money(policy.liquidity_threshold_cents(size)),
        )
    days = policy.application_window_days
    tell(
        tn(
            "{file}: valid. {policy}, list 2 mode {mode}, window of {count} day.",
            "{file}: valid. {policy}, list 2 mode {mode}, window of {count} days.",
            days,
            file=str(file),
            policy=policy.name,
            mode=policy.list2_mode,
        ),
        style="green",
    )
    out.print(table)
