"""The application: language, privacy, codice fiscale, household, money, declaration.

Answers live in the conversation, so the citizen can stop at any step and go on
later (a draft survives MENU and other requests). While the window is open a
submitted application can be changed: the same questions, from the summary.
From SMS, sending or changing it waits for a code sent to that number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from core.dialogue.context import NOT_UNDERSTOOD, Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows import citizen as citizen_requests
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
from core.dialogue.flows.identify import NEUTRAL_REFUSAL, link_contact
from core.dialogue.languages import agreed_language, tapped_language, written_in
from core.dialogue.menus import LANGUAGE_OPTIONS, privacy_question, switch_language
from core.dialogue.state import ApplyState
from core.dialogue.words import (
    NO_CODICE_FISCALE,
    RENT_WORDS,
    SAVINGS_WORDS,
    SUPPORT_WORDS,
    WHAT_CODICE_FISCALE,
    WHERE_CODICE_FISCALE,
    about_all_of_us,
    about_oneself,
    amount_in_sentence,
    amount_text,
    codice_fiscale_asked,
    household_count,
    names_a_pension_not_support,
    names_other_than_rent,
    names_rent_or_support,
    names_subject,
    per_month,
    per_year,
    plain_words,
    says_dont_know,
    says_someone_has,
    says_there_is,
    says_there_is_none,
    work_and_pension,
    yes_or_no,
    yes_or_no_leading,
)
from core.domain.channels import Channel
from core.domain.errors import DomainError, InvalidAmount, InvalidIdentifier, Refusal
from core.domain.identity import PhoneProof, codice_fiscale_in, short_mask_codice_fiscale
from core.domain.messages import Day, Moment, Money, Option, Text, t, tn
from core.domain.money import parse_euro
from core.services import applications, identity
from core.services.municipalities import current_round
from core.storage import models as m

QUESTIONS = ("cf", "members", "work", "pension", "liquidity", "support", "rent")
MAX_MEMBERS = 30
# Larger sums are typing mistakes (an extra zero), not household savings worth asking about.
MAX_AMOUNT_CENTS = 100_000_000_00

YES_NO = (Option("yes", t("Yes")), Option("no", t("No")))
OTHER_LANGUAGE = t("Another language: write LINGUA.")
CF_QUESTION = t("Write your codice fiscale (16 characters, it is on your health card).")
# What the codice fiscale question's "non ce l'ho", "cos'è?", "dove lo trovo?" hear
# (words.codice_fiscale_asked), before the question again.
ABOUT_CODICE_FISCALE = {
    NO_CODICE_FISCALE: t(
        "No codice fiscale? The town's office can help you: write OFFICE for its contacts."
    ),
    WHAT_CODICE_FISCALE: t(
        "The codice fiscale is your Italian tax code: 16 letters and digits, like "
        "RSSMRA85T10A562S. It is on your health card (tessera sanitaria)."
    ),
    WHERE_CODICE_FISCALE: t(
        "It is on your health card (tessera sanitaria), on the back of the electronic "
        "identity card and on the residence permit."
    ),
}
# A monthly or yearly sum written where the savings are asked ("1200 al mese").
NOT_MONTHLY = t(
    "This question is about savings: the money the household had in the bank or at the post "
    "office, not an income of a month or a year. Write how much, e.g. {example}.",
    example="1500",
)
# Rent or support written where the savings are asked ("pago 250 euro di affitto").
NOT_RENT_NOR_SUPPORT = t(
    "This question is about savings: the money the household had in the bank or at the post "
    "office. Rent and support are asked next. Write how much, e.g. {example}.",
    example="1500",
)
# A pension or a support written where the rent is asked ("PENSIONE 600 EURO").
NOT_THE_RENT = t(
    "This question is about the rent the household pays per month for the house, not a "
    "pension or support. Write how much, e.g. {example}, or 0 if none.",
    example="400",
)
# A pension written where public support is asked ("PENSIONE 600").
NOT_SUPPORT_BUT_PENSION = t(
    "Here I ask about public support per month (NASpI, cassa integrazione...), not pensions. "
    "Write how much, e.g. {example}, or 0 if none.",
    example="300",
)
# A year's sum written where a month's is asked ("6000 euro all'anno"): read as it is, it
# would count twelve times over in the allocation; the person divides, not the chat.
NOT_YEARLY = t(
    "This question asks how much each month, not in a year. Write the monthly amount, "
    "e.g. {example}.",
    example="300",
)

# "Ho la pensione" where work is asked: the pension has a question of its own, next.
PENSION_IS_NEXT = t("The pension is the next question: this one is only about income from work.")

# "Basta", "lascia stare" at a question of a new application (Flow.stopped_in_words): the
# draft is given up as ANNULLA gives it up, and she is told nothing went to the office.
APPLICATION_STOPPED = t("Application stopped: nothing was sent. To start again, write DOMANDA.")

# The household's work or pension asked again about the others at home, after the applicant
# answered for herself ("non lavoro"): how many they are, besides her.
_ABOUT_THE_OTHERS = {
    "work": lambda others: t(
        "And the others in the household ({count} besides you): does any of them have income "
        "from work?",
        count=others,
    ),
    "pension": lambda others: t(
        "And the others in the household ({count} besides you): does any of them receive a "
        "pension?",
        count=others,
    ),
}


class ApplyFlow(ConfirmedFlow[ApplyState]):
    name = citizen_requests.APPLY_FLOW
    doing = t("You were making your application.")
    state_type = ApplyState
    keeps_draft = True

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        shop_number = await citizen_requests.shop_number(turn)
        if shop_number is not None:
            # A shop's phone is refused as an applicant's (identity.refuse_shop_phone, checked
            # again at the codice fiscale): said before the first question, not after it.
            self.drop_draft(turn)
            turn.say(shop_number)
            return
        if turn.channel == Channel.TELEGRAM and await turn.memberships():
            # A shop's chat can never be an applicant's (its contact would be refused).
            self.drop_draft(turn)
            turn.say(citizen_requests.SHOP_CHAT)
            return
        # The window and an earlier application decide before any draft is offered.
        refusal = await self._window_refusal(turn)
        if refusal is not None:
            turn.finish()
            turn.say(refusal)
            return
        existing = await self._existing(turn)
        if existing is not None and existing.withdrawn_at is not None:
            # Withdrawn by the office: one application per household and window.
            turn.finish()
            turn.say(
                t(
                    "Application {protocol}: withdrawn by the office on {day}. Not you? Contact "
                    "the office (write UFFICIO).",
                    protocol=existing.protocol,
                    day=Day(existing.withdrawn_at.date()),
                )
            )
            return
        if existing is not None:
            self.drop_draft(turn)
            await self.goto(turn, "existing", ApplyState(protocol=existing.protocol))
            return
        await super().begin(turn, arg)

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """Every answer declared: a code sent for them confirms only them."""
        s = self.state(turn)
        answers = (s.mode, s.protocol, s.cf, s.members, s.work, s.pension, s.liquidity)
        return tuple(str(x) for x in (*answers, s.support, s.rent))

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        """Whose application the code sends (the masked codice fiscale) and for how many
        people: a citizen whose number a forger wrote as sees it is not theirs."""
        s = self.state(turn)
        members = known(s.members)
        return tn(
            "Code {code} confirms your voucher application for {masked}, {count} person: "
            "reply to this message with the code. Do not give it to anyone else. Valid "
            "{minutes} min.",
            "Code {code} confirms your voucher application for {masked}, {count} people: "
            "reply to this message with the code. Do not give it to anyone else. Valid "
            "{minutes} min.",
            members,
            code=code,
            masked=short_mask_codice_fiscale(known(s.cf)),
            minutes=minutes,
        )

    def draft_reminder(self) -> Text:
        return citizen_requests.APPLICATION_TO_COMPLETE

    def stopped_in_words(self, turn: Turn) -> Text | None:
        # At "you have already applied" nothing is under way to give up: the words are
        # read as before. A change given up leaves the application as it was (cancel says so).
        if turn.step == "existing":
            return None
        return APPLICATION_STOPPED

    async def start(self, turn: Turn, arg: str) -> None:
        self.state(turn).mode = "new"
        if turn.memory.language_chosen:
            await self.goto(turn, "privacy")
            return
        if turn.inbound.option is not None:
            # A tapped button ("Domanda" on Telegram): its label's language, the chat's
            # unless the chat begins with this tap, else the app's (language_code).
            written = tapped_language(
                None if turn.new_chat else turn.language, turn.inbound.language_hint
            )
        else:
            written = agreed_language(turn.inbound.text, turn.inbound.language_hint)
        if written is None:
            # A menu number, or words unlike the app's language: ask.
            await self.ask(turn)
            return
        # Asked for in words ("DOMANDA", "vorrei fare la domanda", "APPLY") or by a tap:
        # that language, and the first question says how to change it, when that still
        # fits one SMS.
        turn.set_language(written)
        await self.goto(turn, "privacy")
        self._say_how_to_change_language(turn)

    def _say_how_to_change_language(self, turn: Turn) -> None:
        last = turn.replies[-1] if turn.replies else None
        if last is None:
            return
        texts = [*last.texts, OTHER_LANGUAGE]
        if not turn.is_sms or turn.fits_sms(texts, last.options):
            turn.replies[-1] = replace(last, texts=tuple(texts))

    async def _window_refusal(self, turn: Turn) -> Text | None:
        return citizen_requests.window_refusal(
            await current_round(turn.uow, turn.town.id), turn.now
        )

    async def _existing(self, turn: Turn) -> m.Application | None:
        citizen = await turn.citizen()
        if citizen is None:
            return None
        return await applications.in_current_round(turn.uow, turn.town.id, citizen.id)

    # An application already made: change it or see its status --------------------------------

    async def ask_existing(self, turn: Turn) -> None:
        round_ = await current_round(turn.uow, turn.town.id)
        assert round_ is not None
        turn.say(
            t(
                "You have already applied: protocol {protocol}. You can change it until {when}.",
                protocol=known(self.state(turn).protocol),
                when=Moment(round_.closes_at),
            ),
            options=(Option("edit", t("Change the answers")), Option("status", t("Status"))),
        )

    async def on_existing(self, turn: Turn, inp: Input) -> None:
        if inp.choice != "edit":
            raise Reject(t("Reply 1 to change your application, or MENU."))
        s = self.state(turn)
        answers = await applications.answers_of(turn.uow, known(s.protocol))
        s.mode, s.consent = "edit", True
        s.cf, s.members = answers.codice_fiscale, answers.household_size
        s.work, s.pension = answers.has_work_income, answers.has_pension
        s.liquidity = answers.liquidity_cents
        s.support = answers.public_support_monthly_cents
        s.rent = answers.rent_monthly_cents
        await self.goto(turn, "summary")

    # Language and privacy --------------------------------------------------------------------

    async def ask_language(self, turn: Turn) -> None:
        turn.say(t("Choose your language."), options=LANGUAGE_OPTIONS)

    async def on_language(self, turn: Turn, inp: Input) -> None:
        # A tapped language goes through the engine (then on_language_chosen); a typed one here.
        word = inp.word
        if word in ("it", "ita", "italiano", "italian"):
            turn.set_language("it")
        elif word in ("en", "eng", "english", "inglese"):
            turn.set_language("en")
        elif written_in(inp.text) is not None:
            # "sì", "yes please": an answer in a language is that language.
            turn.set_language(written_in(inp.text) or "it")
        else:
            s = self.state(turn)
            s.language_misses += 1
            if s.language_misses < 2:
                raise Reject(t("Reply 1 for Italiano or 2 for English."))
            # Twice not understood ("domnada"): Italian, and how to change it; never a loop.
            turn.set_language("it")
            await self.goto(turn, "privacy")
            self._say_how_to_change_language(turn)
            return
        await self.goto(turn, "privacy")

    def asks_language(self, turn: Turn) -> bool:
        return turn.step == "language"

    async def on_language_chosen(self, turn: Turn) -> None:
        if turn.step == "language":
            await self.goto(turn, "privacy")
        else:
            await self.ask(turn)

    async def ask_privacy(self, turn: Turn) -> None:
        options = (Option("yes", t("I agree")), Option("no", t("I do not agree")))
        turn.say(privacy_question(turn, options), options=options)

    async def on_privacy(self, turn: Turn, inp: Input) -> None:
        answer = _yes_no(inp)
        if answer is None:
            raise Reject(NOT_UNDERSTOOD, t("Reply 1 if you agree, 2 if you do not."))
        if not answer:
            self.drop_draft(turn)
            turn.finish()
            turn.say(t("Without your consent we cannot take the application. Nothing was saved."))
            return
        self.state(turn).consent = True
        await self.goto(turn, "cf" if await self._phone_known(turn) else "contact")

    # The phone, proven before the codice fiscale ----------------------------------------------

    async def _phone_known(self, turn: Turn) -> bool:
        """On Telegram a shared contact proves the phone before anything else is asked; on
        SMS the number is the sender's, proven by the code sent before submitting."""
        return turn.channel != Channel.TELEGRAM or await turn.proven_phone() is not None

    async def _nobodys(self, turn: Turn) -> bool:
        """A chat that is no citizen's yet: an SMS (or terminal) sender whose code comes
        only at the end, or a Telegram chat whose own number, shared, is nobody's. Either
        holds a number that costs little (a spare SIM), so a codice fiscale that is a
        citizen's is refused only when the application is sent, never at once."""
        return await turn.citizen() is None

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(
            t("To apply we need your phone number: tap the button below to share it."),
            request="contact",
        )

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        if inp.contact is None:
            # Text, a sticker, a refusal: the button stays until the contact is shared.
            raise Reject(
                t("Tap the button below to share your phone number, or write ANNULLA."),
                request="contact",
            )
        linked = await link_contact(turn, inp.contact)
        if linked.refused:
            await self._refuse(turn, linked.refusal)
            return
        # A plain text: on Telegram it also takes the contact button off the screen.
        turn.say(t("Thank you: your phone number is verified."))
        existing = await self._existing(turn)
        if existing is not None:
            self.drop_draft(turn)
            await self.goto(turn, "existing", ApplyState(protocol=existing.protocol))
            return
        await self.next_question(turn, "contact")

    async def _refuse(self, turn: Turn, text: Text = NEUTRAL_REFUSAL) -> None:
        self.drop_draft(turn)
        turn.finish()
        turn.forget_citizen()
        turn.say(text)

    # The questions ----------------------------------------------------------------------------

    async def next_question(self, turn: Turn, current: str) -> None:
        s = self.state(turn)
        if s.back == "summary":
            s.back = None
            await self.goto(turn, "summary")
            return
        if current == "contact":
            await self.goto(turn, "cf")
            return
        await self.goto(
            turn, QUESTIONS[QUESTIONS.index(current) + 1] if current != "rent" else "summary"
        )

    async def ask_cf(self, turn: Turn) -> None:
        turn.say(CF_QUESTION)

    async def on_cf(self, turn: Turn, inp: Input) -> None:
        asked = codice_fiscale_asked(plain_words(inp.text))
        if asked is not None:
            await self._about_codice_fiscale(turn, asked)
            return
        try:
            cf = codice_fiscale_in(inp.text)
        except InvalidIdentifier as error:
            raise Reject(error_text(error)) from error
        if not await self._phone_known(turn):
            await self.goto(turn, "contact")
            return
        # Someone else's codice fiscale is refused at once, and its holder told.
        phone = await turn.proven_phone()
        if phone:
            try:
                await identity.refuse_shop_phone(turn.uow, turn.town.id, phone)
            except DomainError as error:
                # A shop's phone would receive the citizen's codes: not a mistake to retype.
                self.drop_draft(turn)
                turn.finish()
                turn.say(error_text(error))
                return
        claim = await identity.check_claim(
            turn.uow,
            turn.town.id,
            cf,
            phone=phone,
            telegram_user=turn.address if turn.channel == Channel.TELEGRAM else None,
        )
        if claim.refusal is not None:
            await identity.record_refusal(
                turn.uow, turn.town, claim, channel=turn.channel, phone=phone, now=turn.now
            )
            if await self._nobodys(turn):
                # Refusing now would tell whoever holds any number which codes already
                # applied (an oracle on hardship), on Telegram with no limit at all (three
                # messages a code): the questions go on, the same as for a new code, and the
                # refusal comes when the application is sent (by SMS after the code proves
                # this phone; `confirmed`, where submit_application refuses the claim again).
                self.state(turn).cf = cf
                await self.next_question(turn, "cf")
                return
            await self._refuse(turn)
            return
        citizen = claim.citizen
        if (
            citizen is not None
            and await applications.in_current_round(turn.uow, turn.town.id, citizen.id) is not None
        ):
            # One application per household: a refusal, not a typo to fix.
            self.drop_draft(turn)
            turn.finish()
            turn.say(error_text(DomainError(Refusal.APPLICATION_ALREADY_APPLIED)))
            return
        self.state(turn).cf = cf
        await self.next_question(turn, "cf")

    @staticmethod
    async def _about_codice_fiscale(turn: Turn, asked: str) -> None:
        """ "Non ce l'ho", "what is that?", "dove lo trovo?" at the codice fiscale question:
        what she asked, answered, then the question again; nothing of the request changes.
        Asked plainly in the other language (English to an Italian chat, or Italian to an
        English one), the chat speaks it from here, with the way back said in the language
        left behind, as LINGUA does: the error in a language she does not read, and only
        the way to hers, left her without the answer."""
        texts = [ABOUT_CODICE_FISCALE[asked]]
        written = written_in(turn.inbound.text)
        if written is not None and written != turn.language:
            texts.append(await switch_language(turn, written))
        texts.append(CF_QUESTION)
        # As few SMS as they fit in, each one segment; one message on Telegram.
        packed: list[list[Text]] = []
        for text in texts:
            if packed and (not turn.is_sms or turn.fits_sms([*packed[-1], text])):
                packed[-1].append(text)
            else:
                packed.append([text])
        for message in packed:
            turn.say(*message)

    async def ask_members(self, turn: Turn) -> None:
        turn.say(t("How many people live in your household, you included? Write a number."))

    async def on_members(self, turn: Turn, inp: Input) -> None:
        members = household_count(inp.text)
        if members is None or not 1 <= members <= MAX_MEMBERS:
            raise Reject(
                t(
                    "Write the number of people with a number from 1 to {max}, e.g. 3.",
                    max=MAX_MEMBERS,
                )
            )
        self.state(turn).members = members
        await self.next_question(turn, "members")

    async def ask_work(self, turn: Turn) -> None:
        turn.say(t("Does anyone in the household have income from work?"), options=YES_NO)

    async def on_work(self, turn: Turn, inp: Input) -> None:
        s = self.state(turn)
        both = None if inp.choice else work_and_pension(inp.text, s.members)
        if both is not None:
            # "Nessuno lavora, ho la pensione": the next question answered too, and skipped.
            s.work, s.pension = both
            await self.next_question(turn, "pension")
            return
        pension_only = names_subject(inp.text, "pension") and not names_subject(inp.text, "work")
        if inp.choice is None and pension_only:
            # "Ho la pensione", "sì, la pensione": a pension is income, but not from work;
            # its own question comes next, and a "sì" here would say someone works.
            raise Reject(PENSION_IS_NEXT)
        answer = self._household_yes_no(turn, inp, "work")
        if answer is None:
            return
        self.state(turn).work = answer
        await self.next_question(turn, "work")

    async def ask_pension(self, turn: Turn) -> None:
        turn.say(t("Does anyone in the household receive a pension?"), options=YES_NO)

    async def on_pension(self, turn: Turn, inp: Input) -> None:
        s = self.state(turn)
        both = None if inp.choice else work_and_pension(inp.text, s.members, plain_no=False)
        if both is not None and both[0] == s.work:
            # "Nessuno lavora, ho la pensione" here too: the work as already answered.
            self.state(turn).pension = both[1]
            await self.next_question(turn, "pension")
            return
        answer = self._household_yes_no(turn, inp, "pension")
        if answer is None:
            return
        self.state(turn).pension = answer
        await self.next_question(turn, "pension")

    def _household_yes_no(self, turn: Turn, inp: Input, subject: str) -> bool | None:
        """The answer to whether anyone in the household has `subject` (work, a pension).
        The applicant answering for herself ("non lavoro", "io non ho la pensione") answers
        for a household of one; with others at home she is asked about them, nothing is
        recorded and None returned (the step waits). Said for all of them ("non lavoriamo",
        "non abbiamo pensioni"), a no; "niente" (nothing of it at home) a no; said of
        someone at home without a "sì" ("mio marito ha la pensione"), a yes."""
        answer = _yes_no(inp, who=True)
        if answer is not None:
            return answer
        if about_all_of_us(inp.text, subject):
            return False  # "non lavoriamo", "non abbiamo pensioni": for everyone at home
        if says_someone_has(inp.text, subject):
            return True  # "mio marito ha la pensione": someone at home has one
        members = self.state(turn).members
        if members is None or not about_oneself(inp.text, subject):
            raise Reject(NOT_UNDERSTOOD, t("Reply 1 for yes or 2 for no."))
        if members == 1:
            return False
        turn.say(_ABOUT_THE_OTHERS[subject](members - 1), options=YES_NO)
        return None

    async def ask_liquidity(self, turn: Turn) -> None:
        turn.say(
            t(
                "How much did the household have in bank and post office accounts on {day} "
                "(minors' accounts excluded)? Write the amount in euro, e.g. 1500.",
                day=Day(turn.policy.liquidity_reference_date),
            )
        )

    async def on_liquidity(self, turn: Turn, inp: Input) -> None:
        if await self._doubt_answered(turn, inp, "liquidity"):
            return
        if says_dont_know(inp.text):
            # "Boh, non lo so": what is asked, and that a rough figure will do. It asks the
            # question itself: the step waits, nothing is recorded.
            turn.say(
                t(
                    "An approximate figure is fine: about how much the household had in bank "
                    "and post office accounts on {day}. Write it in euro, e.g. {example}, or 0 "
                    "if none.",
                    day=Day(turn.policy.liquidity_reference_date),
                    example="1500",
                )
            )
            return
        if per_month(inp.text) or per_year(inp.text):
            # "1200 al mese": an income, taken for the savings it would be a wrong answer
            # the summary shows without saying why. Savings are what was in the accounts.
            self.state(turn).amount_miss = "liquidity"
            raise Reject(NOT_MONTHLY)
        if names_rent_or_support(inp.text):
            # "Pago 250 euro di affitto": the answer to a later question, which taken for
            # the savings would be a wrong figure on the summary.
            self.state(turn).amount_miss = "liquidity"
            raise Reject(NOT_RENT_NOR_SUPPORT)
        if says_there_is_none(inp.text, SAVINGS_WORDS):
            # "Non ho risparmi", "nessun risparmio", "I have none": no savings, as "0" or
            # "niente" say.
            self.state(turn).liquidity = 0
            await self.next_question(turn, "liquidity")
            return
        await self._amount_answer(turn, inp, "liquidity", lambda: _amount(inp, "1500", saved=True))

    async def ask_support(self, turn: Turn) -> None:
        turn.say(
            t(
                "How much public support does the household receive per month (cassa integrazione, "
                "NASpI, reddito di cittadinanza...)? Write 0 if none."
            )
        )

    async def on_support(self, turn: Turn, inp: Input) -> None:
        how_much = t(
            "How much does the household receive per month? Write the amount in euro, "
            "e.g. {example}.",
            example="300",
        )
        if await self._doubt_answered(turn, inp, "support"):
            return
        if names_a_pension_not_support(inp.text) and not per_year(inp.text):
            # "Pensione 600": taken for support, a wrong figure on the summary, said
            # nowhere (as a pension at the rent question).
            self.state(turn).amount_miss = "support"
            raise Reject(NOT_SUPPORT_BUT_PENSION)
        await self._amount_answer(
            turn, inp, "support", lambda: _monthly(turn, inp, SUPPORT_WORDS, how_much)
        )

    async def ask_rent(self, turn: Turn) -> None:
        turn.say(t("How much rent does the household pay per month? Write 0 if none."))

    async def on_rent(self, turn: Turn, inp: Input) -> None:
        how_much = t(
            "How much rent does the household pay per month? Write the amount in euro, "
            "e.g. {example}.",
            example="400",
        )
        if await self._doubt_answered(turn, inp, "rent"):
            return
        if names_other_than_rent(inp.text) and not per_year(inp.text):
            # "Pensione 600 euro": money coming in, which taken for the rent would be a
            # wrong figure on the summary, said nowhere. (A year's sum is told first that
            # a month's is asked, by _monthly, as at the support question.)
            self.state(turn).amount_miss = "rent"
            raise Reject(NOT_THE_RENT)
        await self._amount_answer(
            turn, inp, "rent", lambda: _monthly(turn, inp, RENT_WORDS, how_much)
        )

    # A lone small number after a wrong answer to an amount question ------------------------

    async def _doubt_answered(self, turn: Turn, inp: Input, step: str) -> bool:
        """The answer to "Do you mean 1,00 € of rent?" (_amount_answer): a yes, or the
        same number again, takes it; a no asks the question again; anything else is read
        as an answer to the question (a real amount goes through). True when handled."""
        s = self.state(turn)
        doubt, s.doubt = s.doubt, None
        if doubt is None:
            return False
        said = yes_or_no(inp.text) if inp.choice not in ("yes", "no") else inp.choice == "yes"
        if said is True or _lone_small_number(inp.text) == doubt:
            await self._amount_taken(turn, step, doubt)
            return True
        if said is False:
            await self.ask(turn)
            return True
        return False

    async def _amount_answer(
        self, turn: Turn, inp: Input, step: str, read: Callable[[], int | None]
    ) -> None:
        """The amount `read` reads (None: how much was asked, the step waits), taken,
        unless the last answer here was no amount and this one is a lone small number
        ("1" after "This is not an amount": a menu's choice, or a yes): then asked back,
        and taken only once she says yes. A wrong answer is remembered for that."""
        s = self.state(turn)
        small = _lone_small_number(inp.text)
        if s.amount_miss == step and small is not None:
            s.doubt = small
            turn.say(_doubt_question(step, small))
            return
        try:
            cents = read()
        except Reject:
            s.amount_miss = step
            raise
        if cents is not None:
            await self._amount_taken(turn, step, cents)

    async def _amount_taken(self, turn: Turn, step: str, cents: int) -> None:
        s = self.state(turn)
        s.amount_miss = None
        setattr(s, step, cents)
        await self.next_question(turn, step)

    # Summary, declaration, changes ------------------------------------------------------------

    async def ask_summary(self, turn: Turn) -> None:
        turn.say_summary(
            summary_texts(self.state(turn)),
            t(
                "Under DPR 445/2000 I declare that these data are true. False declarations are "
                "punished and lose the vouchers."
            ),
            options=(
                Option("declare", t("I declare, send")),
                Option("change", t("Change")),
                Option("cancel", t("Cancel")),
            ),
        )

    async def on_summary(self, turn: Turn, inp: Input) -> None:
        # "sì", "dichiaro", "confermo": the declaration in the applicant's words counts as
        # its option (the trial's elderly applicant wrote "si dichiaro", three times).
        if inp.choice == "declare" or _declares(inp.text):
            await self.confirm_then_do(turn)
        elif inp.choice == "change":
            await self.goto(turn, "change")
        else:
            raise Reject(t("Reply 1 to declare and send, 2 to change an answer, or ANNULLA."))

    async def ask_change(self, turn: Turn) -> None:
        options = [
            Option("members", t("People")),
            Option("work", t("Work income")),
            Option("pension", t("Pension")),
            Option("liquidity", t("Savings")),
            Option("support", t("Public support")),
            Option("rent", t("Rent")),
        ]
        if self.state(turn).mode != "edit":
            options.insert(0, Option("cf", t("Codice fiscale")))
        turn.say(t("What do you want to change?"), options=options)

    async def on_change(self, turn: Turn, inp: Input) -> None:
        allowed = QUESTIONS if self.state(turn).mode != "edit" else QUESTIONS[1:]
        if inp.choice is None or inp.choice not in allowed:
            raise Reject(t("Reply with the number of the answer to change."))
        self.state(turn).back = "summary"
        await self.goto(turn, inp.choice)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        phone = await turn.proven_phone()
        telegram = turn.channel == Channel.TELEGRAM
        data = applications.ApplicationInput(
            codice_fiscale=known(s.cf),
            phone=phone,
            household_size=known(s.members),
            has_work_income=known(s.work),
            has_pension=known(s.pension),
            liquidity_cents=known(s.liquidity),
            public_support_monthly_cents=known(s.support),
            rent_monthly_cents=known(s.rent),
            language=turn.language,
        )
        try:
            if s.mode == "edit":
                application = await applications.edit_application(
                    turn.uow, turn.town, known(s.protocol), data, turn.now
                )
                done = t("Changes saved. Application {protocol}.", protocol=application.protocol)
            else:
                application = await applications.submit_application(
                    turn.uow,
                    turn.town,
                    data,
                    source=turn.channel,
                    now=turn.now,
                    # On SMS (and the terminal) the code just typed proved the number.
                    proof=PhoneProof.TELEGRAM_CONTACT if telegram else PhoneProof.SMS_CODE,
                    telegram_user=turn.address if telegram else None,
                )
                done = tn(
                    "Application sent for {masked}, {count} person. Protocol {protocol}. "
                    "We will write to you when it has been assessed.",
                    "Application sent for {masked}, {count} people. Protocol {protocol}. "
                    "We will write to you when it has been assessed.",
                    known(s.members),
                    masked=short_mask_codice_fiscale(known(s.cf)),
                    protocol=application.protocol,
                )
        except identity.IdentityRefused as refused:
            # Taken meanwhile, or the draft's codice fiscale became someone else's.
            claim = await identity.check_claim(
                turn.uow,
                turn.town.id,
                known(s.cf),
                phone=phone,
                telegram_user=turn.address if telegram else None,
            )
            await identity.record_refusal(
                turn.uow, turn.town, claim, channel=turn.channel, phone=phone, now=turn.now
            )
            if isinstance(refused, identity.PhoneChangeWaiting):
                # The office is changing the citizen's phone: the chat's number waits for it.
                await self._refuse(turn, citizen_requests.PHONE_CHANGE_WAITING)
                return
            if isinstance(refused, identity.FirstNumberNeedsOffice):
                # A first number for a citizen with money to spend: the office confirms it.
                await self._refuse(turn, citizen_requests.NUMBER_NEEDS_OFFICE)
                return
            await self._refuse(turn)
            return
        except DomainError as error:
            self.drop_draft(turn)
            turn.finish()
            turn.say(error_text(error))
            return
        self.drop_draft(turn)
        turn.finish()
        turn.forget_citizen()
        turn.say(done)

    # The whole conversation: where it starts, each step's question and answer, and
    # where each answer may lead (a "back" to the summary after a change included).
    entry = ("language", "existing")
    steps = table(
        {
            "existing": Step(ask_existing, on_existing, to=("summary",)),
            "language": Step(ask_language, on_language, to=("privacy",)),
            "privacy": Step(ask_privacy, on_privacy, to=("cf", "contact")),
            "contact": Step(
                ask_contact, on_contact, to=("existing", "cf", "summary"), takes=Takes.CONTACT
            ),
            "cf": Step(ask_cf, on_cf, to=("contact", "members", "summary")),
            "members": Step(ask_members, on_members, to=("work", "summary")),
            "work": Step(ask_work, on_work, to=("pension", "liquidity", "summary")),
            "pension": Step(ask_pension, on_pension, to=("liquidity", "summary")),
            "liquidity": Step(ask_liquidity, on_liquidity, to=("support", "summary")),
            "support": Step(ask_support, on_support, to=("rent", "summary")),
            "rent": Step(ask_rent, on_rent, to=("summary",)),
            # After a message that is no answer, only the error (the options in words): the
            # summary again costs three SMS each time, and was just read.
            "summary": Step(ask_summary, on_summary, to=(VERIFY, "change"), again=False),
            "change": Step(ask_change, on_change, to=QUESTIONS),
            VERIFY: verify(),  # then the application is sent (or changed) and the flow ends
            "resume": resume(
                "language",
                "existing",
                "privacy",
                "contact",
                *QUESTIONS,
                "summary",
                "change",
                VERIFY,
            ),
        }
    )


def summary_texts(s: ApplyState) -> list[Text]:
    return [
        t("Summary:"),
        t("CF {cf}", cf=known(s.cf)),
        t("People: {count}", count=known(s.members)),
        t("Work income: yes") if known(s.work) else t("Work income: no"),
        t("Pension: yes") if known(s.pension) else t("Pension: no"),
        t("Savings: {amount}", amount=Money(known(s.liquidity))),
        t("Support: {amount}/month", amount=Money(known(s.support))),
        t("Rent: {amount}/month", amount=Money(known(s.rent))),
    ]


# What an applicant writes to declare and send, besides the option and a plain yes.
_DECLARE_WORDS = frozenset(
    {
        "dichiaro", "si dichiaro", "dichiaro e invio", "confermo", "si confermo", "invia",
        "invio", "i declare", "declare", "yes i declare", "confirm", "send",
    }
)  # fmt: skip


def _declares(text: str | None) -> bool:
    return " ".join(plain_words(text)) in _DECLARE_WORDS or yes_or_no(text) is True


def _yes_no(inp: Input, *, who: bool = False) -> bool | None:
    """The option picked, else a yes or a no in words; with `who` (the household's work and
    pension, questions whose yes acts on nothing: the summary shows it before the
    declaration) also a yes saying who ("si la pensione di mio marito")."""
    if inp.choice in ("yes", "no"):
        return inp.choice == "yes"
    return yes_or_no_leading(inp.text) if who else yes_or_no(inp.text)


def _monthly(turn: Turn, inp: Input, about: frozenset[str], how_much: Text) -> int | None:
    """The whole euro a month of support or rent (`about`: SUPPORT_WORDS, RENT_WORDS). None
    when the words only say there is some ("ho la naspi", "pago l'affitto", "sì"): then
    `how_much` is asked, nothing is recorded and the step waits. 0 when they say there is
    none. A year's sum is refused."""
    if per_year(inp.text):
        raise Reject(NOT_YEARLY)
    if yes_or_no(inp.text) is True or says_there_is(inp.text, about):
        turn.say(how_much)
        return None
    if says_there_is_none(inp.text, about):
        return 0  # "non ce l'ho", "nessun sostegno", "non pago l'affitto", "casa di proprietà"
    return _amount(inp, "300", about=about)


# A number of one figure alone ("1", "2."), as a menu's choice is written: no amount she
# means, after an answer that was none (_amount_answer). "1 euro" or "350" is an amount.
_LONE_SMALL_NUMBER = re.compile(r"\s*([1-9])\s*[.!]?\s*")


def _lone_small_number(text: str | None) -> int | None:
    """The cents of a one-figure number written alone, else None."""
    found = _LONE_SMALL_NUMBER.fullmatch(text or "")
    return int(found.group(1)) * 100 if found else None


def _doubt_question(step: str, cents: int) -> Text:
    amount = Money(cents)
    if step == "rent":
        return t(
            "Do you mean {amount} of rent a month? Reply YES or write the amount.", amount=amount
        )
    if step == "support":
        return t(
            "Do you mean {amount} of support a month? Reply YES or write the amount.",
            amount=amount,
        )
    return t("Do you mean {amount} in the accounts? Reply YES or write the amount.", amount=amount)


def _amount(
    inp: Input, example: str, *, saved: bool = False, about: frozenset[str] = frozenset()
) -> int:
    """Whole euro in digits or in words ("1500", "mille e cinquecento"), or the one amount
    of a sentence ("pago 350 euro di affitto"; with `saved`, the savings question's, also
    "ho circa 1200 in banca"); a wrong one is explained with an example like the
    question's, an amount of household money."""
    try:
        cents = parse_euro(amount_text(inp.text))
    except InvalidAmount as error:
        said = amount_in_sentence(inp.text, saved=saved, about=about)
        if said is None:
            raise Reject(_amount_error(error, example)) from error
        try:
            cents = parse_euro(said)
        except InvalidAmount as wrong:
            raise Reject(_amount_error(wrong, example)) from wrong
    if cents > MAX_AMOUNT_CENTS:
        raise Reject(t("This amount looks wrong: check it and write it again."))
    return cents


def _amount_error(error: InvalidAmount, example: str) -> Text:
    if error.reason == "negative":
        return t("The amount cannot be negative. Write it again, e.g. {example}.", example=example)
    if error.reason == "too_many_decimals":
        return t(
            "An amount has at most two decimals (cents). Write it again, e.g. {example}.",
            example=example,
        )
    return t(
        "This is not an amount. Write it in euro, in figures or in words, e.g. {example}.",
        example=example,
    )
