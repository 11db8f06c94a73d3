"""The webhook's signature check gives the twilio library's answer on any form and URL."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator

from sms.signature import TwilioSignature

TOKEN = "test-auth-token"
URLS = (
    "https://sms.example.org/sms/twilio",
    "https://sms.example.org:443/sms/twilio",
    "https://sms.example.org:8443/sms/twilio?town=1",
    "http://127.0.0.1:8080/sms/twilio",
    "http://127.0.0.1/sms/twilio/status",
)
# Field names and values as Twilio posts them, and odd ones: repeated names, empty
# values, accents, emoji, characters that sort differently as code points.
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
forms = st.lists(
    st.tuples(st.sampled_from(["Body", "From", "MessageSid", "To", "a", "Ä", "z"]) | text, text),
    max_size=8,
)


def proxy(pairs: list[tuple[str, str]]) -> MultiDictProxy[str]:
    return MultiDictProxy(MultiDict(pairs))


@settings(max_examples=300, deadline=None)
@given(
    pairs=forms,
    url=st.sampled_from(URLS),
    signed_url=st.sampled_from(URLS),
    signed_pairs=forms,
    tampered=st.booleans(),
)
def test_the_same_answer_as_the_twilio_library(
    pairs: list[tuple[str, str]],
    url: str,
    signed_url: str,
    signed_pairs: list[tuple[str, str]],
    tampered: bool,
) -> None:
    """Signatures made over this form or another, this URL or another (with or without its
    port), with this token or another: the library's validate and ours agree."""
    library = RequestValidator(TOKEN)
    signature = (RequestValidator("another-token") if tampered else library).compute_signature(
        signed_url, proxy(signed_pairs)
    )
    fields = proxy(pairs)
    expected = library.validate(url, fields, signature)
    assert TwilioSignature(TOKEN).valid(url, fields, signature) is expected
    # And a signature made over exactly this request is always accepted.
    assert TwilioSignature(TOKEN).valid(url, fields, library.compute_signature(url, fields))


def test_the_port_may_be_signed_or_not() -> None:
    check, library = TwilioSignature(TOKEN), RequestValidator(TOKEN)
    fields = proxy([("Body", "SALDO"), ("From", "+393331234567")])
    for called, signed in [
        ("https://sms.example.org/sms/twilio", "https://sms.example.org:443/sms/twilio"),
        ("https://sms.example.org:443/sms/twilio", "https://sms.example.org/sms/twilio"),
        ("http://127.0.0.1:8080/sms/twilio", "http://127.0.0.1/sms/twilio"),
    ]:
        assert check.valid(called, fields, library.compute_signature(signed, fields))
    other_port = library.compute_signature("https://sms.example.org:8443/sms/twilio", fields)
    assert not check.valid("https://sms.example.org/sms/twilio", fields, other_port)


def test_what_is_not_a_signature_is_refused_without_an_error() -> None:
    check = TwilioSignature(TOKEN)
    fields = proxy([("Body", "SALDO")])
    url = "https://sms.example.org/sms/twilio"
    good = check.compute(url, fields)
    for forged in ["", "é" + good[1:], good[:-1], good + "=", good.lower()]:
        assert not check.valid(url, fields, forged), forged
    assert check.valid(url, fields, good)
