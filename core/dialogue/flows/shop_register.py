"""A shop asks to join (name, partita IVA, kind, address, position, IBAN); the office approves."""

from __future__ import annotations

import re

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import ConfirmedFlow
from core.dialogue.menus import CATEGORY_LABELS
from core.domain.errors import DomainError, InvalidIdentifier
from core.domain.geo import valid_position
from core.domain.gsm7 import to_gsm7
from core.domain.identity import normalize_iban, normalize_partita_iva
from core.domain.messages import Option, Text, t
from core.domain.shops import ShopCategory, parse_category
from core.services import shops as shop_service

# Names and addresses are shown in SMS receipts and payment codes, which must fit one SMS.
MAX_NAME = 40
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


class ShopRegisterFlow(ConfirmedFlow):
    name = "register"
    first_step = "name"
    keeps_draft = True
    location_steps = frozenset({"position"})

    async def next_step(self, turn: Turn, current: str) -> None:
        order = (
            "name",
            "vat",
            "category",
            "address",
            "town",
            "postcode",
            "position",
            "iban",
            "summary",
        )
        if turn.state.get("back") == "summary":
            turn.state.pop("back", None)
            await self.goto(turn, "summary")
            return
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
        turn.state["name"] = inp.text
        await self.next_step(turn, "name")

    async def ask_vat(self, turn: Turn) -> None:
        turn.say(t("Write the partita IVA of the shop (11 digits)."))

    async def on_vat(self, turn: Turn, inp: Input) -> None:
        try:
            turn.state["vat"] = normalize_partita_iva(inp.text)
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
            category = parse_category(inp.text)
        if category is None:
            raise Reject(t("Reply with the number of the kind of shop."))
        turn.state["category"] = category.value
        await self.next_step(turn, "category")

    async def ask_address(self, turn: Turn) -> None:
        turn.say(t("Write the address of the shop: street and number, e.g. Via Roma 12."))

    async def on_address(self, turn: Turn, inp: Input) -> None:
        if not inp.text or len(inp.text) > MAX_ADDRESS:
            raise Reject(
                t("Write the street and number, at most {max} characters.", max=MAX_ADDRESS)
            )
        turn.state["address"] = inp.text
        await self.next_step(turn, "address")

    async def ask_town(self, turn: Turn) -> None:
        turn.say(
            t("In which town is the shop?"),
            options=(Option("here", t("{town}", town=turn.town.name)),),
        )

    async def on_town(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "here":
            town = turn.town.name
        elif inp.text and len(inp.text) <= MAX_TOWN and not inp.text.isdigit():
            town = inp.text
        else:
            raise Reject(t("Write the name of the town."))
        turn.state["town"] = town
        await self.next_step(turn, "town")

    async def ask_postcode(self, turn: Turn) -> None:
        turn.say(t("Write the postcode (CAP), 5 digits."))

    async def on_postcode(self, turn: Turn, inp: Input) -> None:
        if not (inp.word.isdigit() and len(inp.word) == 5):
            raise Reject(t("A postcode (CAP) has 5 digits, e.g. 62020."))
        turn.state["postcode"] = inp.word
        await self.next_step(turn, "postcode")

    async def ask_position(self, turn: Turn) -> None:
        turn.say(
            t("Share the position of the shop, so that customers find it on the map. Or skip."),
            options=(Option("skip", t("Skip")),),
            request="location",
        )

    async def on_position(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "skip":
            turn.state["lat"] = turn.state["lon"] = None
        elif inp.location is not None and valid_position(
            inp.location.latitude, inp.location.longitude
        ):
            turn.state["lat"], turn.state["lon"] = inp.location.latitude, inp.location.longitude
        else:
            match = _COORDINATES.match(inp.text)
            if match is None:
                raise Reject(t("Share the position with the button, or reply 1 to skip."))
            lat, lon = (float(x.replace(",", ".")) for x in match.groups())
            if not valid_position(lat, lon):
                raise Reject(t("This position is not valid. Share it again or skip."))
            turn.state["lat"], turn.state["lon"] = lat, lon
        await self.next_step(turn, "position")

    async def ask_iban(self, turn: Turn) -> None:
        turn.say(t("Write the IBAN where the municipality will reimburse the vouchers."))

    async def on_iban(self, turn: Turn, inp: Input) -> None:
        try:
            turn.state["iban"] = normalize_iban(inp.text)
        except InvalidIdentifier as error:
            raise Reject(error_text(error)) from error
        await self.next_step(turn, "iban")

    async def ask_summary(self, turn: Turn) -> None:
        s = turn.state
        turn.say_summary(
            [
                t("Name: {shop}", shop=str(s["name"])),
                CATEGORY_LINES[ShopCategory(str(s["category"]))],
                t("P.IVA: {vat}", vat=str(s["vat"])),
                t(
                    "Address: {address}, {postcode} {town}",
                    address=str(s["address"]),
                    postcode=str(s["postcode"]),
                    town=str(s["town"]),
                ),
                t("IBAN: {iban}", iban=str(s["iban"])),
            ],
            t("Send the registration to the municipality?"),
            options=(
                Option("send", t("Send")),
                Option("change", t("Change")),
                Option("cancel", t("Cancel")),
            ),
        )

    async def on_summary(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "send":
            await self.confirm_then_do(turn)
        elif inp.choice == "change":
            await self.goto(turn, "change")
        else:
            raise Reject(t("Reply 1 to send, 2 to change something, or ANNULLA."))

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
        turn.state["back"] = "summary"
        await self.goto(turn, inp.choice)

    async def confirmed(self, turn: Turn) -> None:
        s = turn.state
        data = shop_service.ShopInput(
            name=str(s["name"]),
            vat_number=str(s["vat"]),
            category=ShopCategory(str(s["category"])),
            address=str(s["address"]),
            town=str(s["town"]),
            postcode=str(s["postcode"]),
            latitude=s.get("lat"),
            longitude=s.get("lon"),
            iban=str(s["iban"]),
        )
        self.drop_draft(turn)
        turn.finish()
        try:
            shop = await shop_service.register_shop(
                turn.uow,
                turn.town.id,
                data,
                owner_channel=turn.channel,
                owner_address=turn.address,
                now=turn.now,
            )
        except DomainError as error:
            turn.say(error_text(error))
            return
        turn.data["shop_id"] = shop.id
        turn.say(
            t(
                "Registration of {shop} sent. The municipality will check it and write "
                "to you here.",
                shop=shop.name,
            )
        )
