"""The one exception type a user can cause.

Its message says what is wrong and how to fix it; the CLI prints it on one line and exits
with status 2, the pages show it with ``st.error``. Anything else is a bug.
"""


class KpiLabError(Exception):
    """Bad input from a user: an unreadable file, an unknown dataset, a wrong formula..."""
