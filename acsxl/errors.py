"""One exception family. Every error acsxl raises on purpose is an ``AcsxlError`` whose message is one
line naming the file (and row, where there is one), the reason and what to do; the command line, the
button and the worksheet functions show that line as it is, never a traceback.

The OOXML toolkit (``acsxl.xlsx``) knows nothing of acsxl and raises its own ``PackageError``; the
product turns it into one of these where it meets it."""

from __future__ import annotations


class AcsxlError(Exception):
    """Base of every error acsxl reports to the user; the message is one line."""


class UnreadableInput(AcsxlError):
    """The file cannot be read as a case list (skipped and reported; the run goes on)."""


class OutputError(AcsxlError):
    """The output cannot be written."""


class OutputBusy(OutputError):
    """Another run holds the output's lock."""


class NotKept(OutputError):
    """What was typed in the Portfolio a run would replace cannot be carried over (it cannot be read, or
    it was saved or opened meanwhile): the workbook is left as it is."""


class NotRefreshed(AcsxlError):
    """A client workbook was left as it was instead of being refreshed in place."""


class CannotRefresh(AcsxlError):
    """The Refresh portfolio button cannot rebuild the sheets (said in the user's message box)."""


class BadCall(AcsxlError):
    """A worksheet function call cannot be answered as a whole (ranges of different sizes, a bad as-of date)."""


class Terminated(BaseException):
    """SIGTERM (a scheduler or a time limit stopping the run), raised where the run is, like Ctrl+C: the
    temporary file and the output lock are cleaned up on the way out, and an output being replaced
    stays as it was. Not an Exception, so no handler meant for a bad file swallows it."""
