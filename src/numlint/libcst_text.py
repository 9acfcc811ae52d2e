"""The text libcst is given: Python that libcst (1.x) does not read as CPython does, rewritten so
that it does, with every position mapped back to the file's own columns.

Two cases, each a no-op for Python, found with `tokenize` only when a cheap text check says they
may be there:

- **Form feeds in indentation.** CPython's tokenizer resets the indentation column at a form feed,
  so `\\f    x` is indented by four, as is `  \\f    x`. libcst keeps such a form feed in a
  block's indentation and writes it again on every line of the block, drops it on other lines, or
  refuses nested blocks: its positions are off by one on those lines, and a fix written there
  corrupts the line. On each line that starts a statement (or holds only a comment), the
  indentation up to and including its last form feed is removed; how many characters each row
  lost is kept so that columns are mapped back.
- **A line holding only a backslash** where a statement starts (`\\` joins an empty line to the
  next one). libcst drops the line from its tree, so every later row is off by one and a fix lands
  on the wrong line. The backslash becomes a space: a blank line, the same rows and columns.

Nothing inside strings or brackets is touched.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, Tuple

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# A form feed in a line's leading whitespace, with something after it on the line.
_CANDIDATE = re.compile(r"(?:\A|[\r\n])[ \t]*\f[ \t\f]*[^ \t\f\r\n]")
_PREFIX = re.compile(r"[ \t\f]*\f")
# A line that is only whitespace and a backslash continuation.
_BACKSLASH_LINE = re.compile(r"[ \t\f]*\\(?:\r\n|\r|\n)")
_LONE_BACKSLASH = re.compile(r"(?:\A|[\r\n])[ \t\f]*\\(?:\r\n|\r|\n)")


def for_libcst(text: str) -> Tuple[str, Dict[int, int]]:
    """The text libcst should parse, and the columns removed per 1-based row (usually none)."""
    form_feeds = "\f" in text and _CANDIDATE.search(text) is not None
    backslashes = "\\" in text and _LONE_BACKSLASH.search(text) is not None
    if not form_feeds and not backslashes:
        return text, {}
    lines = _LINE.findall(text)
    shifts: Dict[int, int] = {}
    changed = False
    starts = _statement_rows(lines)
    if backslashes:
        for row in _lone_backslash_rows(lines, starts):
            line = lines[row - 1]
            at = line.index("\\")
            lines[row - 1] = line[:at] + " " + line[at + 1:]
            changed = True
    if form_feeds:
        for row in starts:
            prefix = _PREFIX.match(lines[row - 1])
            if prefix:
                lines[row - 1] = lines[row - 1][prefix.end():]
                shifts[row] = prefix.end()
                changed = True
    return ("".join(lines), shifts) if changed else (text, {})


def _lone_backslash_rows(lines, starts: set) -> list:
    """Rows holding only a backslash continuation, where the next row starts a statement: the
    backslash joins nothing to it (an empty line), which is what libcst cannot represent."""
    return [
        row for row, line in enumerate(lines, 1)
        if _BACKSLASH_LINE.match(line) and _next_code_row(lines, row, starts)
    ]


def _next_code_row(lines, row: int, starts: set) -> bool:
    """Is `row + 1` (after any further backslash-only rows) the start of a statement?"""
    following = row + 1
    while following <= len(lines) and _BACKSLASH_LINE.match(lines[following - 1]):
        following += 1
    return following in starts or following > len(lines)


def _statement_rows(lines) -> set:
    """Rows whose first token starts a logical line (a statement, or a comment-only line)."""
    # tokenize wants `\n` line ends; the rows stay the same.
    plain = io.StringIO("".join(line.rstrip("\r\n") + "\n" for line in lines))
    rows = set()
    at_start = True
    try:
        for token in tokenize.generate_tokens(plain.readline):
            if token.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if token.type == tokenize.NEWLINE:
                at_start = True
            elif at_start:
                rows.add(token.start[0])
                at_start = token.type == tokenize.COMMENT
    except (tokenize.TokenError, SyntaxError):
        return set()  # not Python: libcst reports the error on the text as it is
    return rows
