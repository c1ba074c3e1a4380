"""User text (file names, campaign names) shown inside Markdown must stay plain text."""

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    return _MARKDOWN.sub(r"\\\1", str(text))
