"""Text from files numlint did not write — file names, source lines, messages of a project's own
rules — made safe for each kind of output.

A file name may hold a newline (`a.py\nb.py:1:1: NUM101 forged`), an escape sequence that
re-colours or clears the terminal, a right-to-left override that reorders a line as displayed, or
bytes that are not UTF-8 (kept by Python as surrogate escapes, which no UTF-8 stream can write).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls but tab, DEL, C1 controls (0x9b is a one-byte CSI to some terminals), the bidi
# embeddings/overrides/isolates, and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(match: "re.Match[str]") -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that did not decode: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` for a terminal or a line-oriented format: every control character, bidi control and
    undecodable byte written as a visible escape (`\\n`, `\\x1b`, `\\xff`), so one finding is one
    line and nothing reaches the terminal raw. Tabs are kept."""
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` as text any UTF-8 consumer accepts: each undecodable byte (a surrogate escape), and
    any other lone surrogate, becomes U+FFFD. For JSON documents, whose strings must be Unicode."""
    return _SURROGATE.sub("\ufffd", text)


def valid_document(value: Any) -> Any:
    """Every string of a JSON-able document (keys too) through `valid_unicode`."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, list):
        return [valid_document(v) for v in value]
    if isinstance(value, dict):
        return {valid_unicode(k) if isinstance(k, str) else k: valid_document(v) for k, v in value.items()}
    return value


def dump_json(document: Any, stream, **options) -> None:
    """`json.dump` of a document that may hold file names that are not UTF-8."""
    json.dump(valid_document(document), stream, **options)
