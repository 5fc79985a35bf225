"""What a command-line run shows and leaves behind: the progress line on terminals and the run
summary for ``--json-log``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from acsxl import __version__
from acsxl.io.reader import FileResult
from acsxl.io.writer import atomic_write
from acsxl.portfolio.service import InPlace
from acsxl.rules.parameters import RULEBOOK


class Progress:
    """'reading 37/200 files' rewritten in place on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None, doing: str = "reading") -> None:
        stream = sys.stderr if stream is None else stream  # the one in use now, not the one at import
        self.total, self.stream, self.done, self.doing = total, stream, 0, doing
        self.enabled = stream.isatty() if enabled is None else enabled

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            self.stream.write(f"\racsxl: {self.doing} {self.done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


@dataclass
class RunLog:
    as_of: str
    output: str
    started: str = field(default_factory=_now)  # ISO 8601, local time with its offset
    finished: str = ""
    acsxl_version: str = __version__
    parameters_version: str = RULEBOOK.version
    files: list[FileResult] = field(default_factory=list)
    in_place: list[InPlace] = field(default_factory=list)
    rows: int = 0
    rows_with_issues: int = 0
    rows_with_unverified: int = 0  # rows that used an amount acsxl could not verify (kind "unverified" in their issues)
    caveats: list[str] = field(default_factory=list)  # the law the run could not rely on (acsxl.rules.parameters.Rulebook.carried_forward)
    seconds: dict[str, float] = field(default_factory=dict)
    exit_code: int = 0
    error: str | None = None  # when the run failed as a whole: the one line it said

    def write(self, path: Path, narrow_to: int | None = None) -> None:
        """The log as JSON to ``path`` (its mode at most ``narrow_to``: it names client files); '-' is standard output."""
        self.finished = _now()
        data = asdict(self)
        files = data.pop("files")
        data["files_read"] = [f for f in files if f["error"] is None and f["passed_over"] is None]
        data["files_skipped"] = [{"path": f["path"], "reason": f["error"]} for f in files if f["error"]]
        data["files_passed_over"] = [{"path": f["path"], "reason": f["passed_over"]} for f in files if f["passed_over"]]
        text = json.dumps(data, indent=2, default=str) + "\n"
        if str(path) == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        atomic_write(path, lambda target: target.write_text(text, encoding="utf-8"), narrow_to=narrow_to)
