"""The README's command table is the office's reference: every command of `buonispesa` has
its row there, with every option it takes written out, and no option it does not take; the
commands docs/office-command-line.md writes out (`admin …`) exist with the options written.
(`admin documents statement --lang` and the chat's `--database-url`, `--[no-]others` were
missing from the table.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from buonispesa.cli import _register, app

ROOT = Path(__file__).resolve().parents[2]
OPTION = re.compile(r"--(?:\[no-\])?[a-z][a-z0-9-]*")


def _commands() -> dict[str, Any]:
    """Every command that runs, by its words after `buonispesa` ("admin shops approve")."""
    _register()

    def leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        if getattr(command, "hidden", False):
            return
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from leaves(sub, (*path, name))
        else:
            yield " ".join(path), command

    return dict(leaves(typer.main.get_command(app), ()))


def _options(command: Any) -> tuple[set[str], set[str]]:
    """The options to write (a flag's "--no-" form only when it is not the default) and all
    the options the command takes."""
    needed: set[str] = set()
    taken: set[str] = set()
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.hidden:
            continue
        names = [name for name in param.opts if name.startswith("--") and name != "--help"]
        negative = [name for name in param.secondary_opts if name.startswith("--")]
        taken.update(names + negative)
        needed.update(names)
        if param.default is not False:
            needed.update(negative)
    return needed, taken


def _written(text: str) -> set[str]:
    """The options a piece of the table writes; `--[no-]pension` is both forms."""
    found: set[str] = set()
    for option in OPTION.findall(text):
        if option.startswith("--[no-]"):
            found.update({"--" + option.removeprefix("--[no-]"), "--no-" + option[7:]})
        else:
            found.add(option)
    return found


def _stripped(piece: str) -> str:
    return piece.removeprefix("buonispesa ").removeprefix("admin ")


def _names(words: str, piece: str) -> bool:
    """Whether a piece of the table ("shops approve CODE …", after `buonispesa admin `) is
    the command `words` ("admin shops approve"), written in full or by its last two words."""
    path = words.split()
    spelled = " ".join(path[1:]) if path[0] == "admin" else words
    short = " ".join(path[-2:])
    text = _stripped(piece)
    return any(text == name or text.startswith(name + " ") for name in {spelled, short})


def _readme_pieces() -> dict[str, str]:
    """Each command's pieces of the README's table joined; a piece `… --remove` goes with
    the command of the piece before it in its row."""
    readme = (ROOT / "README.md").read_text("utf-8")
    rows = [row for row in readme.splitlines() if row.startswith("| `buonispesa ")]
    said: dict[str, str] = {}
    for words in _commands():
        for row in rows:
            pieces = re.findall(r"`([^`]*)`", row.split(" | ")[0])
            ours = False
            for piece in pieces:
                if piece.startswith("…"):
                    if ours:
                        said[words] = said.get(words, "") + " " + piece
                    continue
                ours = _names(words, piece)
                if ours:
                    said[words] = said.get(words, "") + " " + piece
    return said


def test_every_command_has_a_row_with_exactly_its_options() -> None:
    said = _readme_pieces()
    commands = _commands()
    assert "admin documents receipt" in commands and "admin window close" in commands
    assert set(commands) - set(said) == set()
    wrong = {}
    for words, command in commands.items():
        needed, taken = _options(command)
        written = _written(said[words])
        missing, unknown = needed - written, written - taken
        if missing or unknown:
            wrong[words] = {"missing": sorted(missing), "not an option": sorted(unknown)}
    assert wrong == {}


def test_the_commands_the_office_page_writes_exist_with_those_options() -> None:
    text = (ROOT / "docs" / "office-command-line.md").read_text("utf-8")
    commands = _commands()
    pieces = [piece for piece in re.findall(r"`([^`]*)`", text) if piece.startswith("admin ")]
    assert len(pieces) >= 8
    wrong = {}
    for piece in pieces:
        named = [words for words in commands if _names(words, piece)]
        if len(named) != 1:
            wrong[piece] = f"names {named or 'no command'}"
            continue
        unknown = _written(piece) - _options(commands[named[0]])[1]
        if unknown:
            wrong[piece] = f"not options of {named[0]}: {sorted(unknown)}"
    assert wrong == {}
