"""RICORSO / APPEAL: a citizen asks the office to review the decision on their application.

The reason may follow the word ("RICORSO ho 3 figli, non 1") or is asked for. Only the
citizen this chat proves may appeal: the linked Telegram chat, or the citizen's own proven
phone on SMS, where the appeal waits for a code sent to that phone (a forged sender cannot
file, nor use up, somebody else's appeal). core.services.appeals decides whether the
decision may still be appealed; the refusals are said here with their particulars.
"""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import VERIFY, ConfirmedFlow, Step, known, table, verify
from core.dialogue.menus import office_contact
from core.dialogue.state import AppealState
from core.dialogue.words import plain_words, wants_to_add, was_cut, yes_or_no
from core.domain.channels import Channel
from core.domain.errors import DomainError, Refusal
from core.domain.messages import Text, t
from core.services import appeals

# Nobody's application behind this phone or chat (docs/appeals.md, "Appealing from the chat").
NO_APPLICATION = t("We found no application of yours to appeal. To apply, write DOMANDA.")
# A photo or a file (of a document, say) sent for the reason: the office receives only the
# words, the caption written under it, said with the receipt (ONLY_WORDS); without any words
# the reason is asked again (PHOTO_WITHOUT_WORDS).
PHOTO_WITHOUT_WORDS = t("Photos and files do not reach the office: write the reason in words.")
ONLY_WORDS = t("Photos and files do not reach the office, only your words.")
# The same for a voice message (an audio, a video note): nobody can listen to it.
VOICE_WITHOUT_WORDS = t(
    "Voice messages cannot be listened to, and they do not reach the office: write the "
    "reason in words."
)
VOICE_ONLY_WORDS = t("Voice messages do not reach the office, only your words.")
# A yes, a no or a thanks alone ("no", "sì grazie", "ok") answers a question; it is no
# reason. Filed, it would use up the one appeal on the decision (a trial user's "no" was).
NOT_A_REASON = t(
    "To appeal, write in words why you ask the office to review the decision. If you do "
    "not want to appeal, write ANNULLA."
)


def says_no_reason(reason: str) -> bool:
    """Whether the words are only a yes, a no or thanks (plain_words drops courtesy)."""
    words = plain_words(reason)
    return not words or yes_or_no(reason) is not None


# A delegate's phone acts for the citizen's balance and payments, never for their appeal.
DELEGATE_CANNOT_APPEAL = t(
    "A delegate cannot appeal for the citizen: the citizen writes RICORSO from their own "
    "phone or chat, or comes to the office."
)


# "Volevo aggiungere una cosa" once an appeal is filed: what the office decides on is the
# reason as filed (core.services.appeals.open_appeal), so the chat takes no addition; the
# office does, and how to reach it is said with it.
async def adding_to_appeal(turn: Turn, text: str | None) -> bool:
    """Words that want to add something, from a citizen whose appeal waits for the office:
    told that it was filed, that the chat adds nothing to it, and the office's contact (in
    the same SMS when both fit one). False otherwise."""
    if not wants_to_add(text):
        return False
    citizen = await turn.citizen()
    if citizen is None:
        return False
    filed = await appeals.open_appeal(turn.uow, turn.town, citizen)
    if filed is None:
        return False
    turn.say_split(
        t(
            "Your appeal no. {number} on application {protocol} is with the office. Nothing "
            "can be added to it here: to add something, contact the office.",
            number=str(filed.number),
            protocol=filed.protocol,
        ),
        office_contact(turn),
    )
    return True


def refusal_text(error: DomainError) -> Text:
    """Why an appeal cannot be filed now, in the citizen's words; nothing was changed."""
    p = error.params
    protocol = str(p.get("protocol", ""))
    if error.code == Refusal.APPEAL_NO_APPLICATION:
        return NO_APPLICATION
    if error.code == Refusal.APPEAL_NO_DECISION:
        return t(
            "Application {protocol} has not been decided yet: you can appeal once you "
            "receive the decision.",
            protocol=protocol,
        )
    if error.code == Refusal.APPEAL_TOO_LATE:
        return t(
            "The time to appeal on application {protocol} is over: {days} days from the "
            "decision. Contact the office.",
            protocol=protocol,
            days=int(str(p.get("days", 0))),
        )
    if error.code == Refusal.APPEAL_ALREADY_OPEN:
        return t(
            "You have already appealed the decision on application {protocol}: the office "
            "will answer you here.",
            protocol=protocol,
        )
    if error.code == Refusal.APPEAL_ALREADY_DECIDED:
        return t(
            "Your appeal on application {protocol} has already been decided. You may still "
            "appeal to the Regional Administrative Court (TAR).",
            protocol=protocol,
        )
    if error.code == Refusal.APPEAL_REASON_TOO_LONG:
        return t(
            "Your reason is too long: at most {limit} characters. Write it again, shorter.",
            limit=int(str(p.get("limit", appeals.MAX_REASON))),
        )
    if error.code == Refusal.APPEAL_REASON_MISSING:
        return t("Write why you ask the office to review the decision.")
    return error_text(error)


class AppealFlow(ConfirmedFlow[AppealState]):
    name = "appeal"
    doing = t("You were making your appeal.")
    state_type = AppealState

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        shop_number = await citizen_requests.shop_number(turn)
        if shop_number is not None:
            # A shop's phone has no application: not "write DOMANDA", which it is refused.
            turn.say(shop_number)
            return
        if await citizen_requests.represented(turn) is not None:
            turn.say(DELEGATE_CANNOT_APPEAL)
            return
        if await turn.citizen() is None and (
            turn.channel != Channel.TELEGRAM or turn.phone() is not None
        ):
            # A phone (SMS's sender, or the contact this chat shared) with nobody behind it;
            # one whose application waits to be finished hears that, and only that.
            if await citizen_requests.application_to_complete(turn):
                turn.say(
                    citizen_requests.APPEAL_AFTER_DECISION,
                    citizen_requests.APPLICATION_TO_COMPLETE,
                )
            else:
                turn.say(NO_APPLICATION)
            return
        citizen = await citizen_requests.identified(turn, "appeal", arg.strip())
        if citizen is None:
            return
        try:
            appealable = await appeals.check_appealable(turn.uow, turn.town, citizen, turn.now)
        except DomainError as error:
            turn.finish()
            # "RICORSO: volevo aggiungere che…", "vorrei aggiungere una cosa al ricorso".
            added = arg or turn.inbound.text
            if error.code == Refusal.APPEAL_ALREADY_OPEN and await adding_to_appeal(turn, added):
                return
            turn.say(refusal_text(error))
            return
        self.move(turn, "reason", AppealState(protocol=appealable.application.protocol))
        if arg.strip():
            await self._reason(turn, arg)
            return
        await self.ask(turn)

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The application and the reason: a code sent for them files only them."""
        s = self.state(turn)
        return (str(s.protocol), str(s.reason))

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        """The start of the reason, quoted: a citizen who did not write it sees it."""
        return t(
            'Code {code} confirms your appeal "{quote}": reply to this message with the code. '
            "Do not give it to anyone else. Valid {minutes} min.",
            code=code,
            quote=appeals.reason_start(known(self.state(turn).reason)),
            minutes=minutes,
        )

    async def ask_reason(self, turn: Turn) -> None:
        turn.say(
            t(
                "Appeal on application {protocol}: write in one message why you ask the office "
                "to review the decision, or ANNULLA.",
                protocol=known(self.state(turn).protocol),
            )
        )

    def voice_not_heard(self, turn: Turn) -> Text:
        return VOICE_WITHOUT_WORDS if turn.step == "reason" else super().voice_not_heard(turn)

    def not_read(self, turn: Turn) -> Text:
        return PHOTO_WITHOUT_WORDS if turn.step == "reason" else super().not_read(turn)

    async def on_reason(self, turn: Turn, inp: Input) -> None:
        await self._reason(turn, inp.text)

    async def _reason(self, turn: Turn, text: str) -> None:
        reason = " ".join(text.split())
        if not reason:
            raise Reject(t("Write why you ask the office to review the decision."))
        if says_no_reason(reason):
            raise Reject(NOT_A_REASON)
        # A message over the chat's length was cut before it came here: its end is missing.
        if len(reason) > appeals.MAX_REASON or was_cut(turn.inbound.text):
            raise Reject(
                t(
                    "Your reason is too long: at most {limit} characters. Write it again, shorter.",
                    limit=appeals.MAX_REASON,
                )
            )
        self.state(turn).reason = reason
        await self.confirm_then_do(turn)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        reason = known(s.reason)
        turn.finish()
        citizen = await turn.citizen()
        if citizen is None:  # the chat lost its citizen meanwhile (the office rebound it)
            turn.say(NO_APPLICATION)
            return
        try:
            appeal = await appeals.file_appeal(
                turn.uow, turn.town, citizen, reason, turn.channel, turn.now
            )
        except DomainError as error:
            turn.say(refusal_text(error))
            return
        received = t(
            'Appeal no. {number} on application {protocol} received: "{quote}". The office '
            "will send you its decision here.",
            number=str(appeal.id),
            protocol=known(s.protocol),
            quote=appeals.reason_start(reason),
        )
        # The reason written under a photo or a file (Telegram, where no code is asked and
        # the appeal is filed in the same turn): the photo is not part of it.
        inbound = turn.inbound
        beside = VOICE_ONLY_WORDS if inbound.voice else ONLY_WORDS
        turn.say(received, *((beside,) if inbound.attachment else ()))

    # The reason (unless it came with the word), then on SMS the code sent to the phone.
    entry = ("reason",)
    steps = table(
        {
            "reason": Step(ask_reason, on_reason, to=(VERIFY,)),
            VERIFY: verify(),
        }
    )
