"""A municipality's eligibility and allocation rules, as data (docs/allocation.md).

A policy is a TOML file validated on load; every problem is reported as a
PolicyError naming the dotted TOML key, so the office can fix the file without
reading code. See core/policies/belforte.toml for the layout.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Literal, TypeVar

from core.domain.errors import InvalidAmount, PolicyError
from core.domain.money import format_plain, parse_plain

List2Mode = Literal["fill", "proportional"]
LIST2_MODES: tuple[List2Mode, ...] = ("fill", "proportional")

DEFAULT_POLICY_RESOURCE = "belforte.toml"

_T = TypeVar("_T")
MAX_VOUCHER_REFUND_DAYS = 365

# Sane ranges: a value outside them is a typo (a TTL of 2^63 minutes, 10^20 euro) that would
# otherwise pass the check and break at run time (date overflow, 64-bit columns).
# Whole-number keys: (lowest, highest), both allowed.
INT_RANGES: dict[str, tuple[int, int]] = {
    "policy.application_window_days": (1, 366),  # at most a year
    # Days after the decision notice within which a citizen may appeal from the chat.
    "policy.appeal_days": (1, 365),
    "payments.charge_ttl_minutes": (1, 24 * 60),  # a code at the till, not for days
    "payments.max_code_attempts": (1, 10),  # more would let a shop guess a code
    "payments.shop_lock_after_wrong_codes": (1, 100),
    "payments.shop_lock_minutes": (1, 7 * 24 * 60),  # a week; longer is the office's block
    "payments.shop_block_after_wrong_codes": (2, 1000),
    # A refund window longer than a year would keep a shop liable for money long spent.
    "payments.voucher_refund_days": (1, MAX_VOUCHER_REFUND_DAYS),
    # Payment codes one person may receive in an hour, from every shop together.
    "payments.codes_per_person_per_hour": (1, 60),
}
MAX_NAME_CHARACTERS = 200
MAX_SIZE_BANDS = 20  # household sizes 1..20; the last band covers larger households
MAX_AMOUNT_CENTS = 10_000_00  # a one-off grocery voucher for one household
MAX_LIQUIDITY_THRESHOLD_CENTS = 100_000_00  # far above any exclusion threshold
MAX_ROUNDING_UNIT_CENTS = 100_00
EARLIEST_REFERENCE_DATE = date(2000, 1, 1)
LATEST_REFERENCE_DATE = date(2100, 12, 31)


@dataclass(frozen=True)
class Policy:
    """Eligibility and allocation rules. Money in int cents.

    Size-indexed tuples: index 0 is a household of 1 member and the last entry
    applies to every larger household too.
    """

    name: str
    amounts_by_size_cents: tuple[int, ...]
    liquidity_thresholds_cents: tuple[int, ...]
    exclude_work_income: bool
    exclude_pension: bool
    list2_mode: List2Mode
    liquidity_reference_date: date
    rounding_unit_cents: int = 1
    application_window_days: int = 4
    # A citizen may appeal (RICORSO) this many days after their decision was notified.
    appeal_days: int = 30
    charge_ttl_minutes: int = 10
    max_code_attempts: int = 3
    # Wrong payment codes a shop may type in 24 hours, whatever became of its charges:
    # at the first limit it is locked for shop_lock_minutes, at the second until the office
    # unlocks it (docs/payments-and-codes.md).
    shop_lock_after_wrong_codes: int = 5
    shop_lock_minutes: int = 30
    shop_block_after_wrong_codes: int = 10
    # Days after purchase within which a shop may refund a community voucher nobody spent.
    voucher_refund_days: int = 14
    # Payment codes sent to one person (or one voucher holder) in an hour, from all shops
    # together; over it a new charge is refused and nothing is sent (no flooding of codes).
    codes_per_person_per_hour: int = 6
    # The largest single payment a shop may ask (`payments.max_payment_eur`); None: the
    # largest amount of [amounts], the whole voucher of the largest household. Checked
    # before anybody is looked up or any code is sent (docs/payments-and-codes.md).
    max_payment_cents: int | None = None

    def __post_init__(self) -> None:
        # Also guards policies built in code (tests, dataclasses.replace), not only TOML.
        if not self.name.strip():
            raise PolicyError("policy.name", "must not be empty")
        if len(self.name) > MAX_NAME_CHARACTERS:
            raise PolicyError("policy.name", f"must be at most {MAX_NAME_CHARACTERS} characters")
        if self.rounding_unit_cents < 1:
            raise PolicyError("policy.rounding_unit_eur", "must be a positive amount in euro")
        _euro_at_most("policy.rounding_unit_eur", self.rounding_unit_cents, MAX_ROUNDING_UNIT_CENTS)
        if not EARLIEST_REFERENCE_DATE <= self.liquidity_reference_date <= LATEST_REFERENCE_DATE:
            raise PolicyError(
                "policy.liquidity_reference_date",
                f"must be between {EARLIEST_REFERENCE_DATE.isoformat()} and "
                f"{LATEST_REFERENCE_DATE.isoformat()}, "
                f"got {self.liquidity_reference_date.isoformat()}",
            )
        for prefix, sized in (
            ("amounts", self.amounts_by_size_cents),
            ("liquidity_thresholds", self.liquidity_thresholds_cents),
        ):
            if len(sized) > MAX_SIZE_BANDS:
                raise PolicyError(
                    f"{prefix}.{MAX_SIZE_BANDS + 1}",
                    f"sizes go up to {MAX_SIZE_BANDS} members; the last one applies to larger "
                    "households too",
                )
        if not self.amounts_by_size_cents:
            raise PolicyError("amounts", "must list at least the amount for 1 member")
        for size, cents in enumerate(self.amounts_by_size_cents, start=1):
            if cents <= 0:
                raise PolicyError(
                    f"amounts.{size}",
                    f"must be a positive amount in euro, got '{format_plain(cents)}'",
                )
            _euro_at_most(f"amounts.{size}", cents, MAX_AMOUNT_CENTS)
            # Proportional cuts hand out whole units; a full amount off the grid could not be
            # reached, nor capped, exactly.
            if cents % self.rounding_unit_cents:
                raise PolicyError(
                    f"amounts.{size}",
                    f"must be a multiple of the rounding unit "
                    f"({format_plain(self.rounding_unit_cents)} euro), "
                    f"got '{format_plain(cents)}'",
                )
        if not self.liquidity_thresholds_cents:
            raise PolicyError(
                "liquidity_thresholds", "must list at least the threshold for 1 member"
            )
        for size, cents in enumerate(self.liquidity_thresholds_cents, start=1):
            if cents < 0:
                raise PolicyError(
                    f"liquidity_thresholds.{size}",
                    f"must be a non-negative amount in euro, got '{format_plain(cents)}'",
                )
            _euro_at_most(f"liquidity_thresholds.{size}", cents, MAX_LIQUIDITY_THRESHOLD_CENTS)
        if self.list2_mode not in LIST2_MODES:
            raise PolicyError(
                "list2.mode", f"must be 'fill' or 'proportional', got {self.list2_mode!r}"
            )
        for key, value in (
            ("policy.application_window_days", self.application_window_days),
            ("policy.appeal_days", self.appeal_days),
            ("payments.charge_ttl_minutes", self.charge_ttl_minutes),
            ("payments.max_code_attempts", self.max_code_attempts),
            ("payments.shop_lock_after_wrong_codes", self.shop_lock_after_wrong_codes),
            ("payments.shop_lock_minutes", self.shop_lock_minutes),
            ("payments.shop_block_after_wrong_codes", self.shop_block_after_wrong_codes),
            ("payments.voucher_refund_days", self.voucher_refund_days),
            ("payments.codes_per_person_per_hour", self.codes_per_person_per_hour),
        ):
            low, high = INT_RANGES[key]
            if not low <= value <= high:
                raise PolicyError(key, f"must be a whole number from {low} to {high}, got {value}")
        if self.max_payment_cents is not None:
            if self.max_payment_cents <= 0:
                raise PolicyError("payments.max_payment_eur", "must be a positive amount in euro")
            _euro_at_most("payments.max_payment_eur", self.max_payment_cents, MAX_AMOUNT_CENTS)
        if self.shop_block_after_wrong_codes <= self.shop_lock_after_wrong_codes:
            raise PolicyError(
                "payments.shop_block_after_wrong_codes",
                "must be more than payments.shop_lock_after_wrong_codes",
            )

    def full_amount_cents(self, household_size: int) -> int:
        """The one-off amount for a household of this size, before any budget cut."""
        return _by_size(self.amounts_by_size_cents, household_size)

    def payment_ceiling_cents(self) -> int:
        """The largest single payment a shop may ask: the town's `payments.max_payment_eur`,
        else the largest full amount of [amounts]. The same for every customer, so saying
        it tells a shop nothing about anyone's balance."""
        if self.max_payment_cents is not None:
            return self.max_payment_cents
        return max(self.amounts_by_size_cents)

    def liquidity_threshold_cents(self, household_size: int) -> int:
        """Liquidity above this excludes the household; exactly this amount is admitted."""
        return _by_size(self.liquidity_thresholds_cents, household_size)


def _euro_at_most(key: str, cents: int, highest: int) -> None:
    if cents > highest:
        raise PolicyError(
            key, f"must be at most {format_plain(highest)} euro, got '{format_plain(cents)}'"
        )


def _by_size(values: tuple[int, ...], household_size: int) -> int:
    if household_size < 1:
        raise ValueError(f"household size must be at least 1, got {household_size}")
    return values[min(household_size, len(values)) - 1]


# --- loading -----------------------------------------------------------------------------------


def default_policy() -> Policy:
    """The Belforte del Chienti disciplinare shipped with the package."""
    text = resources.files("core.policies").joinpath(DEFAULT_POLICY_RESOURCE).read_text("utf-8")
    return parse_policy(text)


def load_policy(path: str | PathLike[str]) -> Policy:
    return parse_policy(Path(path).read_text(encoding="utf-8"))


def parse_policy(text: str) -> Policy:
    """Parse and validate a policy TOML document. Raises PolicyError naming the bad key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("toml", f"is not valid TOML: {exc}") from None

    _only_keys(
        doc, "", {"policy", "amounts", "liquidity_thresholds", "exclusions", "list2", "payments"}
    )
    policy = _table(doc, "policy", required=True)
    amounts = _table(doc, "amounts", required=True)
    thresholds = _table(doc, "liquidity_thresholds", required=True)
    exclusions = _table(doc, "exclusions", required=True)
    list2 = _table(doc, "list2", required=True)
    payments = _table(doc, "payments", required=False)

    _only_keys(
        policy,
        "policy",
        {
            "name",
            "application_window_days",
            "appeal_days",
            "rounding_unit_eur",
            "liquidity_reference_date",
        },
    )
    _only_keys(exclusions, "exclusions", {"work_income", "pension"})
    _only_keys(list2, "list2", {"mode"})
    _only_keys(
        payments,
        "payments",
        {
            "charge_ttl_minutes",
            "max_code_attempts",
            "shop_lock_after_wrong_codes",
            "shop_lock_minutes",
            "shop_block_after_wrong_codes",
            "voucher_refund_days",
            "codes_per_person_per_hour",
            "max_payment_eur",
            # Counted cancelled charges before wrong codes were counted: accepted, unused.
            "shop_lock_after_failed_charges",
        },
    )

    name = _get(policy, "policy.name", _string)
    rounding_unit = _get(policy, "policy.rounding_unit_eur", _positive_euro, default="0.01")
    reference_date = _get(policy, "policy.liquidity_reference_date", _date)
    window_days = _get(policy, "policy.application_window_days", _positive_int, default=4)
    appeal_days = _get(policy, "policy.appeal_days", _positive_int, default=30)

    mode = _get(list2, "list2.mode", _string)
    if mode not in LIST2_MODES:
        raise PolicyError("list2.mode", f"must be 'fill' or 'proportional', got {mode!r}")

    return Policy(
        name=name,
        amounts_by_size_cents=_sized(amounts, "amounts", _positive_euro),
        liquidity_thresholds_cents=_sized(thresholds, "liquidity_thresholds", _non_negative_euro),
        exclude_work_income=_get(exclusions, "exclusions.work_income", _bool),
        exclude_pension=_get(exclusions, "exclusions.pension", _bool),
        list2_mode=mode,
        rounding_unit_cents=rounding_unit,
        application_window_days=window_days,
        appeal_days=appeal_days,
        liquidity_reference_date=reference_date,
        charge_ttl_minutes=_get(payments, "payments.charge_ttl_minutes", _positive_int, 10),
        max_code_attempts=_get(payments, "payments.max_code_attempts", _positive_int, 3),
        shop_lock_after_wrong_codes=_get(
            payments, "payments.shop_lock_after_wrong_codes", _positive_int, 5
        ),
        shop_lock_minutes=_get(payments, "payments.shop_lock_minutes", _positive_int, 30),
        shop_block_after_wrong_codes=_get(
            payments, "payments.shop_block_after_wrong_codes", _positive_int, 10
        ),
        voucher_refund_days=_get(payments, "payments.voucher_refund_days", _positive_int, 14),
        codes_per_person_per_hour=_get(
            payments, "payments.codes_per_person_per_hour", _positive_int, 6
        ),
        max_payment_cents=(
            _get(payments, "payments.max_payment_eur", _positive_euro)
            if "max_payment_eur" in payments
            else None
        ),
    )


def _table(doc: Mapping[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    value = doc.get(key)
    if value is None:
        if required:
            raise PolicyError(key, "missing")
        return {}
    if not isinstance(value, dict):
        raise PolicyError(key, f"must be a table ([{key}]), got {_kind(value)}")
    return value


def _only_keys(table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            dotted = f"{prefix}.{key}" if prefix else key
            raise PolicyError(
                dotted, f"unknown key (expected one of: {', '.join(sorted(allowed))})"
            )


_MISSING = object()


def _get(
    table: Mapping[str, Any],
    dotted: str,
    convert: Callable[[str, object], _T],
    default: object = _MISSING,
) -> _T:
    key = dotted.rsplit(".", 1)[-1]
    if key not in table:
        if default is _MISSING:
            raise PolicyError(dotted, "missing")
        # Defaults go through the converter too, so they are typed like parsed values.
        return convert(dotted, default)
    return convert(dotted, table[key])


def _sized(
    table: Mapping[str, Any], prefix: str, convert: Callable[[str, object], int]
) -> tuple[int, ...]:
    """A table keyed by household size 1..N (TOML bare keys "1", "2", …) -> tuple by size."""
    if not table:
        raise PolicyError(prefix, "missing: list at least the value for 1 member")
    by_size: dict[int, int] = {}
    for key, value in table.items():
        dotted = f"{prefix}.{key}"
        # Canonical digits only: "01" or "+1" would hide a typo.
        if not key.isdigit() or key != str(int(key)) or int(key) < 1:
            raise PolicyError(dotted, "unknown key: sizes must be whole numbers of members 1..N")
        by_size[int(key)] = convert(dotted, value)
    expected = range(1, len(by_size) + 1)
    if sorted(by_size) != list(expected):
        missing = min(set(expected) - set(by_size))
        raise PolicyError(
            f"{prefix}.{missing}",
            "missing: sizes must be 1..N without gaps (the last applies to larger households)",
        )
    return tuple(by_size[size] for size in expected)


# --- value converters: (dotted key, raw TOML value) -> typed value, or PolicyError -------------


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    for typ, label in names.items():
        if isinstance(value, typ):
            return f"{label} ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _euro(dotted: str, value: object, *, allow_zero: bool) -> int:
    label = "a non-negative" if allow_zero else "a positive"
    if isinstance(value, float):
        # 0.1 + 0.2 != 0.3: amounts must be exact, so only integers or strings.
        raise PolicyError(
            dotted,
            f"must be {label} amount in euro written as an integer or a string like "
            f'"150.00", got the float {value!r} (floats are not exact)',
        )
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PolicyError(dotted, f"must be {label} amount in euro, got {_kind(value)}")
    text = str(value)
    if len(text) > 20:
        # No policy amount has this many digits; refused before any arithmetic on it.
        raise PolicyError(dotted, f"must be {label} amount in euro, got a {len(text)}-digit value")
    try:
        cents = parse_plain(text)
    except InvalidAmount:
        raise PolicyError(dotted, f"must be {label} amount in euro, got {text!r}") from None
    if cents == 0 and not allow_zero:
        raise PolicyError(dotted, f"must be {label} amount in euro, got {text!r}")
    return cents


def _positive_euro(dotted: str, value: object) -> int:
    return _euro(dotted, value, allow_zero=False)


def _non_negative_euro(dotted: str, value: object) -> int:
    return _euro(dotted, value, allow_zero=True)


def _positive_int(dotted: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(dotted, f"must be a positive whole number, got {_kind(value)}")
    low, high = INT_RANGES.get(dotted, (1, value))
    if not low <= value <= high:
        # Checked here too, before anything converts a huge number (e.g. into a timedelta).
        raise PolicyError(dotted, f"must be a whole number from {low} to {high}, got {value}")
    return value


def _bool(dotted: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(dotted, f"must be true or false, got {_kind(value)}")
    return value


def _string(dotted: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(dotted, f"must be a non-empty string, got {_kind(value)}")
    return value.strip()


def _date(dotted: str, value: object) -> date:
    # TOML datetimes are datetime instances, which are also dates: only a plain date is meant.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyError(dotted, f"must be a date like 2020-03-31, got {_kind(value)}")
