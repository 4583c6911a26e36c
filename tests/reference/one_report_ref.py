"""Pure-Python reference of the ONE report parser (csrc/report/one_report.c).

The executable form of the grammar in csrc/include/blockops/bo_report.h. It is written for
clarity, line by line, and the tests require the C parser to agree with it on every real file
and on generated ones: same title, keys and values (bit for bit, NaN for NaN), or an error of
the same kind at the same line, column and byte offset.

Nothing here imports blockops.
"""
from __future__ import annotations

import re

BLANKS = b" \t"
# sign, then digits with an optional fraction (or a fraction alone), then an optional exponent
NUMBER_RE = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
WORD_RE = re.compile(rb"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)

# error kinds, and the start of the C parser's message for each
KINDS = {
    "empty": "empty report",
    "blank": "report has only blank lines",
    "missing_colon": "missing ':'",
    "empty_key": "empty key",
    "control": "control character",
    "utf8": "key is not valid UTF-8",
    "missing_value": "missing value",
    "non_numeric": "non-numeric value",
}


class RefParseError(ValueError):
    def __init__(self, kind: str, line: int, column: int, byte_offset: int):
        super().__init__(f"{KINDS[kind]} at line {line}, column {column} (byte {byte_offset})")
        self.kind = kind
        self.line = line
        self.column = column
        self.byte_offset = byte_offset


def kind_of_message(message: str) -> str | None:
    """The error kind of a C parser message (None if it matches none)."""
    for kind, start in KINDS.items():
        if start in message:
            return kind
    return None


def parse_value(token: bytes) -> float | None:
    """The float of one value token, or None if it is not a number by the grammar."""
    if WORD_RE.fullmatch(token) or NUMBER_RE.fullmatch(token):
        return float(token.decode("ascii"))
    return None


def parse(data: bytes):
    """(title, keys, values) of one report, or raise RefParseError."""
    if data.strip(b" \t\r\n") == b"":
        raise RefParseError("empty" if not data else "blank", 1, 0, 0)
    title = None
    keys: list[str] = []
    values: list[float] = []
    offset = 0
    lines = data.split(b"\n")
    if lines[-1] == b"":  # a final newline ends the last line; it does not start a new one
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        start = offset
        offset += len(raw) + 1
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if number == 1:
            title = line.decode("utf-8", "replace")
            continue
        content = line.lstrip(BLANKS)
        ks = len(line) - len(content)  # column of the key
        if not content:
            continue
        colon = line.find(b":", ks)
        if colon < 0:
            raise RefParseError("missing_colon", number, ks, start + ks)
        key = line[ks:colon].rstrip(BLANKS)
        if not key:
            raise RefParseError("empty_key", number, colon, start + colon)
        for i, c in enumerate(key):
            if c < 0x20 or c == 0x7F:
                raise RefParseError("control", number, ks + i, start + ks + i)
        try:
            key_text = key.decode("utf-8", "strict")
        except UnicodeDecodeError as e:
            raise RefParseError("utf8", number, ks + e.start, start + ks + e.start) from None
        rest = line[colon + 1:]
        token = rest.strip(BLANKS)
        vs = colon + 1 + (len(rest) - len(rest.lstrip(BLANKS)))
        if not token:
            vs = len(line)  # C points past the trailing blanks, at the end of the line
            raise RefParseError("missing_value", number, vs, start + vs)
        value = parse_value(token)
        if value is None:
            raise RefParseError("non_numeric", number, vs, start + vs)
        keys.append(key_text)
        values.append(value)
    return title, keys, values
