"""The saved holiday calendar (acsxl.io.calendar_cache): written once, then used in place of the
holidays package; a damaged, foreign or unwritable copy never changes an answer or stops a run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from acsxl.io import calendar_cache
from acsxl.rules import calendar


@pytest.fixture
def fresh_calendar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No year known yet, and the cache in a folder of this test's own."""
    monkeypatch.setenv(calendar_cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(calendar, "_known", {})
    yield tmp_path / "cache"


def _package_calendar() -> tuple[date, ...]:
    import holidays

    return tuple(sorted(d for d in holidays.US(subdiv="DC", years=calendar.YEARS) if d.year in calendar.YEARS))


def test_first_run_saves_the_calendar_and_the_next_uses_it_without_the_holidays_package(
        fresh_calendar: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calendar_cache.load_calendar(2026)
    saved = calendar_cache.cache_file()
    assert saved is not None and saved.parent == fresh_calendar and saved.is_file()
    content = json.loads(saved.read_text())
    assert content["source"] == calendar.SOURCE and content["years"] == [1990, 2100]
    assert "2021-12-31" in content["holidays"]["2021"]  # New Year's Day 2022, observed on the Friday before

    monkeypatch.setattr(calendar, "_known", {})
    monkeypatch.setattr(calendar, "_worked_out", lambda year: pytest.fail(f"worked out {year} again"))
    calendar_cache.load_calendar(2026)
    loaded, next_business_day = calendar.dc_holidays(), calendar.add_business_days(date(2026, 11, 25), 1)
    assert next_business_day == date(2026, 11, 27)  # Thanksgiving skipped
    monkeypatch.undo()  # the package again, for the comparison
    assert loaded == _package_calendar()


@pytest.mark.parametrize("damage", ["not json", '{"source": "holidays.US()", "years": [1990, 2100], "holidays": {}}',
                                    '{"source": "holidays.US(subdiv=\\"DC\\")", "years": [1990, 2100], "holidays": {"2026": ["11/26/2026"]}}',
                                    '{"source": "holidays.US(subdiv=\\"DC\\")", "years": [1990, 2100]}', "[]"])
def test_a_damaged_or_foreign_copy_is_worked_out_again_and_replaced(fresh_calendar: Path, damage: str) -> None:
    path = calendar_cache.cache_file()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_text(damage)
    calendar_cache.load_calendar(2026)
    assert calendar.dc_holidays() == _package_calendar()
    assert json.loads(path.read_text())["holidays"]["2026"][-1] == "2026-12-25"


def test_a_folder_that_cannot_be_written_leaves_the_run_as_without_a_cache(fresh_calendar: Path) -> None:
    fresh_calendar.write_text("a file where the folder would be")
    calendar_cache.load_calendar(2026)
    assert fresh_calendar.read_text() == "a file where the folder would be"
    assert calendar.dc_holidays(2026, 2026) == tuple(d for d in _package_calendar() if d.year == 2026)


def test_an_empty_cache_setting_turns_the_cache_off(fresh_calendar: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(calendar_cache.CACHE_ENV, "")
    assert calendar_cache.cache_folder() is None and calendar_cache.cache_file() is None
    calendar_cache.load_calendar(2026)
    assert set(calendar._known) == {2026} and not fresh_calendar.exists()  # only the year asked for, worked out ahead


def test_without_a_setting_the_cache_is_the_users_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(calendar_cache.CACHE_ENV)
    import platformdirs

    assert calendar_cache.cache_folder() == Path(platformdirs.user_cache_dir("acsxl", appauthor=False))


def test_saved_years_never_replace_years_already_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "_known", {2026: frozenset({date(2026, 1, 1)})})
    calendar.use({2026: [date(2026, 7, 4)], 2027: [date(2027, 1, 1)], 1800: [date(1800, 1, 1)]})
    assert calendar._known == {2026: frozenset({date(2026, 1, 1)}), 2027: frozenset({date(2027, 1, 1)})}
