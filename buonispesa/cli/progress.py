"""Progress of the office's long jobs: a bar on a terminal, one line per 10 % otherwise
(a log file or a pipe gets a few readable lines, not a bar's control characters)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress

from buonispesa.cli.common import say
from core.domain.messages import Text, t

Report = Callable[[int, int], None]


@contextmanager
def progress_of(label: Text, console: Console | None = None) -> Iterator[Report]:
    """Yield report(done, total) for the job to call as it goes."""
    console = console or Console(stderr=True)
    if console.is_terminal:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(say(label), total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update
        return
    printed = -1

    def line(done: int, total: int) -> None:
        nonlocal printed
        tenth = 10 if total <= 0 else min(10, done * 10 // total)
        if tenth <= printed:
            return
        printed = tenth
        console.print(
            say(
                t(
                    "{job}: {percent}% ({done} of {total})",
                    job=say(label),
                    percent=str(tenth * 10),
                    done=str(done),
                    total=str(total),
                )
            ),
            markup=False,
            highlight=False,
        )

    yield line
