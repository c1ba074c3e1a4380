"""The one exception type a user can cause.

Its message says what is wrong and how to fix it; the CLI prints it on one line and exits
with status 2, the pages show it with ``st.error``. Anything else is a bug.
"""

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class KpiLabError(Exception):
    """Bad input from a user: an unreadable file, an unknown dataset, a wrong formula...

    The message is kept on one line: user text quoted in it (a header with a line break,
    a formula with a NUL) has its control characters shown as spaces."""

    def __init__(self, message: str) -> None:
        super().__init__(_CONTROL.sub(" ", str(message)))
