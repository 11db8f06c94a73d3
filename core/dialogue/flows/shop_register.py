"""A shop asks to join (name, partita IVA, kind, address, position, IBAN); the office approves."""

from __future__ import annotations

import re

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import (
    VERIFY,
    ConfirmedFlow,
    Step,
    Takes,
    known,
    resume,
    table,
    verify,
)
from core.dialogue.flows.member_phone import SHARE_TO_JOIN, shared_phone
from core.dialogue.flows.shop_finder import town_matches
from core.dialogue.menus import CATEGORY_LABELS
from core.dialogue.state import RegisterState
from core.domain.channels import Channel
from core.domain.errors import DomainError, InvalidIdentifier
from core.domain.geo import valid_position
from core.domain.gsm7 import to_gsm7
from core.domain.identity import normalize_iban, normalize_partita_iva
from core.domain.messages import Option, Text, t
from core.domain.shops import (
    MAX_SHOP_NAME,
    ShopCategory,
    ShopStatus,
    category_in_words,
    has_street_number,
)
from core.services import shops as shop_service

# Names and addresses are shown in SMS receipts and payment codes, which must fit one SMS.
MAX_NAME = MAX_SHOP_NAME
MAX_TYPED_NAME = 60
MAX_ADDRESS = 50
MAX_TOWN = 40
# The kind of shop as a labelled line of the summary.
CATEGORY_LINES: dict[ShopCategory, Text] = {
    ShopCategory.GROCERY: t("Type: grocery"),
    ShopCategory.BAKERY: t("Type: bakery"),
    ShopCategory.BUTCHER: t("Type: butcher"),
    ShopCategory.GREENGROCER: t("Type: greengrocer"),
    ShopCategory.PHARMACY: t("Type: pharmacy"),
    ShopCategory.OTHER: t("Type: other shop"),
}
_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:[.,]\d+)?)\s*[;, ]\s*(-?\d{1,3}(?:[.,]\d+)?)\s*$")


ANSWERS = ("name", "vat", "category", "address", "town", "postcode", "position", "iban")


class ShopRegisterFlow(ConfirmedFlow[RegisterState]):
    name = "register"
    doing = t("You were registering your shop.")
    state_type = RegisterState
    keeps_draft = True

    def draft_reminder(self) -> Text:
        return t("Your shop registration is not finished: write REGISTRA to continue it.")

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """Every answer: a code sent for them registers only them."""
        s = self.state(turn)
        answers = (s.name, s.vat, s.category, s.address, s.town, s.postcode, s.lat, s.lon)
        return tuple(str(x) for x in (*answers, s.iban))

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        """The shop's name and partita IVA, as the summary showed them."""
        s = self.state(turn)
        return t(
            "Code {code} confirms the registration of {shop}, P.IVA {vat}. Do not share it "
            "with anyone. Valid {minutes} min.",
            code=code,
            shop=known(s.name),
            vat=known(s.vat),
            minutes=minutes,
        )

    async def next_step(self, turn: Turn, current: str) -> None:
        s = self.state(turn)
        if s.back == "summary":
            s.back = None
            await self.goto(turn, "summary")
            return
        order = (*ANSWERS, "summary")
        following = order[order.index(current) + 1]
        if following == "position" and turn.is_sms:
            following = "iban"  # an SMS cannot share a position
        await self.goto(turn, following)

    async def ask_name(self, turn: Turn) -> None:
        turn.say(t("Shop registration. Write the name of the shop, as customers know it."))

    async def on_name(self, turn: Turn, inp: Input) -> None:
        if not inp.text:
            raise Reject(t("Write the name of the shop."))
        # The limit is on the name as an SMS shows it (emoji dropped, “ ” as "): it is kept
        # as typed, and receipts by SMS must still fit one segment.
        if len(inp.text) > MAX_TYPED_NAME or len(to_gsm7(inp.text)) > MAX_NAME:
            raise Reject(t("The name is too long: at most {max} characters.", max=MAX_NAME))
        # Asked now rather than after every answer: the service asks again when it registers.
        try:
            await shop_service.refuse_taken_name(turn.uow, turn.town.id, inp.text)
        except DomainError as error:
            raise Reject(error_text(error)) from error
        self.state(turn).name = inp.text
        await self.next_step(turn, "name")

    async def ask_vat(self, turn: Turn) -> None:
        turn.say(t("Write the partita IVA of the shop (11 digits)."))

    async def on_vat(self, turn: Turn, inp: Input) -> None:
        try:
            self.state(turn).vat = normalize_partita_iva(inp.text)
        except InvalidIdentifier as error:
            raise Reject(error_text(error)) from error
        await self.next_step(turn, "vat")

    async def ask_category(self, turn: Turn) -> None:
        turn.say(
            t("What kind of shop is it?"),
            options=[
                Option(f"cat:{category.value}", label)
                for category, label in CATEGORY_LABELS.items()
            ],
        )

    async def on_category(self, turn: Turn, inp: Input) -> None:
        category: ShopCategory | None = None
        if inp.choice and inp.choice.startswith("cat:"):
            try:
                category = ShopCategory(inp.choice.removeprefix("cat:"))
            except ValueError:
                category = None
        elif inp.text:
            category = category_in_words(inp.text)
        if category is None:
            raise Reject(t("Reply with the number of the kind of shop."))
        self.state(turn).category = category
        await self.next_step(turn, "category")

    async def ask_address(self, turn: Turn) -> None:
        turn.say(t("Write the address of the shop: street and number, e.g. Via Roma 12."))

    async def on_address(self, turn: Turn, inp: Input) -> None:
        if not inp.text or len(inp.text) > MAX_ADDRESS:
            raise Reject(
                t("Write the street and number, at most {max} characters.", max=MAX_ADDRESS)
            )
        if not has_street_number(inp.text):
            # Customers and the office look for the shop on its street: "via roma" alone
            # does not say where.
            raise Reject(
                t("Write the number too, e.g. Via Roma 12 (or s.n.c. if the shop has none).")
            )
        self.state(turn).address = inp.text
        await self.next_step(turn, "address")

    async def ask_town(self, turn: Turn) -> None:
        turn.say(
            t("In which town is the shop?"),
            options=(Option("here", t("{town}", town=turn.town.name)),),
        )

    async def on_town(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "here" or (inp.text and town_matches(inp.text, turn.town.name)):
            # "belforte" is the municipality, written as its name: customers who search by
            # its name find the shop (shop_finder searches the town as stored).
            town = turn.town.name
        elif inp.text and len(inp.text) <= MAX_TOWN and not inp.text.isdigit():
            town = inp.text
        else:
            raise Reject(t("Write the name of the town."))
        self.state(turn).town = town
        await self.next_step(turn, "town")

    async def ask_postcode(self, turn: Turn) -> None:
        turn.say(t("Write the postcode (CAP), 5 digits."))

    async def on_postcode(self, turn: Turn, inp: Input) -> None:
        if not (inp.word.isdigit() and len(inp.word) == 5):
            raise Reject(t("A postcode (CAP) has 5 digits, e.g. 62020."))
        self.state(turn).postcode = inp.word
        await self.next_step(turn, "postcode")

    async def ask_position(self, turn: Turn) -> None:
        turn.say(
            t("Share the position of the shop, so that customers find it on the map. Or skip."),
            options=(Option("skip", t("Skip")),),
            request="location",
        )

    async def on_position(self, turn: Turn, inp: Input) -> None:
        s = self.state(turn)
        if inp.choice == "skip":
            s.lat = s.lon = None
        elif inp.location is not None and valid_position(
            inp.location.latitude, inp.location.longitude
        ):
            s.lat, s.lon = inp.location.latitude, inp.location.longitude
        else:
            match = _COORDINATES.match(inp.text)
            if match is None:
                raise Reject(t("Share the position with the button, or reply 1 to skip."))
            lat, lon = (float(x.replace(",", ".")) for x in match.groups())
            if not valid_position(lat, lon):
                raise Reject(t("This position is not valid. Share it again or skip."))
            s.lat, s.lon = lat, lon
        await self.next_step(turn, "position")

    async def ask_iban(self, turn: Turn) -> None:
        turn.say(t("Write the IBAN where the municipality will reimburse the vouchers."))

    async def on_iban(self, turn: Turn, inp: Input) -> None:
        try:
            self.state(turn).iban = normalize_iban(inp.text)
        except InvalidIdentifier as error:
            raise Reject(error_text(error)) from error
        await self.next_step(turn, "iban")

    async def ask_summary(self, turn: Turn) -> None:
        s = self.state(turn)
        turn.say_summary(
            [
                t("Name: {shop}", shop=known(s.name)),
                CATEGORY_LINES[known(s.category)],
                t("P.IVA: {vat}", vat=known(s.vat)),
                t(
                    "Address: {address}, {postcode} {town}",
                    address=known(s.address),
                    postcode=known(s.postcode),
                    town=known(s.town),
                ),
                t("IBAN: {iban}", iban=known(s.iban)),
            ],
            t("Send the registration to the municipality?"),
            options=(
                Option("send", t("Send")),
                Option("change", t("Change")),
                Option("cancel", t("Cancel")),
            ),
        )

    async def on_summary(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "send" and turn.channel == Channel.TELEGRAM:
            # Telegram tells no phone: the owner shares their own (flows/member_phone).
            await self.goto(turn, "contact")
        elif inp.choice == "send":
            await self.confirm_then_do(turn)
        elif inp.choice == "change":
            await self.goto(turn, "change")
        else:
            raise Reject(t("Reply 1 to send, 2 to change something, or ANNULLA."))

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(SHARE_TO_JOIN, request="contact")

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        self.state(turn).phone = shared_phone(inp)
        await self.confirm_then_do(turn)

    async def ask_change(self, turn: Turn) -> None:
        options = [
            Option("name", t("Name")),
            Option("vat", t("Partita IVA")),
            Option("category", t("Kind of shop")),
            Option("address", t("Address")),
            Option("town", t("Town")),
            Option("postcode", t("Postcode")),
            Option("iban", t("IBAN")),
        ]
        if not turn.is_sms:
            options.insert(6, Option("position", t("Position")))
        turn.say(t("What do you want to change?"), options=options)

    async def on_change(self, turn: Turn, inp: Input) -> None:
        allowed = {"name", "vat", "category", "address", "town", "postcode", "iban"} | (
            set() if turn.is_sms else {"position"}
        )
        if inp.choice not in allowed:
            raise Reject(t("Reply with the number of the answer to change."))
        self.state(turn).back = "summary"
        await self.goto(turn, inp.choice)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        data = shop_service.ShopInput(
            name=known(s.name),
            vat_number=known(s.vat),
            category=known(s.category),
            address=known(s.address),
            town=known(s.town),
            postcode=known(s.postcode),
            latitude=s.lat,
            longitude=s.lon,
            iban=known(s.iban),
        )
        self.drop_draft(turn)
        turn.finish()
        # Read before the new shop joins the chat's shops (then none would be the only one).
        current = await turn.shop()
        try:
            shop = await shop_service.register_shop(
                turn.uow,
                turn.town.id,
                data,
                owner_channel=turn.channel,
                owner_address=turn.address,
                now=turn.now,
                owner_phone=s.phone,
            )
        except DomainError as error:
            turn.say(error_text(error))
            return
        # A chat that charges for an approved shop keeps charging there while this one
        # waits (a cashier, or an owner's second outlet); MENU offers to change shop.
        charging = current is not None and current[1].status == ShopStatus.APPROVED
        turn.memory.shop_id = current[1].id if current is not None and charging else shop.id
        turn.say(
            t(
                "Registration of {shop} sent. The municipality will check it and write "
                "to you here.",
                shop=shop.name,
            )
        )

    # One question per answer, in ANSWERS order (no position by SMS), then the summary;
    # "change" goes back to one answer, which returns to the summary.
    entry = ("name",)
    steps = table(
        {
            "name": Step(ask_name, on_name, to=("vat", "summary")),
            "vat": Step(ask_vat, on_vat, to=("category", "summary")),
            "category": Step(ask_category, on_category, to=("address", "summary")),
            "address": Step(ask_address, on_address, to=("town", "summary")),
            "town": Step(ask_town, on_town, to=("postcode", "summary")),
            "postcode": Step(ask_postcode, on_postcode, to=("position", "iban", "summary")),
            "position": Step(
                ask_position, on_position, to=("iban", "summary"), takes=Takes.LOCATION
            ),
            "iban": Step(ask_iban, on_iban, to=("summary",)),
            "summary": Step(ask_summary, on_summary, to=(VERIFY, "change", "contact")),
            # On Telegram the owner's own contact, then the registration is sent.
            "contact": Step(ask_contact, on_contact, to=(VERIFY,), takes=Takes.CONTACT),
            "change": Step(ask_change, on_change, to=ANSWERS),
            VERIFY: verify(),  # then the registration is sent and the flow ends
            "resume": resume(*ANSWERS, "summary", "change", "contact", VERIFY),
        }
    )
