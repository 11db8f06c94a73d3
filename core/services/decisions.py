"""What a decision that pays nothing says: the outcome and its reason in plain words.

The same sentences answer STATO (core.dialogue.flows.citizen) and make the notice a credit
run queues to every applicant it decided without paying (core.services.crediting), so the
two never say it differently.
"""

from __future__ import annotations

from datetime import datetime

from core.domain.messages import Day, Reply, Text, t
from core.services.appeals import last_day


def unpaid_outcome(protocol: str, assignment: str, exclusion_reason: str | None) -> Text:
    """Excluded (with the reason), or admitted with nothing from the budget."""
    if assignment != "excluded":
        return t(
            "Application {protocol}: admitted, but the budget ran out before your turn.",
            protocol=protocol,
        )
    reason = {
        "work_income": t(
            "Application {protocol}: not admitted, because someone in the household "
            "has income from work.",
            protocol=protocol,
        ),
        "pension": t(
            "Application {protocol}: not admitted, because someone in the household "
            "receives a pension.",
            protocol=protocol,
        ),
        "liquidity": t(
            "Application {protocol}: not admitted, because the savings exceed the "
            "limit for your household.",
            protocol=protocol,
        ),
    }
    return reason.get(
        exclusion_reason or "",
        t(
            "Application {protocol}: not admitted. For the reason, contact the office (write "
            "UFFICIO).",
            protocol=protocol,
        ),
    )


def decision_notice(
    timezone: str,
    protocol: str,
    assignment: str,
    exclusion_reason: str | None,
    *,
    decided: datetime,
    appeal_days: int,
) -> Reply:
    """The notice of a decision that pays nothing: the outcome, and how to appeal by when
    (the last day the appeal window allows, counted from this notice). One SMS with any
    protocol and reason: it comes from the town's own number (or bot), so the appeal line
    does not name the town, which would take a long name past one segment."""
    return Reply.of(
        unpaid_outcome(protocol, assignment, exclusion_reason),
        t(
            "Appeal: write RICORSO and the reason by {day}.",
            day=Day(last_day(decided, appeal_days, timezone)),
        ),
    )
