"""The firm's configuration file, ``acsxl.toml``: extra header aliases, and how the workbook shows dates.

Found in this order: ``--config FILE``; else ``acsxl.toml`` in a folder given on the command line (or
beside a file given there); else ``acsxl.toml`` in the user's configuration folder. For example::

    [aliases]
    last_notice = ["IRS Notice"]
    notice_date = ["Date of Letter"]

    [display]
    dates = "iso"   # yyyy-mm-dd; the default is "us", mm/dd/yyyy

Each key of [aliases] is a canonical column (``acsxl.rules.schema.FIELDS``); headers are matched as the built-in
aliases are, ignoring case, spaces and punctuation."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from acsxl.errors import AcsxlError
from acsxl.rules.schema import FIELD_BY_NAME, HEADER_ALIASES, header_key

NAME = "acsxl.toml"
KNOWN = ("aliases", "display")


class ConfigError(AcsxlError):
    """The configuration file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # canonical column -> the firm's headers for it
    dates: str | None = None  # [display] dates: the workbook's date style, checked where the styles are (acsxl.portfolio.dates)

    def header_aliases(self) -> dict[str, str]:
        """Header key -> canonical column: the built-in aliases, and the firm's over them."""
        return {**HEADER_ALIASES, **{header_key(h): name for name, headers in self.aliases.items() for h in headers}}


def user_config_file() -> Path:
    import platformdirs  # only when no file or folder names one

    return Path(platformdirs.user_config_dir("acsxl", appauthor=False)) / NAME


def find_config(explicit: Path | None, inputs: Sequence[Path]) -> Path | None:
    if explicit is not None:
        return explicit
    for path in inputs:
        folder = path if path.is_dir() else path.parent
        if (folder / NAME).is_file():
            return folder / NAME
    user = user_config_file()
    return user if user.is_file() else None


def load_config(explicit: Path | None = None, inputs: Sequence[Path] = ()) -> Config:
    path = find_config(explicit, inputs)
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror or err})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not a valid TOML file ({err}); see 'Firm settings' in the README") from None
    unknown = sorted(set(raw) - set(KNOWN))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(KNOWN)})")
    aliases = raw.get("aliases", {})
    if not isinstance(aliases, dict):
        raise ConfigError(f"{path}: [aliases] must be a table of column = [\"header\", ...]")
    out: dict[str, tuple[str, ...]] = {}
    for name, headers in aliases.items():
        if name not in FIELD_BY_NAME:
            raise ConfigError(f"{path}: [aliases] {name!r} is not a case-list column (columns: {', '.join(FIELD_BY_NAME)})")
        headers = [headers] if isinstance(headers, str) else headers
        if not isinstance(headers, list) or not all(isinstance(h, str) and h.strip() for h in headers):
            raise ConfigError(f"{path}: [aliases] {name} must be a list of header texts, e.g. {name} = [\"My header\"]")
        out[name] = tuple(headers)
    display = raw.get("display", {})
    unknown = sorted(set(display) - {"dates"}) if isinstance(display, dict) else ["(not a table)"]
    if unknown:
        raise ConfigError(f"{path}: [display] unknown setting {unknown[0]!r} (known: dates)")
    dates = display.get("dates")
    if dates is not None and not isinstance(dates, str):
        raise ConfigError(f"{path}: [display] dates must be a text, e.g. dates = \"iso\"")
    return Config(path, out, dates)
