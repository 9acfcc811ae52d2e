"""Form feeds in indentation, which libcst does not read as Python does.

CPython's tokenizer resets the indentation column at a form feed, so `\\f    x` is indented by
four, as is `  \\f    x`. libcst (1.x) keeps such a form feed in a block's indentation and writes
it again on every line of the block, drops it on other lines, or refuses nested blocks: either way
its positions are off by one on those lines, and a fix written there corrupts the line.

So libcst is given a copy of the text in which, on each line that starts a statement (or holds
only a comment), the indentation up to and including its last form feed is removed. That changes
nothing for Python, and nothing inside strings or brackets is touched; how many characters each
row lost is kept so that positions are mapped back to the file's own columns.
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


def for_libcst(text: str) -> Tuple[str, Dict[int, int]]:
    """The text libcst should parse, and the columns removed per 1-based row (usually none)."""
    if "\f" not in text or not _CANDIDATE.search(text):
        return text, {}
    lines = _LINE.findall(text)
    shifts: Dict[int, int] = {}
    for row in _statement_rows(lines):
        prefix = _PREFIX.match(lines[row - 1])
        if prefix:
            lines[row - 1] = lines[row - 1][prefix.end():]
            shifts[row] = prefix.end()
    return ("".join(lines), shifts) if shifts else (text, {})


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
