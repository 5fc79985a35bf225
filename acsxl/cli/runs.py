"""What a command-line run shows and leaves behind: the progress line on terminals and the run
summary for ``--json-log``."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from acsxl.io.reader import FileResult
from acsxl.portfolio.service import InPlace


class Progress:
    """'reading 37/200 files' rewritten in place on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, enabled: bool | None = None) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.enabled = stream.isatty() if enabled is None else enabled

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            self.stream.write(f"\racsxl: reading {self.done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")


@dataclass
class RunLog:
    as_of: str
    output: str
    started: float = field(default_factory=time.time)
    files: list[FileResult] = field(default_factory=list)
    in_place: list[InPlace] = field(default_factory=list)
    rows: int = 0
    rows_with_issues: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    exit_code: int = 0

    def write(self, path: Path) -> None:
        data = asdict(self)
        files = data.pop("files")
        data["files_read"] = [f for f in files if f["error"] is None and f["passed_over"] is None]
        data["files_skipped"] = [{"path": f["path"], "reason": f["error"]} for f in files if f["error"]]
        data["files_passed_over"] = [{"path": f["path"], "reason": f["passed_over"]} for f in files if f["passed_over"]]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
