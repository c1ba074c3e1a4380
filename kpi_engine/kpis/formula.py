"""A small grammar for KPI formulas, compiled to SQL with quoted identifiers.

    expr  := term (("+" | "-") term)*
    term  := unary (("*" | "/") unary)*
    unary := "-" unary | atom
    atom  := NUMBER | AGG "(" NAME ")" | NAME | "(" expr ")"
    AGG   := sum | count | min | max | users

A bare NAME means sum(NAME), so ``(revenue - spend) / clicks`` is the ratio of sums a marketer
expects.

Names are base columns (roles such as ``clicks``) or a dataset's own column names, which may
be written in double quotes (``sum("Approved_Conversion")``). The text of a formula never
reaches SQL: only the parsed tree is compiled, every column is quoted, and every division
is ``NULLIF``-guarded so that x/0 is NULL (n/a), never inf.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kpi_engine.errors import KpiLabError

AGGREGATES = ("sum", "count", "min", "max", "users")
UNIT = "unit"  # the role of the column that names a randomisation unit (a user)
MAX_FORMULA_LENGTH = 500

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | "(?P<quoted>(?:[^"]|"")+)"
      | (?P<op>[-+*/()])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Aggregate:
    func: str
    column: str


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class BinaryOp:
    op: str
    left: Node
    right: Node


Node = Number | Aggregate | Negate | BinaryOp


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            start = len(text) - len(text[pos:].lstrip())
            raise _error(text, start, f"unexpected character {text[start]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "quoted":
            kind, value = "name", value.replace('""', '"')
        tokens.append(_Token(kind, value, match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _error(text: str, pos: int, message: str) -> KpiLabError:
    return KpiLabError(f"formula {text!r}: {message} at position {pos + 1}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.i]

    def take(self, kind: str, text: str | None = None) -> _Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text != text):
            wanted = repr(text) if text else kind
            found = repr(token.text) if token.kind != "end" else "the end"
            raise _error(self.text, token.pos, f"expected {wanted}, found {found}")
        self.i += 1
        return token

    def at_op(self, *ops: str) -> bool:
        return self.current.kind == "op" and self.current.text in ops

    def expr(self) -> Node:
        node = self.term()
        while self.at_op("+", "-"):
            op = self.take("op").text
            node = BinaryOp(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at_op("*", "/"):
            op = self.take("op").text
            node = BinaryOp(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at_op("-"):
            self.take("op")
            return Negate(self.unary())
        return self.atom()

    def atom(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.i += 1
            return Number(float(token.text))
        if self.at_op("("):
            self.take("op", "(")
            node = self.expr()
            self.take("op", ")")
            return node
        if token.kind == "name":
            self.i += 1
            if not self.at_op("("):  # a bare column means its sum: revenue / clicks
                return Aggregate("sum", token.text)
            func = token.text.lower()
            if func not in AGGREGATES:
                raise _error(
                    self.text,
                    token.pos,
                    f"{token.text!r} is not an aggregate: use {', '.join(AGGREGATES)}"
                    f" (e.g. sum(clicks)), or the column's name alone for its sum",
                )
            self.take("op", "(")
            column = self.take("name").text
            self.take("op", ")")
            return Aggregate(func, column)
        found = repr(token.text) if token.kind != "end" else "the end"
        raise _error(self.text, token.pos, f"expected a number, sum(column) or '(', found {found}")


def parse(text: str) -> Node:
    """Parse a formula; a wrong one raises ``KpiLabError`` naming the position."""
    if not isinstance(text, str) or not text.strip():
        raise KpiLabError("formula is empty: write e.g. sum(revenue) / sum(spend)")
    if len(text) > MAX_FORMULA_LENGTH:
        raise KpiLabError(f"formula is longer than {MAX_FORMULA_LENGTH} characters")
    parser = _Parser(text)
    node = parser.expr()
    if parser.current.kind != "end":
        raise _error(text, parser.current.pos, f"unexpected {parser.current.text!r}")
    return node


def columns(node: Node) -> list[str]:
    """The columns a formula reads, in order of first use."""
    found: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Aggregate):
            for name in (n.column, UNIT) if n.func == "users" else (n.column,):
                if name not in found:
                    found.append(name)
        elif isinstance(n, Negate):
            walk(n.operand)
        elif isinstance(n, BinaryOp):
            walk(n.left)
            walk(n.right)

    walk(node)
    return found


def _aggregate(node: Aggregate, column_sql: Callable[[str], str]) -> str:
    """``count(unit)`` counts units (users), each once, however many rows each has;
    ``users(x)`` counts the units with a row where x is above 0 (users who converted)."""
    col = column_sql(node.column)
    if node.func == "users":
        unit = column_sql(UNIT)
        return f"COUNT(DISTINCT CASE WHEN {col} > 0 THEN {unit} END)"
    if node.func == "count" and node.column == UNIT:
        return f"COUNT(DISTINCT {col})"
    return f"{node.func.upper()}({col})"


def to_sql(node: Node, column_sql: Callable[[str], str]) -> str:
    """Compile to a DuckDB aggregate expression of type DOUBLE.

    ``column_sql`` maps a formula name to a quoted column expression (or raises).
    """
    if isinstance(node, Number):
        return f"CAST({node.value!r} AS DOUBLE)"  # a bare 1.0 is a DECIMAL on some engines
    if isinstance(node, Aggregate):
        return f"CAST({_aggregate(node, column_sql)} AS DOUBLE)"
    if isinstance(node, Negate):
        return f"(-{to_sql(node.operand, column_sql)})"
    left, right = to_sql(node.left, column_sql), to_sql(node.right, column_sql)
    if node.op == "/":
        return f"({left} / NULLIF({right}, 0))"
    return f"({left} {node.op} {right})"
