"""The code printed on a citizen's card: drawn for a new citizen (from a chat, at the desk, in
a bulk import) and again for a card reissued or a citizen erased."""

from __future__ import annotations

import secrets

from core.domain.cards import CARD_CODE_ALPHABET, CARD_CODE_LENGTH, printable_card_code


def new_card_code() -> str:
    """The code printed (with a QR) on a citizen's card: unguessable, easy to read out,
    never digits alone nor a keyword first (printable_card_code: drawn again, about
    once in 150,000 draws)."""
    while True:
        # One random byte per symbol: 256 is a multiple of 32, so every symbol is equally
        # likely (and a bulk import makes 100,000 of them ten times faster than
        # secrets.choice).
        code = "".join(
            CARD_CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(CARD_CODE_LENGTH)
        )
        if printable_card_code(code):
            return code
