"""Refused bindings: the reasons written to the identity log (and read in the office's lists),
and the exceptions that carry them. A person in a chat hears one neutral sentence for
IdentityRefused, whatever the reason; the subclasses are the refusals a chat answers apart
(a delegate's number, a phone change waiting, a first number the office checks)."""

from __future__ import annotations

from core.domain.errors import NotAllowed, Refusal
from core.storage import models as m

TAKEOVER_REFUSED = "takeover_refused"
CLAIM_REFUSED = "claim_refused"
LINK_REFUSED = "link_refused"
# A citizen's own delegate's number offered as the citizen's own phone (one phone speaks for
# one person: docs/cards-and-delegates.md).
PHONE_IS_DELEGATE = "phone_is_delegate"
# A chat's proven number while the office changes the citizen's phone (four eyes): the
# change decides the number, not the chat (docs/identity-and-consent.md §5).
PHONE_CHANGE_WAITING = "phone_change_waiting"
# A chat's proven number that a waiting request names (asked_numbers): the request is the
# one claim on it until it is approved or withdrawn.
NUMBER_ASKED = "number_asked"
# A chat's proven number offered as the first phone of a citizen with money to spend: the
# chat's link to the citizen never proved it is the person's (docs/identity-and-consent.md
# §5), so the number waits for the office's four eyes (money_at_stake, phone_changes).
PHONE_NEEDS_APPROVAL = "phone_needs_approval"
# A chat's proven number that another household registered as its delegate, offered as the
# first phone of a citizen with money to spend: the office's approval would refuse it
# (check_new_phone), so it is refused at once rather than left waiting for a manager.
PHONE_OF_A_DELEGATE = "phone_of_a_delegate"


class IdentityRefused(NotAllowed):
    """A binding the rules forbid. `reason` is for the log and the office; a person in a
    chat always hears the same neutral sentence, whatever the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(Refusal.IDENTITY_REFUSED, reason=reason)
        self.reason = reason


class DelegateNumber(IdentityRefused):
    """A Telegram chat linked to a citizen (who has a phone of their own or none) proved,
    with its own contact, the number registered as that citizen's delegate, or as another
    household's delegate when it cannot become this citizen's own (they have a phone, money
    to spend, PHONE_OF_A_DELEGATE, or a change of their phone waits): the account is the
    delegate's, so it acts as that delegate's number does, never as the citizen
    (link_telegram unlinks it, and withdraws the phone change the chat asked,
    withdraw_chat_request). Nothing is bound; the chat hears what a delegate's number is
    for, nothing about whose it is."""

    def __init__(self) -> None:
        super().__init__(PHONE_IS_DELEGATE)


class PhoneChangeWaiting(IdentityRefused):
    """A chat proved a number for a citizen without a phone while a new phone asked by the
    office for that citizen waits for a second operator: nothing is bound (while a change
    waits no other number is), and the chat hears that the office is changing the number,
    nothing of the change itself."""

    def __init__(self) -> None:
        super().__init__(PHONE_CHANGE_WAITING)


class FirstNumberNeedsOffice(IdentityRefused):
    """A Telegram chat linked to a citizen without a phone proved a number with its own
    contact while the citizen has money to spend (money_at_stake): nothing is bound. The
    link was made by an application from that chat before phones were required, by
    whoever typed the codice fiscale there (a relative, a delegate, anybody): it proves the
    chat's number, not that the chat is the person. The number waits for the office as a
    phone change the chat asked (`change`: made now, or the one this chat asked before for
    this number), which one manager approves, the contact being the first pair of eyes
    (core.services.phone_changes); the chat hears that the office will check the number,
    nothing about the money."""

    def __init__(self, change: m.PhoneChange | None = None) -> None:
        super().__init__(PHONE_NEEDS_APPROVAL)
        self.change = change
