"""The one exception type a user can cause.

Its message says what is wrong and how to fix it; the CLI prints it on one line and exits
with status 2, the pages show it with ``st.error``. Anything else is a bug.

An error about one setting names that setting's field (``split``, ``daily_budget``): its
``detail`` is then the rest of the sentence ("has 3 shares for 2 variants..."), and each
front end puts its own name for the field in front of it: the command line its flag
(``--split``), a page its widget's label ("Intended split").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# a file path on the server: /two/or/more/parts (not the path of a URL: no ":" or word before)
_SERVER_PATH = re.compile(r"\bfile:/*[^\s'\"]+|(?<![\w:/.~-])(?:/[\w.@%+~=,-]+){2,}/?")
# how a field reads in a sentence when no front end names it
WORDS = {
    "kpis": "KPI",
    "start": "the start date",
    "end": "the end date",
    "caps": "the cap",
    "covariates": "the CUPED covariate",
    "cuped": "CUPED",
    "pre_days": "the days before exposure",
    "non_inferiority": "the non-inferiority margin",
    "segment_col": "the segment column",
    "variant_col": "the variant column",
    "unit_col": "the unit column",
}


def one_line(text: str) -> str:
    """User text quoted in a message (a header with a line break, a formula with a NUL)
    has its control characters shown as spaces."""
    return _CONTROL.sub(" ", str(text))


def without_paths(text: str) -> str:
    """``text`` with server file paths replaced by "(a file on the server)": messages shown
    to people who did not type the path (a viewer, a link holder) name none."""
    return _SERVER_PATH.sub("(a file on the server)", str(text))


class KpiLabError(Exception):
    """Bad input from a user: an unreadable file, an unknown dataset, a wrong formula..."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.detail = one_line(message)
        self.field = field
        super().__init__(self.describe())

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The message with the field named as a front end calls it (its flag, its label);
        without a name for it, the field in plain words ("the daily budget")."""
        if self.field is None:
            return self.detail
        name = (names or {}).get(self.field) or WORDS.get(
            self.field, "the " + self.field.replace("_", " ")
        )
        return f"{name} {self.detail}"
