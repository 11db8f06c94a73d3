"""Progress of long office work: a bar on a terminal, one line per 10 % in a log.

A bar redrawn in a file or a pipe (cron, `… 2> import.log`) is unreadable noise; there the
office gets "Importing: 30 % (30,000 of 100,000)" lines instead, each once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import Progress

from buonispesa.cli.common import say
from core.domain.messages import Text, t


class Report(Protocol):
    def __call__(self, done: int, total: int) -> None: ...


@contextmanager
def progress(label: Text, console: Console | None = None) -> Iterator[Report]:
    """Yields report(done, total); to stderr unless told otherwise."""
    console = console or Console(stderr=True)
    if console.is_terminal:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(say(label), total=None)

            def redraw(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield redraw
        return

    printed = 0  # tenths already printed

    def line(done: int, total: int) -> None:
        nonlocal printed
        tenths = 10 if total <= 0 else min(10, done * 10 // total)
        if tenths > printed:
            printed = tenths
            text = t(
                "{label}: {percent} % ({done} of {total})",
                label=say(label),
                percent=tenths * 10,
                done=done,
                total=total,
            )
            console.print(say(text), markup=False, highlight=False)

    yield line
