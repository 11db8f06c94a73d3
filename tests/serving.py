"""The port `buonispesa serve --port 0` listens on, read from what it printed at start.

Tests start `serve` on port 0 and read the port back: a port picked beforehand (bound,
closed, then passed to `--port`) may be taken by another test's process in between."""

from __future__ import annotations

import re

# The banner's first line: "buonispesa on http://127.0.0.1:43817  (health: …)".
_LISTENING = re.compile(r"buonispesa on http://(?:\[[^\]]*\]|[^\s/\[]+?):(\d+)")


def listening_port(output: str) -> int:
    """The port of the last start in `output` (a log appended to across restarts)."""
    found = _LISTENING.findall(output)
    assert found, f"no port printed; output:\n{output}"
    return int(found[-1])
