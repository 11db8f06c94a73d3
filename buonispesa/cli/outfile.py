"""Files the office's commands write (`--out`): checked before any work, never half-written.

Every command that writes a file goes through `OutFile`, so they all behave alike:
- a missing folder, a folder given as the file, or an existing file without `--force` is a
  sentence and exit 2, checked before the command changes anything;
- the bytes go to a temporary file next to the target, renamed into place only when
  complete (a crash leaves no half file under the target's name);
- files with personal data (codici fiscali, a PIN, IBANs) are created readable by their owner
  only (0600), whatever the umask.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from buonispesa.cli.common import fail
from core.domain.messages import t

PRIVATE_MODE = 0o600


@dataclass(frozen=True)
class OutFile:
    path: Path
    force: bool = False
    personal: bool = False

    def check(self) -> None:
        """Refuse, before any work, a target that cannot or must not be written."""
        folder = self.path.parent
        if not folder.exists():
            fail(
                t(
                    "The folder {folder} does not exist: create it first or choose another "
                    "file with --out.",
                    folder=str(folder),
                )
            )
        if not folder.is_dir():
            fail(t("{folder} is not a folder.", folder=str(folder)))
        if self.path.is_dir():
            fail(t("{file} is a folder: give a file name.", file=str(self.path)))
        if self.path.exists() and not self.force:
            fail(t("{file} already exists: add --force to overwrite it.", file=str(self.path)))

    def write(self, data: str | bytes) -> None:
        """Check, then write the whole file at once."""
        with self.staged(data):
            pass

    @contextlib.contextmanager
    def staged(self, data: str | bytes) -> Iterator[None]:
        """Write `data` beside the target, run the block, then put the file in place.

        For files that must match a database commit (a payment order, a card's PIN): the
        commit goes inside the block; if it raises, the file never appears."""
        self.check()
        payload = data.encode("utf-8") if isinstance(data, str) else data
        partial = self._write_partial(payload)
        try:
            yield
            self._publish(partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def published(self, data: str | bytes) -> Iterator[None]:
        """Put `data` in place, then run the block; if the block raises, take the file back
        (the target removed, or the file `--force` replaced put back) and re-raise.

        For a file whose record is committed in the block (its activity-log entry, written
        before and not yet committed): a file that cannot be put in place (a file appeared
        under the name meanwhile, a full disk) ends the command before the block, and the
        entry is rolled back with the unit of work; a commit that fails takes the file
        back. What is committed is a file that is there."""
        self.check()
        payload = data.encode("utf-8") if isinstance(data, str) else data
        partial = self._write_partial(payload)
        kept = self._keep_replaced() if self.force else None
        try:
            self._publish(partial)
        except BaseException:
            if kept is not None:
                os.replace(kept, self.path)
            raise
        try:
            yield
        except BaseException:
            if kept is not None:
                os.replace(kept, self.path)
            else:
                self.path.unlink(missing_ok=True)
            raise
        if kept is not None:
            kept.unlink(missing_ok=True)

    def _keep_replaced(self) -> Path | None:
        """The file `--force` is about to replace, kept under a hidden name beside it until
        the block of `published` succeeds (None when there is none)."""
        if not self.path.is_file():
            return None
        kept = self.path.parent / f".{self.path.name}.{secrets.token_hex(6)}.replaced"
        try:
            os.link(self.path, kept)
        except OSError:
            # Filesystems without hard links: moved aside, put back on a failure.
            try:
                os.replace(self.path, kept)
            except OSError as error:
                self._failed(error)
        return kept

    def _write_partial(self, payload: bytes) -> Path:
        try:
            handle, name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
            )
        except OSError as error:
            self._failed(error)
        partial = Path(name)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(payload)
            # mkstemp creates 0600; a file without personal data gets the usual mode.
            if not self.personal:
                os.chmod(partial, 0o666 & ~_umask())
        except OSError as error:
            partial.unlink(missing_ok=True)
            self._failed(error)
        return partial

    def _publish(self, partial: Path) -> None:
        try:
            if self.force:
                os.replace(partial, self.path)
            else:
                _link_or_move(partial, self.path)
        except FileExistsError:
            partial.unlink(missing_ok=True)
            fail(t("{file} already exists: add --force to overwrite it.", file=str(self.path)))
        except OSError as error:
            partial.unlink(missing_ok=True)
            self._failed(error)

    def _failed(self, error: OSError) -> NoReturn:
        fail(t("{file}: {problem}", file=str(self.path), problem=str(error.strerror or error)))


def _link_or_move(partial: Path, target: Path) -> None:
    """Put `partial` at `target` unless a file is there; link() refuses an existing name
    atomically, so a file that appeared meanwhile is kept."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise
    except OSError:
        # Filesystems without hard links: the check made before the work has to do.
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(partial, target)
        return
    partial.unlink()


def _umask() -> int:
    # os.umask can only be read by setting it; put it straight back.
    current = os.umask(0o022)
    os.umask(current)
    return current
