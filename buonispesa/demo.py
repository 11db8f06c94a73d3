"""The demo town: a municipality with shops, citizens, a credited tranche and an open window.

Used by `buonispesa demo` (and `make run`, on an empty database) so that a
newcomer can try every conversation at once with `buonispesa chat`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stdnum import iban, luhn
from stdnum.it import codicefiscale

from core.bootstrap import Core
from core.domain.channels import Channel
from core.domain.shops import ShopCategory
from core.services import allocation, fund, municipalities, operators
from core.services.applications import ApplicationInput, submit_application
from core.services.municipalities import default_policy_text
from core.services.shops import ShopInput, approve_shop, register_shop
from core.storage import models as m

DEMO_CODE = "BEL"
DEMO_NAME = "Belforte del Chienti"
DEMO_SMS_NUMBER = "+390733905000"
DEMO_IBAN = "IT60X0542811101000000123456"
DEMO_BUDGET_CENTS = 2_000_00
# The demo town's fund: what a town of its size could have received (illustrative amounts,
# not the real ones), the State's share and the town's own money. The first tranche
# commits DEMO_BUDGET_CENTS of it; the rest is left for the next determine.
DEMO_FUND = (
    (9_500_00, "Stato: fondo di solidarietà alimentare (OCDPC 658/2020)"),
    (1_500_00, "Comune: fondi propri di bilancio"),
)
# The demo town's office accounts (/office/), all with this documented password: a demo
# is for trying, never for real data. Real operators get one-time passwords.
DEMO_OPERATOR_PASSWORD = "belforte-demo"
DEMO_OPERATORS = (("bel.clerk", "clerk"), ("bel.manager", "manager"), ("bel.viewer", "viewer"))


def _cf(stem: str) -> str:
    """A well-formed codice fiscale from its first 15 characters (the check letter computed)."""
    return stem + codicefiscale.calc_check_digit(stem)


def _partita_iva(stem: str) -> str:
    """A well-formed partita IVA from its first 10 digits (the Luhn digit computed)."""
    return stem + luhn.calc_check_digit(stem)


@dataclass(frozen=True)
class DemoCitizen:
    codice_fiscale: str
    phone: str
    household_size: int
    liquidity_eur: int
    support_eur: int
    rent_eur: int
    has_work_income: bool = False


DEMO_CITIZENS = (
    DemoCitizen(_cf("RSSMRA85T10A739"), "+393331000001", 4, 900, 0, 0),
    DemoCitizen(_cf("BNCLRA90A41A739"), "+393331000002", 1, 200, 0, 0),
    DemoCitizen(_cf("VRDGPP70C12A739"), "+393331000003", 3, 1500, 450, 400),
    DemoCitizen(_cf("NREFNC65E55A739"), "+393331000004", 2, 12000, 0, 0),
    DemoCitizen(_cf("GLLMRC80M20A739"), "+393331000005", 5, 300, 780, 350),
    DemoCitizen(_cf("FRRLCU75P01A739"), "+393331000006", 2, 500, 0, 0, has_work_income=True),
)

# Real streets of the town, positions on its map.
DEMO_SHOPS = (
    (
        "Alimentari Da Rita",
        _partita_iva("0074311015"),
        ShopCategory.GROCERY,
        "Via Roma 12",
        43.16412,
        13.23851,
        "+393331000101",
    ),
    (
        "Forno Chienti",
        _partita_iva("0048841001"),
        ShopCategory.BAKERY,
        "Piazza Umberto I 3",
        43.16361,
        13.23972,
        "+393331000102",
    ),
    (
        "Macelleria Paoletti",
        _partita_iva("0111460100"),
        ShopCategory.BUTCHER,
        "Via Garibaldi 40",
        43.16250,
        13.24130,
        "+393331000103",
    ),
    (
        "Farmacia Comunale",
        _partita_iva("0205033054"),
        ShopCategory.PHARMACY,
        "Via Vittorio Veneto 5",
        43.16580,
        13.23600,
        "+393331000104",
    ),
)


def shop_iban(account: int) -> str:
    """A well-formed (fictitious) Italian IBAN of one bank branch, by account number: each
    shop its own, as a registration with another shop's IBAN is refused."""
    bban = f"S0542811101{account:012d}"
    return f"IT{iban.calc_check_digits('IT00' + bban)}{bban}"


_REFERENCE_DATE = re.compile(r"^liquidity_reference_date = .*$", re.MULTILINE)


def demo_reference_date(now: datetime) -> date:
    """The day the demo's households declare their savings on: the end of the month before
    the demo's window opens. The default policy keeps the disciplinare's 31/03/2020 (the
    2020 ordinance's date, which a real town sets in its own policy file); a demo tried
    today would otherwise ask about savings six years ago."""
    return now.date().replace(day=1) - timedelta(days=1)


def demo_policy_text(now: datetime) -> str:
    """The default policy with the demo's reference date: every other rule unchanged."""
    text, count = _REFERENCE_DATE.subn(
        f"liquidity_reference_date = {demo_reference_date(now).isoformat()}",
        default_policy_text(),
        count=1,
    )
    if count != 1:
        raise RuntimeError("the default policy has no liquidity_reference_date line")
    return text


async def seed_demo(core: Core, now: datetime | None = None) -> bool:
    """Create the demo town. Returns False (and changes nothing) when it already exists."""
    now = now or core.now()
    async with core.uow() as uow:
        if await uow.municipalities.by_code(DEMO_CODE) is not None:
            return False
        town = await municipalities.add_municipality(
            uow,
            code=DEMO_CODE,
            name=DEMO_NAME,
            now=now,
            policy_toml=demo_policy_text(now),
            sms_number=DEMO_SMS_NUMBER,
            iban=DEMO_IBAN,
        )
        for index, (name, vat, category, address, lat, lon, phone) in enumerate(DEMO_SHOPS):
            account = shop_iban(123456 + index)
            shop = await register_shop(
                uow,
                town.id,
                ShopInput(name, vat, category, address, DEMO_NAME, "62020", lat, lon, account),
                owner_channel=Channel.SMS,
                owner_address=phone,
                now=now,
            )
            # Approved before the demo starts: no notice to the (fictitious) owners.
            await approve_shop(uow, town.id, shop.id, now, notify=False)
            # The same person at the till may also use the terminal demo (`buonispesa chat`).
            uow.add(
                m.ShopMember(
                    shop_id=shop.id, channel="terminal", address=phone, role="owner", created_at=now
                )
            )
        # A first round, already closed, allocated and credited: citizens have balances.
        first_opened = now - timedelta(days=10)
        await municipalities.open_window(uow, town, first_opened, days=4)
        for offset, person in enumerate(DEMO_CITIZENS):
            await submit_application(
                uow,
                town,
                ApplicationInput(
                    codice_fiscale=person.codice_fiscale,
                    phone=person.phone,
                    household_size=person.household_size,
                    has_work_income=person.has_work_income,
                    has_pension=False,
                    liquidity_cents=person.liquidity_eur * 100,
                    public_support_monthly_cents=person.support_eur * 100,
                    rent_monthly_cents=person.rent_eur * 100,
                ),
                source="paper",
                now=first_opened + timedelta(hours=offset + 1),
            )
        for cents, source in DEMO_FUND:
            await fund.record(
                uow,
                town,
                cents,
                source,
                (first_opened - timedelta(days=2)).date(),
                first_opened - timedelta(days=2),
                actor="demo",
            )
        await allocation.approve(uow, town, DEMO_BUDGET_CENTS, now - timedelta(days=5))
        await allocation.credit(uow, town, now - timedelta(days=5))
        # The demo's notices are history, not news: do not send them when serve starts.
        await uow.outbox.mark_all_pending_sent(now)
        for username, role in DEMO_OPERATORS:
            await operators.add_operator(
                uow, town, username, role, now, actor="demo", password=DEMO_OPERATOR_PASSWORD
            )
        # A second window, open now, so that new applications can be tried.
        await municipalities.open_window(uow, town, now)
        await uow.commit()
    return True
