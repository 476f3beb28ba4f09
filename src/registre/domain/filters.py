"""The search grammar: ``metrics.accuracy > 0.9 and stage = 'Production'`` → an AST.

Grammar (case-insensitive keywords)::

    expr    := and_expr (OR and_expr)*
    and_expr:= atom (AND atom)*
    atom    := '(' expr ')' | compare
    compare := field op value | field [NOT] IN '(' value (',' value)* ')'
    field   := ident ('.' (ident | `quoted` | "quoted"))?
    op      := = | != | < | <= | > | >= | LIKE | ILIKE
    value   := 'string' | "string" | number

Fields: ``name``, ``version`` (``version_number``), ``stage`` (``current_stage``), ``alias``,
``run_id``, ``source``, ``status``, ``description``, ``created_at`` (``creation_timestamp``),
``updated_at`` (``last_updated_timestamp``), ``tags.<key>``, ``metrics.<key>``, ``params.<key>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from registre.domain.errors import InvalidInput

Value = str | float | int


@dataclass(frozen=True, slots=True)
class Field:
    kind: Literal["attr", "tag", "metric", "param"]
    name: str


@dataclass(frozen=True, slots=True)
class Compare:
    field: Field
    op: str  # = != < <= > >= LIKE ILIKE IN NOT IN
    value: Value | tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["AND", "OR"]
    items: tuple[Node, ...]


Node = Compare | BoolOp

_ATTR_ALIASES = {
    "name": "name",
    "version": "version",
    "version_number": "version",
    "stage": "stage",
    "current_stage": "stage",
    "alias": "alias",
    "aliases": "alias",
    "run_id": "run_id",
    "source": "source",
    "source_path": "source",
    "status": "status",
    "description": "description",
    "created_at": "created_at",
    "creation_timestamp": "created_at",
    "updated_at": "updated_at",
    "last_updated_timestamp": "updated_at",
    "created_by": "created_by",
    "user_id": "created_by",
}
_PREFIXES = {
    "tag": "tag",
    "tags": "tag",
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
}
_NUMERIC_ATTRS = {"version", "created_at", "updated_at"}
# Far beyond any filter a person writes, well inside what a database parses (SQLite refuses
# expressions nested 1,000 deep) and what a recursive parser can descend.
MAX_FILTER_TERMS = 100
MAX_FILTER_DEPTH = 32

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<backtick>`[^`]*`)
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),.])
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidInput(f"invalid filter near {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return tokens


def _unquote(token: str) -> str:
    quote = token[0]
    body = token[1:-1]
    if quote == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise InvalidInput(f"invalid filter {self.text!r}: unexpected end")
        self.pos += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() == word:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise InvalidInput(f"invalid filter {self.text!r}: expected {text!r}, got {tok.text!r}")

    def parse(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise InvalidInput(f"invalid filter {self.text!r}: unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def expr(self) -> Node:
        items = [self.and_expr()]
        while self.keyword("OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def and_expr(self) -> Node:
        items = [self.atom()]
        while self.keyword("AND"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def atom(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise InvalidInput(
                    f"invalid filter: parentheses nested more than {MAX_FILTER_DEPTH} deep"
                )
            node = self.expr()
            self.expect(")")
            self.depth -= 1
            return node
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise InvalidInput(f"invalid filter: more than {MAX_FILTER_TERMS} comparisons")
        return self.compare()

    def field(self) -> Field:
        tok = self.take()
        if tok.kind == "backtick":
            tok = _Tok("word", tok.text[1:-1])
        if tok.kind != "word":
            raise InvalidInput(f"invalid filter {self.text!r}: expected a field, got {tok.text!r}")
        head = tok.text.lower()
        nxt = self.peek()
        if nxt is not None and nxt.text == ".":
            self.take()
            if head not in _PREFIXES:
                raise InvalidInput(f"invalid filter: unknown field prefix {tok.text!r}")
            key_tok = self.take()
            if key_tok.kind in ("string", "backtick"):
                key = key_tok.text[1:-1]
            elif key_tok.kind in ("word", "number"):
                key = key_tok.text
                # Dotted keys such as tags.mlflow.source.type
                while (p := self.peek()) is not None and p.text == ".":
                    self.take()
                    key += "." + self.take().text
            else:
                raise InvalidInput(f"invalid filter: bad key after {tok.text}.")
            return Field(_PREFIXES[head], key)  # type: ignore[arg-type]
        if head not in _ATTR_ALIASES:
            valid = ", ".join(sorted(set(_ATTR_ALIASES.values())))
            raise InvalidInput(
                f"invalid filter: unknown field {tok.text!r} "
                f"(use {valid}, tags.<key>, metrics.<key> or params.<key>)"
            )
        return Field("attr", _ATTR_ALIASES[head])

    def value(self) -> Value:
        tok = self.take()
        if tok.kind == "string":
            return _unquote(tok.text)
        if tok.kind == "number":
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        raise InvalidInput(f"invalid filter {self.text!r}: expected a value, got {tok.text!r}")

    def compare(self) -> Compare:
        fld = self.field()
        negate = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect("(")
            values = [self.value()]
            while (p := self.peek()) is not None and p.text == ",":
                self.take()
                values.append(self.value())
            self.expect(")")
            return _checked(Compare(fld, "NOT IN" if negate else "IN", tuple(values)))
        if negate:
            raise InvalidInput(f"invalid filter {self.text!r}: NOT must be followed by IN")
        tok = self.take()
        if tok.kind == "op":
            op = {"==": "=", "<>": "!="}.get(tok.text, tok.text)
        elif tok.kind == "word" and tok.text.upper() in ("LIKE", "ILIKE"):
            op = tok.text.upper()
        else:
            raise InvalidInput(
                f"invalid filter {self.text!r}: expected an operator, got {tok.text!r}"
            )
        return _checked(Compare(fld, op, self.value()))


def _checked(cmp: Compare) -> Compare:
    numeric = cmp.field.kind == "metric" or (
        cmp.field.kind == "attr" and cmp.field.name in _NUMERIC_ATTRS
    )
    values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
    if numeric:
        if cmp.op in ("LIKE", "ILIKE"):
            raise InvalidInput(f"invalid filter: {cmp.op} does not apply to {cmp.field.name}")
        for v in values:
            if isinstance(v, str) and not _is_number(v):
                raise InvalidInput(f"invalid filter: {cmp.field.name} compares with numbers")
    elif cmp.op in ("<", "<=", ">", ">=") and cmp.field.kind != "attr":
        raise InvalidInput(f"invalid filter: {cmp.op} does not apply to {cmp.field.kind}s")
    return cmp


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_filter(text: str | None) -> Node | None:
    """Parse a filter string; ``None`` or blank means no filter."""
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


@dataclass(frozen=True, slots=True)
class OrderBy:
    field: Field
    descending: bool


def parse_order_by(clauses: list[str] | str | None) -> list[OrderBy]:
    """``["metrics.accuracy DESC", "version"]`` → OrderBy list."""
    if clauses is None:
        return []
    if isinstance(clauses, str):
        clauses = [c for c in clauses.split(",") if c.strip()]
    result: list[OrderBy] = []
    for clause in clauses:
        words = clause.strip().rsplit(None, 1)
        descending = False
        if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
            descending = words[1].upper() == "DESC"
            target = words[0]
        else:
            target = clause.strip()
        parser = _Parser(target)
        fld = parser.field()
        if parser.peek() is not None:
            raise InvalidInput(f"invalid order_by clause {clause!r}")
        result.append(OrderBy(fld, descending))
    return result
