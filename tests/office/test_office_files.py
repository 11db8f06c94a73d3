"""The office's files and refusals (security trial): the refusal to withdraw someone else's act
saying who may."""

from __future__ import annotations

from html import unescape

from core.bootstrap import Core
from tests.conftest import FakeClock
from tests.office.conftest import Towns, signed_in
from tests.office.test_four_eyes import closed_round_with_applications, prepare


async def test_withdrawing_someone_elses_act_says_who_may(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    preparer = await signed_in(towns.server, "bel.manager")
    act = await prepare(preparer, kind="determina", budget="400")
    for username in ("bel.clerk", "bel.viewer"):
        other = await signed_in(towns.server, username)
        page = await other.post(f"/office/acts/{act}/withdraw", {"reason": "not needed"})
        said = unescape(page.text)
        assert page.status == 403, username
        assert "Solo chi ha il ruolo di responsabile può farlo" not in said, username
        assert (
            "Solo un o una responsabile, o chi ha preparato questo atto, può ritirarlo" in said
        ), said
