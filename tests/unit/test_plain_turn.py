"""The pure decisions of a plain turn (core/dialogue/plain_turn.py), without a database:
what counts as plain, whom the plan looks up, and the replies and state it writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from core.dialogue.context import fits_sms
from core.dialogue.inbound import Channel, Inbound, PaymentDone, SharedContact
from core.dialogue.plain_turn import PlainTurn, routed
from core.dialogue.state import ChatMemory, Offered, dump
from core.domain.keys import PROCESS_KEYS
from core.domain.ledger import PostingKind
from core.domain.messages import Money, reply_from_json
from core.domain.outbox import OutboxStatus
from core.services.outbox import REPLY_LANE
from core.storage.turn_trip import (
    ConversationRow,
    Found,
    Holder,
    MemberShopRow,
    PostingRow,
    TownRow,
)

NOW = datetime(2026, 4, 6, 8, 0, tzinfo=UTC)
TOWN = TownRow(7, "+390733000001", "Europe/Rome", "Testville", False)
PHONE = "+393331234567"
CF = "RSSMRA85T10A562S"


def sms(text: str | None, **kwargs: object) -> Inbound:
    return Inbound(Channel.SMS, PHONE, text=text, provider_message_id="SM1", **kwargs)  # type: ignore[arg-type]


def conversation(
    *, memory: ChatMemory | None = None, flow: str | None = None, stopped: bool = False
) -> ConversationRow:
    data = dump(memory) if memory is not None else {}
    return ConversationRow(3, TOWN.id, "it", flow, "step" if flow else None, data, stopped)


def holder(postings: int = 0, *, delegate: bool = False) -> Found:
    rows = [
        PostingRow(PostingKind.PAYMENT.value, -(100 + i), NOW - timedelta(days=i), "Forno", i)
        for i in range(postings)
    ]
    return Found(Holder(11, CF, delegate, 150_00, rows))


def test_candidates_are_messages_that_may_mean_a_plain_command() -> None:
    plain = ("SALDO", "saldo", "/saldo", "Balance", "vorrei sapere il mio saldo", "1")
    for text in (*plain, "MENU", "/menu", "AIUTO", "help", "aiuto per favore", "START"):
        assert PlainTurn.candidate(sms(text)), text
    for other in ("NEGOZI 62020", "saldo e negozi", "ciao", "", None, "START 123", "STOP"):
        assert not PlainTurn.candidate(sms(other)), other
    assert PlainTurn.candidate(Inbound(Channel.TELEGRAM, "5", option="balance"))
    assert not PlainTurn.candidate(sms("SALDO", contact=SharedContact(PHONE, True)))
    assert not PlainTurn.candidate(sms("SALDO", start_parameter="CARD1"))
    assert not PlainTurn.candidate(sms("SALDO", payment=PaymentDone("p", "EUR", 100, "t", "q")))
    assert not PlainTurn.candidate(Inbound(Channel.SMS, "+39" + "3" * 70, text="SALDO"))


def test_routing_by_the_number_written_to_or_the_only_town() -> None:
    other = TownRow(8, "+390733000002", "Europe/Rome", "Otherville", False)
    assert routed([TOWN, other], "+390733000002") is other
    assert routed([TOWN, other], "0733 000001") is TOWN
    assert routed([TOWN, other], None) is None
    assert routed([TOWN], None) is TOWN
    assert routed([TOWN, other], "+390733999999") is None


def test_only_a_balance_request_at_no_step_and_not_stopped_is_plain() -> None:
    turn = PlainTurn(sms("SALDO"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation())
    assert lookup is not None
    assert (lookup.citizen_phone, lookup.citizen_chat, lookup.delegate_phone) == (
        PHONE,
        None,
        PHONE,
    )
    assert turn.classify(TOWN, conversation(stopped=True)) is None
    assert turn.classify(TOWN, conversation(flow="shops")) is None


def telegram(text: str | None) -> Inbound:
    return Inbound(Channel.TELEGRAM, "5", text=text, provider_message_id="TG1")


def test_the_help_by_sms_is_the_general_path() -> None:
    """By SMS the help names a payment waiting for a code first, and depends on the help
    said before (menus.say_help): never plain."""
    for text in ("AIUTO", "help", "aiuto per favore", "non capisco"):
        assert PlainTurn(sms(text), NOW, PROCESS_KEYS).classify(TOWN, conversation()) is None


def test_menu_help_and_start_look_up_only_the_shops_of_the_address() -> None:
    for inbound in (sms("MENU"), telegram("AIUTO"), sms("START")):
        text = inbound.text
        lookup = PlainTurn(inbound, NOW, PROCESS_KEYS).classify(TOWN, conversation())
        assert lookup is not None and lookup.shops, text
        assert (lookup.citizen_phone, lookup.citizen_chat, lookup.delegate_phone) == (
            None,
            None,
            None,
        )
        assert (
            PlainTurn(inbound, NOW, PROCESS_KEYS).classify(TOWN, conversation(flow="shops")) is None
        )


def test_a_stopped_conversation_is_never_plain_and_start_welcomes() -> None:
    stopped = conversation(stopped=True)
    for text in ("MENU", "AIUTO", "SALDO", "START"):
        assert PlainTurn(sms(text), NOW, PROCESS_KEYS).classify(TOWN, stopped) is None, text
    turn = PlainTurn(sms("START"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation())
    assert lookup is not None
    write = turn.decide(lookup.context, Found())
    assert write is not None and not write.stopped
    reply = reply_from_json(json.loads(write.outbox[0]["payload"]))
    assert reply.texts[0].msgid == "Welcome to the grocery vouchers of {town}."
    assert reply.texts[0].params["town"] == "Testville"


def test_the_help_offers_its_words_by_number() -> None:
    turn = PlainTurn(telegram("AIUTO"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation())
    assert lookup is not None
    write = turn.decide(lookup.context, Found())
    assert write is not None
    assert [item["k"] for item in write.data["options"]][:2] == ["balance", "shops"]
    [row] = write.outbox
    assert reply_from_json(json.loads(row["payload"])).texts[0].msgid.startswith("Write: SALDO")
    shop = turn.decide(
        lookup.context, Found(shops=[MemberShopRow(4, "Forno", "approved", "owner")])
    )
    assert shop is not None
    assert shop.data["options"][0]["k"] == "charge"


def test_the_menu_of_a_member_of_several_shops_asks_which_one_then_shows_it() -> None:
    shops = [
        MemberShopRow(4, "Forno", "approved", "cashier"),
        MemberShopRow(5, "Bottega", "pending", "owner"),
    ]
    turn = PlainTurn(sms("MENU"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation())
    assert lookup is not None
    write = turn.decide(lookup.context, Found(shops=shops))
    assert write is not None
    assert [item["k"] for item in write.data["options"]] == ["shop:4", "shop:5"]
    lookup = turn.classify(TOWN, conversation(memory=ChatMemory(shop_id=4)))
    assert lookup is not None
    write = turn.decide(lookup.context, Found(shops=shops))
    assert write is not None
    keys = [item["k"] for item in write.data["options"]]
    assert keys[:4] == ["charge", "refund", "statement", "last_payment"]
    assert "cashier" not in keys and keys[-2:] == ["switch", "language"]  # a cashier's


def test_community_words_only_on_telegram_with_payments_in_a_town_that_has_them() -> None:
    town = TownRow(7, None, "Europe/Rome", "Testville", True)
    chat = Inbound(Channel.TELEGRAM, "5550001", text="/menu")
    for payments, channel_inbound, expected in (
        (True, chat, True),
        (False, chat, False),
        (True, sms("MENU"), False),
    ):
        turn = PlainTurn(channel_inbound, NOW, PROCESS_KEYS, payments=payments)
        lookup = turn.classify(town, conversation())
        assert lookup is not None
        write = turn.decide(lookup.context, Found())
        assert write is not None
        assert ("buy" in [item["k"] for item in write.data["options"]]) is expected


def test_a_number_is_saldo_only_when_it_picks_the_balance_option() -> None:
    offered = ChatMemory(options=[Offered("balance", ["balance", "saldo"]), Offered("shops")])
    one, two = (PlainTurn(sms(n), NOW, PROCESS_KEYS) for n in ("1", "2"))
    assert one.classify(TOWN, conversation(memory=offered)) is not None
    assert two.classify(TOWN, conversation(memory=offered)) is None
    assert one.classify(TOWN, conversation()) is None  # nothing offered


def test_on_telegram_the_chat_and_a_shared_phone_are_looked_up() -> None:
    turn = PlainTurn(Inbound(Channel.TELEGRAM, "5550001", text="/saldo"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation(memory=ChatMemory(phone=PHONE)))
    assert lookup is not None
    assert (lookup.citizen_phone, lookup.citizen_chat, lookup.delegate_phone) == (
        None,
        "5550001",
        PHONE,
    )


def test_the_balance_is_one_outbox_row_and_the_conversation_offers_nothing() -> None:
    turn = PlainTurn(sms("SALDO"), NOW, PROCESS_KEYS)
    memory = ChatMemory(options=[Offered("shops")], state={"stale": 1}, language_chosen=True)
    lookup = turn.classify(TOWN, conversation(memory=memory))
    assert lookup is not None
    write = turn.decide(lookup.context, holder())
    assert write is not None
    assert (write.municipality_id, write.language, write.stopped) == (TOWN.id, "it", False)
    assert write.data == {"language_chosen": True}  # options answered, no flow state
    [row] = write.outbox
    assert (row["channel"], row["address"], row["language"]) == ("sms", PHONE, "it")
    assert (row["status"], row["lane"], row["next_attempt_at"]) == (
        OutboxStatus.PENDING.value,
        REPLY_LANE,
        NOW,
    )
    reply = reply_from_json(json.loads(row["payload"]))
    assert [text.msgid for text in reply.texts] == ["Your balance: {balance}."]
    assert reply.texts[0].params["balance"] == Money(150_00)
    assert reply.options == ()


def test_movements_shown_fit_one_sms_and_a_delegate_sees_whose_balance() -> None:
    turn = PlainTurn(sms("SALDO"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation())
    assert lookup is not None
    write = turn.decide(lookup.context, holder(3, delegate=True))
    assert write is not None
    reply = reply_from_json(json.loads(write.outbox[0]["payload"]))
    assert reply.texts[0].msgid == "Balance of {holder}: {balance}."
    assert CF not in str(reply.texts[0].params["holder"])  # masked
    assert reply.texts[1].msgid == "Last movements:"
    assert 1 <= len(reply.texts) - 2 <= 3
    assert fits_sms(list(reply.texts), reply.options, "it")


def test_on_telegram_the_balance_offers_the_card_and_remembers_it() -> None:
    turn = PlainTurn(Inbound(Channel.TELEGRAM, "5550001", text="/saldo"), NOW, PROCESS_KEYS)
    lookup = turn.classify(TOWN, conversation())
    assert lookup is not None
    write = turn.decide(lookup.context, holder(5))
    assert write is not None
    reply = reply_from_json(json.loads(write.outbox[0]["payload"]))
    assert [option.key for option in reply.options] == ["card"]
    assert len(reply.texts) == 2 + 5  # not cut to one SMS (the plan loads at most 3)
    assert [item["k"] for item in write.data["options"]] == ["card"]


def test_saldo_from_nobodys_address_asks_for_the_contact_on_telegram_only() -> None:
    chat = PlainTurn(Inbound(Channel.TELEGRAM, "5550001", text="/saldo"), NOW, PROCESS_KEYS)
    lookup = chat.classify(TOWN, conversation())
    assert lookup is not None
    write = chat.decide(lookup.context, Found())
    assert write is not None and (write.flow, write.step) == ("identify", "contact")
    reply = reply_from_json(json.loads(write.outbox[0]["payload"]))
    assert reply.request == "contact" and reply.texts[0].msgid.startswith("Only the phone number")
    # At that step SALDO again is plain; any other answer is the step's.
    at_step = ConversationRow(3, TOWN.id, "it", "identify", "contact", {}, False)
    assert chat.classify(TOWN, at_step) is not None
    for text in ("/menu", "vorrei il saldo", "1"):
        other = PlainTurn(Inbound(Channel.TELEGRAM, "5550001", text=text), NOW, PROCESS_KEYS)
        assert other.classify(TOWN, at_step) is None, text
    by_sms = PlainTurn(sms("SALDO"), NOW, PROCESS_KEYS)
    lookup = by_sms.classify(TOWN, conversation())
    assert lookup is not None
    # By SMS nobody's number is the general path's: only it knows whether applications
    # are open, and so whether to invite DOMANDA.
    assert by_sms.decide(lookup.context, Found()) is None


def test_saldo_from_a_shops_chat_is_left_to_the_general_path() -> None:
    """A Telegram chat found to be nobody's but working for a shop is told by the general
    path that it holds no vouchers: no contact is asked (it would always be refused)."""
    chat = PlainTurn(Inbound(Channel.TELEGRAM, "5550002", text="/saldo"), NOW, PROCESS_KEYS)
    lookup = chat.classify(TOWN, conversation())
    assert lookup is not None and lookup.shops_if_nobody and not lookup.shops
    shop = MemberShopRow(4, "Forno", "active", "owner")
    assert chat.decide(lookup.context, Found(shops=[shop])) is None


def test_a_memory_of_nothing_loads_and_saves_as_pydantic_does() -> None:
    """Nothing stored loads as all defaults and all defaults save as {} without pydantic
    (state.load_memory, state.memory_to_save): what load and dump give, and anything
    remembered still goes through them."""
    from core.dialogue.state import MorePage, TillSession, load, load_memory, memory_to_save

    nothing: list[object] = [{}, None, "", []]
    for raw in nothing:
        assert load_memory(raw) == ChatMemory() == load(ChatMemory, {})
    assert load_memory({"phone": PHONE, "junk": 1}) == ChatMemory(phone=PHONE)
    assert load_memory({"options": "not a list"}) == ChatMemory()  # dropped: no longer fits
    assert memory_to_save(ChatMemory(), [], None) == {} == dump(ChatMemory())
    remembered = [
        ChatMemory(language_chosen=True),
        ChatMemory(last_message="42"),
        ChatMemory(more=MorePage("forno")),
        ChatMemory(till=TillSession(4, NOW)),
        ChatMemory(options=[Offered("balance", ["saldo"])]),
    ]
    for memory in remembered:
        assert memory_to_save(memory, None, None) == dump(memory) != {}
    assert memory_to_save(ChatMemory(), [Offered("menu")], None) == {"options": [{"k": "menu"}]}


def test_a_remembered_menu_loads_and_saves_as_pydantic_does_without_it() -> None:
    """A chat remembering a menu's options and plain values (Telegram's between two
    commands) is read and written without pydantic (state._plain_memory,
    _plain_memory_json): the same records and the same JSON, key for key in the same
    order, as load and dump; anything else still goes through them."""
    from core.dialogue.state import (
        Draft,
        TillSession,
        _plain_memory,
        _plain_memory_json,
        load,
        load_memory,
        memory_to_save,
    )

    menu = [{"k": "balance", "w": ["balance", "saldo"]}, {"k": "menu"}, {"k": "x", "w": []}]
    plain: list[dict[str, object]] = [
        {"options": menu, "last_message": "0"},
        {"last_message": "1"},
        {"language_chosen": True, "phone": PHONE, "shop_id": 0, "removed_from": 7},
        {"last_message": "9", "options": menu, "language_chosen": False, "shop_id": 3},
        {"options": []},
    ]
    for raw in plain:
        assert _plain_memory(raw) is not None
        memory = load_memory(raw)
        assert memory == load(ChatMemory, raw)
        assert _plain_memory_json(memory) is not None
        saved = memory_to_save(memory, None, None)
        assert json.dumps(saved) == json.dumps(dump(memory))
        assert load_memory(saved) == memory
    odd: list[dict[str, object]] = [
        {"shop_id": True},  # pydantic's lax mode: 1
        {"shop_id": "4"},
        {"language_chosen": "true"},
        {"last_message": None},
        {"options": [{"k": "a", "w": ["b"], "extra": 1}]},
        {"options": [{"k": 5}]},
        {"options": [{"w": ["b"]}]},
        {"options": [{"k": "a", "w": "b"}]},
        {"options": [{"k": "a", "w": [1]}]},
        {"options": "not a list"},
        {"notice_on": "2026-04-06", "last_message": "2"},
        {"junk": 1},
    ]
    for raw in odd:
        assert _plain_memory(raw) is None
        assert load_memory(raw) == (load(ChatMemory, raw) or ChatMemory())
    held = [
        ChatMemory(till=TillSession(4, NOW), last_message="3"),
        ChatMemory(drafts={"apply": Draft("cf")}),
        ChatMemory(state={"cf": "X"}),
        ChatMemory(shop_id=True),
    ]
    for memory in held:
        assert _plain_memory_json(memory) is None
        assert json.dumps(memory_to_save(memory, None, None)) == json.dumps(dump(memory))


def test_every_field_of_a_chats_memory_is_plain_or_left_to_pydantic() -> None:
    """A field added to ChatMemory must be named in the hand-made path (_PLAIN_KEYS) or in
    what sends a memory to pydantic, else that path would save the memory without it."""
    from dataclasses import fields

    from core.dialogue.state import _PLAIN_KEYS

    left_to_pydantic = {"state", "drafts", "till", "more", "notice_on"}
    assert {f.name for f in fields(ChatMemory)} == {"options", *_PLAIN_KEYS, *left_to_pydantic}
