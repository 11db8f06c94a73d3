"""Benchmark: the dialogue step of a plain turn (SALDO, MENU, AIUTO, START), as pure Python.

Run from the repository root: `python bench/bench_dialogue_step.py` (or `make bench`).
What the one-trip plan (core/storage/turn_trip.py) runs between its reads and its
writes: PlainTurn.classify (the command, read against the options offered) and
PlainTurn.decide (the balance reply with the last movements fitting one SMS, or the
menu, the help, the welcome; the conversation's new state, the outbox rows). No
database. Target: at most 0.1 ms per turn of CPU, the median of three runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bench.runs import RUNS, load, spread
from core.dialogue.inbound import Channel, Inbound
from core.dialogue.plain_turn import PlainTurn
from core.dialogue.state import ChatMemory, Offered, dump
from core.dialogue.words import forget_messages
from core.domain.keys import PROCESS_KEYS
from core.domain.ledger import PostingKind
from core.storage.turn_trip import ConversationRow, Found, Holder, PostingRow, TownRow

TARGET_MS = 0.1
NOW = datetime(2026, 4, 6, 8, 0, tzinfo=UTC)


def one_turn_ms(channel: Channel, moves: int, turns: int, text: str = "SALDO") -> float:
    town = TownRow(1, "+390733000001", "Europe/Rome", "Belforte del Chienti", False)
    memory = dump(ChatMemory(options=[Offered("balance", ["balance", "saldo"])]))
    conversation = ConversationRow(1, 1, "it", None, None, memory, False)
    postings = [
        PostingRow(PostingKind.PAYMENT.value, -1_250 - i, NOW - timedelta(days=i), "Forno", i)
        for i in range(moves)
    ]
    found = Found(Holder(1, "RSSMRA85T10A562S", False, 137_50, postings))
    address = "+393331234567" if channel is Channel.SMS else "5550001"
    inbound = Inbound(channel, address, text=text, provider_message_id="SM1")
    started = time.process_time()
    for _ in range(turns):
        # Every message new to the process: only the turn's own reuse of its words counts.
        forget_messages()
        turn = PlainTurn(inbound, NOW, PROCESS_KEYS)
        lookup = turn.classify(town, conversation)
        assert lookup is not None
        assert turn.decide(lookup.context, found) is not None
    return (time.process_time() - started) / turns * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print(f"load {load():.1f} at the start; {args.runs} runs of {args.turns:,} turns each")
    one_turn_ms(Channel.SMS, 3, 200)  # warm: catalogs, validators
    ok = True
    for channel, moves, text in (
        (Channel.SMS, 0, "SALDO"),
        (Channel.SMS, 3, "SALDO"),
        (Channel.TELEGRAM, 3, "SALDO"),
        (Channel.SMS, 0, "MENU"),
        (Channel.SMS, 0, "START"),
        (Channel.TELEGRAM, 0, "/start"),
        (Channel.TELEGRAM, 0, "/aiuto"),
    ):
        costs = [one_turn_ms(channel, moves, args.turns, text) for _ in range(args.runs)]
        cost = statistics.median(costs)
        passed = cost <= TARGET_MS
        ok &= passed
        what = f"{text} step on {channel.value}" + (f", {moves} movements" if moves else "")
        print(
            f"{'PASS' if passed else 'FAIL'} {what}: "
            f"min/median/max {spread(costs, '.3f')} ms CPU per turn "
            f"(target: median <= {TARGET_MS} ms; load {load():.1f})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
