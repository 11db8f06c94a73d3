"""A request left half-way by another word: the person is told it waits, and a code that
still confirms it is taken when it comes (usertest item 7)."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.menus import FIRST_HELP
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window, wrong_guesses
from tests.dialogue.test_apply import CF, CODE, MEMBERS, PRIVACY, SENT, _last_code
from tests.factories import make_cf

NO_VOUCHERS = "We have no vouchers for this number. To apply, write DOMANDA."
TO_COMPLETE = "You have an application to complete: write DOMANDA to continue it."
# No vouchers while an application waits to be finished: not "To apply, write DOMANDA"
# beside "you have an application to complete".
YET = "We have no vouchers for this number yet."
RESUME = "You have an unfinished request. Do you want to continue it?"
WRONG = "Wrong code: {count} attempt left."
APPLICANT = make_cf(510)
# Up to the summary's "1": the code is sent and the application waits for it.
TO_THE_CODE = ("DOMANDA", "1", APPLICANT, "2", "2", "2", "100", "0", "0", "1")


async def at_the_code(core: Core, phone: str) -> Chat:
    await town_with_open_window(core)
    chat = Chat(core, phone)
    for text in TO_THE_CODE:
        await chat.send(text)
    assert CODE in [text.msgid for reply in chat.last for text in reply.texts]
    return chat


async def test_status_while_the_code_is_awaited_then_the_code_sends_the_application(
    core: Core,
) -> None:
    chat = await at_the_code(core, "+393471234601")
    code = await _last_code(chat)
    await chat.expect("STATO", YET, TO_COMPLETE)
    assert (await chat.state())[:2] == (None, None)
    replies = await chat.expect(code, SENT)
    async with core.uow() as uow:
        assert await uow.applications.by_protocol(str(param(replies, "protocol"))) is not None
    # Sent: no draft is left to remind of.
    await chat.expect("STATO", "Application {protocol} received on {when}: it is being assessed.")
    assert TO_COMPLETE not in [text.msgid for reply in chat.last for text in reply.texts]


async def test_the_code_typed_in_a_sentence_or_spaced_is_taken_too(core: Core) -> None:
    chat = await at_the_code(core, "+393471234602")
    code = await _last_code(chat)
    await chat.expect("SALDO", YET, TO_COMPLETE)
    await chat.expect(f"il codice è {code[:3]} {code[3:]}", SENT)


async def test_wrong_codes_after_leaving_count_as_at_the_step(core: Core) -> None:
    chat = await at_the_code(core, "+393471234603")
    code = await _last_code(chat)
    await chat.expect("MENU", TO_COMPLETE)
    first, second, third = wrong_guesses(code, 3)
    await chat.expect(first, WRONG)
    assert (await chat.state())[:2] == ("apply", "verify")
    await chat.expect("SALDO", YET, TO_COMPLETE)
    await chat.expect(second, WRONG)
    await chat.expect("STATO", TO_COMPLETE)
    # The third wrong code ends the request, wherever it was typed: no guessing by leaving.
    await chat.expect(
        third, "Too many wrong codes: the request was cancelled. Nothing was changed."
    )
    await chat.expect(code, FIRST_HELP.msgid)
    await chat.expect("STATO", NO_VOUCHERS)
    assert TO_COMPLETE not in [text.msgid for reply in chat.last for text in reply.texts]


async def test_a_keyword_at_a_question_says_the_application_waits(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471234604")
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    assert (await chat.state())[1] == "members"
    await chat.expect("SALDO", YET, TO_COMPLETE)
    # A late answer to the question left ("4" people) answers nothing: the application
    # waits, said (not the help), and the draft stays at its question.
    replies = await chat.expect("4", TO_COMPLETE)
    assert FIRST_HELP.msgid not in msgids(replies)
    await chat.expect("DOMANDA", RESUME)
    await chat.expect("1", MEMBERS)
    # DOMANDA in the middle of the application itself offers it back, with no reminder.
    await chat.expect("DOMANDA", RESUME)
    assert TO_COMPLETE not in [text.msgid for reply in chat.last for text in reply.texts]


async def test_a_yes_in_words_continues_the_request_left_half_way(core: Core) -> None:
    """User trial (Telegram, an elderly user): "Vuoi continuarla?" answered "SI" was sent
    back to the buttons again and again. A yes in words continues where it was left; a
    no, which may mean start again or stop, is still asked to choose."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471234605")
    for text in ("DOMANDA", "1", APPLICANT, "SALDO"):
        await chat.send(text)
    await chat.expect("DOMANDA", RESUME)
    await chat.expect("no", "Please answer 1 to continue or 2 to start again.")
    await chat.expect("SI", MEMBERS)
    assert (await chat.state())[:2] == ("apply", "members")
    await chat.expect("MENU", TO_COMPLETE)
    await chat.expect("DOMANDA", RESUME)
    await chat.expect("sì, grazie", MEMBERS)


async def test_the_balance_with_an_application_to_finish_is_one_clear_answer(core: Core) -> None:
    """ "Quanto mi rimane" half-way through the application said both "we have no
    vouchers, to apply write DOMANDA" and "you have an application to complete": two
    answers that contradict each other. One: none yet, and the application to finish."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471234605")
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    for asked in ("quanto mi rimane", "SALDO", "STATO"):
        replies = await chat.send(asked)
        said = [text.msgid for reply in replies for text in reply.texts]
        assert said == [YET, TO_COMPLETE], asked
        assert len(replies) == 1  # one SMS
    await chat.expect("DOMANDA", RESUME)
    await chat.expect("1", MEMBERS)
    # Given up: no draft, and DOMANDA is how to apply again.
    await chat.expect("ANNULLA")
    replies = await chat.send("quanto mi rimane")
    assert [text.msgid for reply in replies for text in reply.texts] == [NO_VOUCHERS]


# RICORSO while the application is not finished: one answer, not "no application of
# yours, to apply write DOMANDA" beside "you have an application to complete".
APPEAL_LATER = "You can appeal only after the decision on your application."


async def test_appeal_during_an_unfinished_application_gets_one_answer(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471234620")
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("1", CF)
    for sentence in ("RICORSO", "ricorso perché non è giusto"):
        replies = await chat.expect(sentence, APPEAL_LATER, TO_COMPLETE)
        said = [text.msgid for reply in replies for text in reply.texts]
        assert said == [APPEAL_LATER, TO_COMPLETE], sentence
        assert len(replies) == 1, sentence  # one SMS
    # The application is where it was left.
    await chat.expect("DOMANDA", RESUME)
    await chat.expect("1", CF)


async def test_a_late_answer_to_the_question_left_says_the_application_waits(core: Core) -> None:
    """ "1" written after SALDO, meant for the consent asked before it: nothing is asked now,
    so it answers nothing (never a consent given late); said that the application waits and
    how to go back to it, not the list of every word."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471234621")
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("quanto c ho", YET, TO_COMPLETE)
    replies = await chat.send("1")
    assert msgids(replies) == [TO_COMPLETE]
    assert (await chat.state())[:2] == (None, None)
    await chat.expect("DOMANDA", RESUME)
    await chat.expect("1", PRIVACY)  # asked again: the late "1" consented to nothing
