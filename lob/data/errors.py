"""The error every data loader raises for a malformed file."""
from __future__ import annotations


class DataFormatError(ValueError):
    """A data file is malformed.  ``path`` and ``line`` (1-based, or ``None``
    when the problem is not one line) name the place; ``what`` says what is
    wrong."""

    def __init__(self, path, line: int | None, what: str):
        self.path = str(path)
        self.line = line
        self.what = what
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {what}")
