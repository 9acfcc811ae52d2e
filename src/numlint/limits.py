"""What numlint refuses to parse, and why: files too big, lines too long, nesting too deep.

Each limit is checked before libcst sees the text, in `checker.check_text` (so the command line,
the flake8 plugin and the language server all have it), and a refused file gets one line saying
which limit it passed. Measured figures and how to reproduce them: docs/reliability.md, "Limits".

Size. libcst's tree takes about 1.3 GB of memory per MB of dense code (a 5 MB file took 4.65 GB;
50 MB aborted at 14.7 GB) and checking takes tens of seconds per MB. MAX_CHARACTERS keeps one
file within about 1.5 GB; the largest file of the pinned corpus (7,166 files of ten ML packages)
has 448,421 characters. Lines: MAX_LINE; the corpus's longest line has 26,875 characters (test
data); longer ones are generated data or minified code, with nothing numlint could fix.

Nesting, measured here:

libcst's native parser recurses on the C stack: on an 8 MiB main-thread stack, about 1,200 nested
brackets, or a chain of about 6,000 attributes (`a.b.b.b...`), crash the whole process with a
segmentation fault — no exception, no output for any file. Trailer chains (attributes, calls,
subscripts: `a.b().c()[0]...`) also take time that grows with the square of their length (1,000
subscripts: about 10 s). So the checker measures both before it parses, with one regular-expression
pass that sees only strings, comments, brackets and `.name` runs, and refuses a text beyond:

- NESTING_LIMIT brackets deep (CPython itself refuses more than 200: "too many nested
  parentheses", so such a file is not Python that runs anyway);
- CHAIN_LIMIT links in one trailer chain (CPython compiles about 1,000 at its default recursion
  limit; real code has tens);
- OPERATOR_LIMIT binary operators in one expression at one bracket level (`1 + 1 + ...`): libcst
  nests them one node per operator, and its parse time grows faster than the square of their
  number (1,000 terms: 0.3 s; 2,000: 1.5 s; 3,000: 7.4 s; 5,000: 43 s). The scan counts every
  operator character between commas, `=`, `;` and line ends outside brackets, so `*args`, `1e-5`
  and `->` count too: real code has tens.

Measured figures and how to reproduce them: docs/reliability.md, "Limits".

The scan errs on the side of counting: a keyword before a parenthesis or an f-string's braces may
count as a link or a level, never the reverse for a real nesting. The limits are far above what
real code holds, so the approximation never refuses an ordinary file.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

MAX_CHARACTERS = 1_048_576  # one MiB of text
MAX_LINE = 100_000  # characters in one line
# Files not even read (runner.py), beyond any reason: memory for reading and decoding alone. Below
# these, a file that names no numeric library is skipped as usual (not refused), and one that
# does is refused by size in check_text.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024  # outputs and images make notebooks big
NESTING_LIMIT = 200
CHAIN_LIMIT = 500
OPERATOR_LIMIT = 1_000

# Beyond these, the parse runs on a thread with a big stack (recursion.py): a host may call us on a
# thread whose stack is much smaller than the main thread's (512 KiB on macOS).
DEEP_NESTING = 40
DEEP_CHAIN = 150

# The lookahead lets the regular-expression engine skip to the next character that can start a
# token (three times faster than trying each alternative at every position); strings are matched
# in runs ("unrolled loops": linear, no backtracking on an unterminated string).
_TOKEN = re.compile(
    r"""
    (?=[()\[\]{}.#'"+\-*/%@&|^~<>,;=\n])
    (?:(?P<open>[(\[{])
    |(?P<op>[+\-*/%@&|^~]|<<|>>)
    |(?P<end>[,;=\n])
    |(?P<close>[)\]}])
    |(?P<dots>\.\s*[^\W\d]\w*(?:\s*\.\s*[^\W\d]\w*)*)
    |(?P<string>'{3}[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'{3}
      |"{3}[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"{3}
      |'[^'\\\r\n]*(?:\\[\s\S][^'\\\r\n]*)*'
      |"[^"\\\r\n]*(?:\\[\s\S][^"\\\r\n]*)*")
    |(?P<comment>\#[^\r\n]*))
    """,
    re.VERBOSE,
)
_GAP = " \t\r\n\f\\"
_NON_WORD = re.compile(r"\W")


@dataclass(frozen=True)
class Measure:
    depth: int  # deepest bracket nesting
    depth_at: int  # offset of the first bracket beyond NESTING_LIMIT (else of the deepest)
    chain: int  # longest chain of attribute, call and subscript links
    chain_at: int  # offset of the first link beyond CHAIN_LIMIT (else of the longest chain's end)
    operators: int = 0  # most binary operators in one expression at one bracket level
    operators_at: int = 0  # offset of the first operator beyond OPERATOR_LIMIT


def measure(text: str) -> Measure:
    """The deepest bracket nesting and the longest trailer chain of `text` (Python source)."""
    depth = best_depth = 0
    depth_at = chain_at = 0
    best_chain = 0
    outer: List[int] = []  # chain length of each enclosing level, to resume after its bracket
    length = 0  # chain length at the current level
    chainable = False  # the previous token can be followed by a trailer (`)`, `]`, a string, `.name`)
    previous_end = 0
    operators = best_operators = operators_at = 0
    outer_operators: List[int] = []  # operator count of each enclosing level
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "op":
            operators += 1
            if operators > best_operators:
                best_operators = operators
                if best_operators == OPERATOR_LIMIT + 1:
                    operators_at = match.start()
            chainable = False
            previous_end = match.end()
            continue
        if kind == "end":
            if depth == 0 or match.group() != "\n":
                operators = 0
            continue  # whitespace to the chain: `(df\n.sum())` is still one chain
        if kind == "close":
            length = outer.pop() if outer else 0
            operators = outer_operators.pop() if outer_operators else 0
            depth -= depth > 0
            chainable = True
        elif kind == "open":
            start = match.start()
            gap = text[previous_end:start]
            bracket = match.group()
            if chainable and bracket != "{" and not gap.strip(_GAP):
                length += 1  # `f(x)(y)`, `a.b[0]`, `"x".join(...)`
            elif bracket != "{" and _ends_in_name(gap):
                length = 1  # a call or subscript of a new name: `f(`
            else:
                length = 0  # a new atom: `(a)`, `[1, 2]`, `{...}`
            if length > best_chain:
                best_chain = length
                if best_chain <= CHAIN_LIMIT + 1:
                    chain_at = start
            outer.append(length)
            length = 0
            outer_operators.append(operators)
            operators = 0
            depth += 1
            if depth > best_depth:
                best_depth = depth
                if best_depth <= NESTING_LIMIT + 1:
                    depth_at = start
            chainable = False
        elif kind == "dots":
            start = match.start()
            links = match.group().count(".")
            if chainable and not text[previous_end:start].strip(_GAP):
                length += links
            else:
                length = links
            if length > best_chain:
                best_chain = length
                if best_chain - links <= CHAIN_LIMIT:  # where this run of `.name` crossed the limit
                    chain_at = start + _offset_of_link(match.group(), min(links, CHAIN_LIMIT + 1 - (best_chain - links)))
            chainable = True
        elif kind == "string":
            length = 0
            chainable = True
        # a comment is part of the gap: `(df  # note` then `.sum())` is still one chain
        previous_end = match.end()
    return Measure(best_depth, depth_at, best_chain, chain_at, best_operators, operators_at)


def _offset_of_link(run: str, link: int) -> int:
    """The offset in a `.a.b.c` run of its link number `link` (1-based) dot."""
    at = -1
    for _ in range(max(link, 1)):
        at = run.index(".", at + 1)
    return at


def _ends_in_name(gap: str) -> bool:
    """Does the text before a bracket end in a name (not a keyword or a number)? Keywords are
    short: the last 20 characters say it."""
    tail = gap[-20:].rstrip()
    if not tail or not (tail[-1].isalnum() or tail[-1] == "_"):
        return False
    word = _NON_WORD.split(tail)[-1]
    return not word[0].isdigit() and not keyword.iskeyword(word)


def too_big(text: str) -> Optional[Tuple[str, int]]:
    """Why `text` is too big to check (one line for the user) and the offset it is about, or None."""
    if len(text) > MAX_CHARACTERS:
        return f"cannot check: the file holds {len(text):,} characters (limit {MAX_CHARACTERS:,})", 0
    if len(text) > MAX_LINE:  # else no line can be too long
        for line in _LINE.finditer(text):
            if line.end() - line.start() > MAX_LINE:
                return f"cannot check: a line of {line.end() - line.start():,} characters (limit {MAX_LINE:,})", line.start()
    return None


_LINE = re.compile(r"[^\r\n]+")


def refusal(found: Measure) -> Optional[Tuple[str, int]]:
    """Why libcst must not parse a text so measured (one line for the user) and the offset it is
    about, or None."""
    if found.depth > NESTING_LIMIT:
        return f"cannot check: nested {found.depth} deep (limit {NESTING_LIMIT})", found.depth_at
    if found.chain > CHAIN_LIMIT:
        return (f"cannot check: a chain of {found.chain} attributes, calls and subscripts (limit {CHAIN_LIMIT})",
                found.chain_at)
    if found.operators > OPERATOR_LIMIT:
        return (f"cannot check: {found.operators:,} operators in one expression (limit {OPERATOR_LIMIT:,})",
                found.operators_at)
    return None


def needs_a_deep_stack(found: Measure) -> bool:
    return found.depth > DEEP_NESTING or found.chain > DEEP_CHAIN
