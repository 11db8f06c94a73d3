"""What the core says to people, before it is put into words.

A `Text` is a gettext msgid with typed parameters; it is rendered in the
reader's language only at the edge (core.i18n), so the same message can be
stored in the outbox and delivered later by SMS or Telegram. `t()` and `tn()`
are the markers Babel extracts (see babel.cfg).
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, Literal, TypeVar

Request = Literal["location", "contact"]
R = TypeVar("R")

# The records below are built by the dozen on every chat turn (a balance by SMS: five texts,
# four amounts, three days and the reply). A frozen dataclass's own __init__ sets each
# field through object.__setattr__, a method looked up and called by name; the slot's own
# setter does the same work for less (callgrind: about 22,000 instructions fewer a SALDO
# by SMS, docs/benchmarks.md). The records stay frozen: assigning a field still raises.
_NO_VALUE: Any = object()


def _slot_init(cls: type[R]) -> type[R]:
    """Give a frozen slots dataclass an __init__ that sets its slots directly: the same
    parameters, defaults and default factories as the one dataclass wrote."""
    namespace: dict[str, Any] = {"_NO_VALUE": _NO_VALUE}
    parameters: list[str] = []
    lines: list[str] = []
    for item in fields(cls):  # type: ignore[arg-type]
        name = item.name
        assert item.init and not item.kw_only, name
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        if item.default is not MISSING:
            namespace[f"_default_{name}"] = item.default
            parameters.append(f"{name}=_default_{name}")
        elif item.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = item.default_factory
            parameters.append(f"{name}=_NO_VALUE")
            lines.append(f"    if {name} is _NO_VALUE: {name} = _factory_{name}()")
        else:
            parameters.append(name)
        lines.append(f"    _set_{name}(self, {name})")
    assert not hasattr(cls, "__post_init__")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + "\n".join(lines) + "\n"
    exec(source, namespace)  # the source is built from the dataclass's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


@_slot_init
@dataclass(frozen=True, slots=True)
class Money:
    cents: int


@_slot_init
@dataclass(frozen=True, slots=True)
class Distance:
    meters: int


@_slot_init
@dataclass(frozen=True, slots=True)
class Day:
    value: date


@_slot_init
@dataclass(frozen=True, slots=True)
class Moment:
    value: datetime
    # With the seconds (10:00:37): where a minute is not precise enough, as when a time is
    # compared with the moment a window opened.
    seconds: bool = False


Param = str | int | Money | Distance | Day | Moment


@_slot_init
@dataclass(frozen=True, slots=True)
class Text:
    msgid: str
    params: dict[str, Param] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None


def t(msgid: str, **params: Param) -> Text:
    return Text(msgid, dict(params))


def tn(singular: str, plural: str, count: int, **params: Param) -> Text:
    return Text(singular, {"count": count, **params}, plural=plural, count=count)


@_slot_init
@dataclass(frozen=True, slots=True)
class Option:
    """A choice: a button on Telegram, a number or keyword on SMS. `key` is what comes back."""

    key: str
    label: Text


@dataclass(frozen=True, slots=True)
class MapPin:
    latitude: float
    longitude: float
    title: str
    address: str


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document built at delivery time (e.g. kind="card", ref=card code)."""

    kind: str
    ref: str


@dataclass(frozen=True, slots=True)
class Invoice:
    """A payment request (Telegram Payments): the title and description are shown, the
    payload comes back with the payment and says what was bought."""

    title: Text
    description: Text
    label: Text
    payload: str
    amount_cents: int
    currency: str = "EUR"


@_slot_init
@dataclass(frozen=True, slots=True)
class Reply:
    """One outbound message, channel-agnostic. Several Texts are sent as paragraphs."""

    texts: tuple[Text, ...]
    options: tuple[Option, ...] = ()
    request: Request | None = None
    pin: MapPin | None = None
    document: DocumentRef | None = None
    # Sensitive replies (payment codes) are scrubbed from the outbox once delivered.
    sensitive: bool = False
    invoice: Invoice | None = None

    @staticmethod
    def of(
        *texts: Text,
        options: tuple[Option, ...] = (),
        request: Request | None = None,
        sensitive: bool = False,
    ) -> Reply:
        return Reply(texts=tuple(texts), options=options, request=request, sensitive=sensitive)


# JSON (de)serialisation for the outbox -------------------------------------------------


def _param_to_json(value: Param) -> Any:
    if isinstance(value, Money):
        return {"money": value.cents}
    if isinstance(value, Distance):
        return {"distance": value.meters}
    if isinstance(value, Day):
        return {"day": value.value.isoformat()}
    if isinstance(value, Moment):
        if value.seconds:
            return {"moment": value.value.isoformat(), "seconds": True}
        return {"moment": value.value.isoformat()}
    return value


def _param_from_json(value: Any) -> Param:
    if isinstance(value, dict):
        if "money" in value:
            return Money(int(value["money"]))
        if "distance" in value:
            return Distance(int(value["distance"]))
        if "day" in value:
            return Day(date.fromisoformat(value["day"]))
        if "moment" in value:
            return Moment(
                datetime.fromisoformat(value["moment"]), seconds=bool(value.get("seconds"))
            )
        raise ValueError(f"unknown parameter {value!r}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"unsupported parameter {value!r}")
    return value


def text_to_json(text: Text) -> dict[str, Any]:
    params = text.params
    data: dict[str, Any] = {
        "msgid": text.msgid,
        # Most texts have no parameter (a menu's labels): no comprehension's frame for them.
        "params": {k: _param_to_json(v) for k, v in params.items()} if params else {},
    }
    if text.plural is not None:
        data["plural"] = text.plural
        data["count"] = text.count
    return data


def text_from_json(data: dict[str, Any]) -> Text:
    return Text(
        data["msgid"],
        {k: _param_from_json(v) for k, v in data.get("params", {}).items()},
        plural=data.get("plural"),
        count=data.get("count"),
    )


def reply_to_json(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {"texts": [text_to_json(x) for x in reply.texts]}
    if reply.options:
        data["options"] = [{"key": o.key, "label": text_to_json(o.label)} for o in reply.options]
    if reply.request:
        data["request"] = reply.request
    if reply.pin:
        pin = reply.pin
        data["pin"] = [pin.latitude, pin.longitude, pin.title, pin.address]
    if reply.document:
        data["document"] = {"kind": reply.document.kind, "ref": reply.document.ref}
    if reply.sensitive:
        data["sensitive"] = True
    if reply.invoice:
        invoice = reply.invoice
        data["invoice"] = {
            "title": text_to_json(invoice.title),
            "description": text_to_json(invoice.description),
            "label": text_to_json(invoice.label),
            "payload": invoice.payload,
            "amount": invoice.amount_cents,
            "currency": invoice.currency,
        }
    return data


def reply_from_json(data: dict[str, Any]) -> Reply:
    pin = data.get("pin")
    document = data.get("document")
    return Reply(
        texts=tuple(text_from_json(x) for x in data["texts"]),
        options=tuple(
            Option(o["key"], text_from_json(o["label"])) for o in data.get("options", [])
        ),
        request=data.get("request"),
        pin=MapPin(float(pin[0]), float(pin[1]), str(pin[2]), str(pin[3])) if pin else None,
        document=DocumentRef(document["kind"], document["ref"]) if document else None,
        sensitive=bool(data.get("sensitive", False)),
        invoice=_invoice_from_json(data["invoice"]) if data.get("invoice") else None,
    )


def _invoice_from_json(data: dict[str, Any]) -> Invoice:
    return Invoice(
        title=text_from_json(data["title"]),
        description=text_from_json(data["description"]),
        label=text_from_json(data["label"]),
        payload=str(data["payload"]),
        amount_cents=int(data["amount"]),
        currency=str(data.get("currency", "EUR")),
    )


# The outbox payload's JSON text, written directly ---------------------------------------
#
# json.dumps(reply_to_json(reply)) builds a dict for every text and every parameter, then
# the C encoder walks them (about 4,500 instructions a small dict: a balance by SMS is
# some fifteen of them). A plan's SQL stores the text as it is (core/storage/trips.py), so
# the usual replies (texts and options whose parameters are names, numbers, amounts and
# days) are written here straight into that text: the same characters json.dumps writes
# (its separators ", " and ": ", its ASCII escapes). Anything else (a pin, a document, an
# invoice, another parameter) goes through reply_to_json and json.dumps.
# tests/unit/test_reply_json_text.py compares the two on every reply the dialogue says.

_TEXT_HEADS: dict[str, str] = {}


def _text_head(msgid: str) -> str:
    head = _TEXT_HEADS.get(msgid)
    if head is None:
        head = f'{{"msgid": {_quoted(msgid)}, "params": '
        if len(_TEXT_HEADS) < 4096:  # the msgids are the catalog's: a few hundred
            _TEXT_HEADS[msgid] = head
    return head


def _text_json_text(text: Text) -> str:
    params = text.params
    if params:
        parts = []
        value: Any  # checked by exact type below
        for key, value in params.items():
            kind = type(value)
            if kind is str:
                parts.append(f"{_quoted(key)}: {_quoted(value)}")
            elif kind is Money and type(value.cents) is int:
                parts.append(f'{_quoted(key)}: {{"money": {value.cents}}}')
            elif kind is Day and type(value.value) is date:
                parts.append(f'{_quoted(key)}: {{"day": "{value.value.isoformat()}"}}')
            elif kind is int:
                parts.append(f"{_quoted(key)}: {value}")
            else:
                parts.append(f"{_quoted(key)}: {json.dumps(_param_to_json(value))}")
        body = f"{_text_head(text.msgid)}{{{', '.join(parts)}}}"
    else:
        body = f"{_text_head(text.msgid)}{{}}"
    if text.plural is None:
        return body + "}"
    return f'{body}, "plural": {_quoted(text.plural)}, "count": {json.dumps(text.count)}}}'


def reply_json_text(reply: Reply) -> str:
    """`json.dumps(reply_to_json(reply))`, the same characters, for less work."""
    if reply.pin is not None or reply.document is not None or reply.invoice is not None:
        return json.dumps(reply_to_json(reply))
    texts = ", ".join([_text_json_text(text) for text in reply.texts])
    out = f'{{"texts": [{texts}]'
    if reply.options:
        options = ", ".join(
            [
                f'{{"key": {_quoted(o.key)}, "label": {_text_json_text(o.label)}}}'
                for o in reply.options
            ]
        )
        out = f'{out}, "options": [{options}]'
    if reply.request:
        out = f'{out}, "request": {_quoted(reply.request)}'
    if reply.sensitive:
        out += ', "sensitive": true'
    return out + "}"
