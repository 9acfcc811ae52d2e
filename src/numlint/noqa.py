"""`# noqa` comments: which findings they suppress, which of their codes suppress nothing (rule
NUM001, like ruff's RUF100), and adding them to the lines that have findings (`--add-noqa`).

The checker applies `# noqa` itself; when NUM001 runs, the check here asks it for every finding
(`line_noqa=False`), applies the comments the same way (`# noqa` anywhere on the line where the
finding starts, codes matched by name), and so knows which code of which comment was used.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from numlint import checker
from numlint.diagnostics import Edit, FileError, Finding, Fix, Position
from numlint.rules import Rule, builtin_rules_dir, registry
from numlint.source import LineIndex

# The same spelling the checker reads (checker._NOQA): `# noqa`, `#noqa:NUM101`, `# noqa: A1, B2`.
DIRECTIVE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
FILE_DIRECTIVE = re.compile(r"#\s*numlint\s*:\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_PREFIX = re.compile(r"[A-Z]+")


def check_text(text: str, rules: Sequence[Rule], line_noqa: bool = True,
               context: Optional[checker.ModuleContext] = None,
               reuse: Optional[checker.Reparser] = None) -> Tuple[List[Finding], List[FileError]]:
    """`checker.check_text`, and the findings of the rules it cannot run itself (NUM001)."""
    noqa_rules = [r for r in rules if r.checked_by == "noqa"]
    if not noqa_rules:
        return checker.check_text(text, rules, line_noqa, context, reuse)
    value_rules = [r for r in rules if r.checked_by is None]
    if "noqa" not in text.lower():  # nothing to judge: the usual check
        return checker.check_text(text, value_rules, line_noqa, context, reuse)
    findings, errors = checker.check_text(text, value_rules, False, context, reuse)
    if not line_noqa:
        return findings, errors
    lines = LineIndex(text)
    kept, used = suppress(findings, lines)
    if errors or _file_exempt(text):
        return kept, errors  # a file numlint could not check tells nothing about its comments
    active = {r.code for r in value_rules}
    known = _known_codes(rules)
    for rule in noqa_rules:
        kept.extend(unused_directives(text, lines, used, active, known, rule))
    kept.sort(key=lambda f: (f.location, f.code))
    return kept, errors


def suppress(findings: Iterable[Finding], lines: LineIndex) -> Tuple[List[Finding], Dict[int, Set[str]]]:
    """The findings no `# noqa` suppresses, and for each row the codes its comment suppressed."""
    kept: List[Finding] = []
    used: Dict[int, Set[str]] = {}
    for finding in findings:
        row = finding.noqa_row
        match = DIRECTIVE.search(lines.line(row)) if row <= lines.rows else None
        if match is None:
            kept.append(finding)
            continue
        codes = match.group("codes")
        if codes and finding.code not in {c.upper() for c in CODE.findall(codes)}:
            kept.append(finding)
            continue
        used.setdefault(row, set()).add(finding.code)
    return kept, used


def _file_exempt(text: str) -> bool:
    return any(not m.group("codes") for m in FILE_DIRECTIVE.finditer(text))


def _known_codes(rules: Sequence[Rule]) -> Set[str]:
    """Every rule numlint knows here: the built-in ones and those of the `rule-paths` in use."""
    builtin = str(builtin_rules_dir())
    folders = tuple(sorted({str(Path(r.path).parent) for r in rules} - {builtin}))
    return set(registry(folders)) | {r.code for r in rules}


# tokenize splits lines at `\n` only; LineIndex also at `\r`: one newline each keeps rows aligned.
_NEWLINES = re.compile(r"\r\n?")


def comment_spans(text: str) -> Optional[Dict[int, Tuple[int, int]]]:
    """Each row's comment: (start, end) columns, 0-based. None when the text does not tokenize."""
    spans: Dict[int, Tuple[int, int]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(_NEWLINES.sub("\n", text)).readline):
            if token.type == tokenize.COMMENT:
                spans[token.start[0]] = (token.start[1], token.end[1])
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError):
        return None
    return spans


@dataclass(frozen=True)
class _Code:
    code: str
    start: int  # columns in the line, 0-based
    end: int


def _codes_in(match: "re.Match[str]") -> List[_Code]:
    start = match.start("codes")
    return [_Code(m.group().upper(), start + m.start(), start + m.end()) for m in CODE.finditer(match.group("codes"))]


def unused_directives(text: str, lines: LineIndex, used: Mapping[int, Set[str]], active: Set[str],
                      known: Set[str], rule: Rule) -> List[Finding]:
    """A finding for each `# noqa: ...` comment with numlint codes that suppressed nothing."""
    ours = {_PREFIX.match(code).group() for code in known if _PREFIX.match(code)}
    spans = comment_spans(text)
    if spans is None:
        return []
    out = []
    for row, (start, end) in sorted(spans.items()):
        line = lines.line(row)
        match = DIRECTIVE.search(line)
        # The comment the checker reads is the first `# noqa` of the line; only a real comment
        # (not a string that looks like one) is judged and edited.
        if match is None or not match.group("codes") or not (start <= match.start() < end):
            continue
        codes = _codes_in(match)
        seen: Set[str] = set()
        reasons: Dict[str, List[str]] = {}
        drop: List[_Code] = []
        for item in codes:
            prefix = _PREFIX.match(item.code).group()
            if prefix not in ours:
                continue  # another linter's code
            if item.code in seen:
                reason = "duplicated"
            elif item.code not in known:
                reason = "unknown"
            elif item.code not in active:
                reason = "non-enabled"
            elif item.code not in used.get(row, ()):
                reason = "unused"
            else:
                seen.add(item.code)
                continue
            seen.add(item.code)
            reasons.setdefault(reason, []).append(item.code)
            drop.append(item)
        if not drop:
            continue
        detail = "; ".join(f"{why}: " + ", ".join(f"`{c}`" for c in found) for why, found in reasons.items())
        begin = lines.offset(row, match.start())
        location = lines.position(begin)
        end_location = lines.position(lines.offset(row, match.end()))
        fix = Fix(rule.fix_safety, rule.fix_title,
                  (_removal(lines, row, line, match, codes, drop),))
        out.append(Finding(
            code=rule.code, name=rule.name, message=f"unused `noqa` directive ({detail})",
            location=location, end_location=end_location, fix=fix,
        ))
    return out


def _removal(lines: LineIndex, row: int, line: str, match: "re.Match[str]", codes: List[_Code],
             drop: List[_Code]) -> Edit:
    """The edit that removes the dropped codes (the whole `# noqa` when nothing is left)."""
    dropped = {id(c) for c in drop}
    left = [c.code for c in codes if id(c) not in dropped]
    if left:
        first, last = codes[0], codes[-1]
        return _edit(lines, row, first.start, last.end, ", ".join(left))
    rest = line[match.end():]
    if rest.strip():  # `# noqa: NUM101 because ...`: the explanation stays a comment
        return _edit(lines, row, match.start(), match.end() + len(rest) - len(rest.lstrip()), "# ")
    before = line[:match.start()]
    start = len(before.rstrip()) if before.strip() else match.start()
    # `code  # note  # noqa: X` keeps `# note`; a line that is only the comment keeps its indentation
    return _edit(lines, row, start, len(line), "")


def _edit(lines: LineIndex, row: int, start: int, end: int, content: str) -> Edit:
    begin, finish = lines.offset(row, start), lines.offset(row, end)
    return Edit(begin, finish, content, lines.position(begin), lines.position(finish))


# -- --add-noqa --------------------------------------------------------------------------------


def add_directives(text: str, findings: Iterable[Finding]) -> Tuple[str, int, List[int]]:
    """`text` with `# noqa: CODE` on the row of each finding: merged into the row's `# noqa:`
    comment when it has one (its codes and spelling kept), else added at the end of the line.
    Returns the new text, the number of rows changed, and the rows that cannot hold a comment
    (a line that continues with a backslash or inside a string)."""
    lines = LineIndex(text)
    wanted: Dict[int, List[str]] = {}
    for finding in findings:
        codes = wanted.setdefault(finding.noqa_row, [])
        if finding.code not in codes:
            codes.append(finding.code)
    open_rows = _rows_that_end_a_line(text)
    edits: List[Tuple[int, int, str]] = []
    refused: List[int] = []
    for row in sorted(wanted):
        if row > lines.rows:
            continue
        line = lines.line(row)
        match = DIRECTIVE.search(line)
        if match is not None and match.group("codes"):
            present = {c.code for c in _codes_in(match)}
            new = [c for c in sorted(wanted[row]) if c not in present]
            if new:
                edits.append((lines.offset(row, match.end("codes")), lines.offset(row, match.end("codes")),
                              "".join(", " + c for c in new)))
            continue
        if match is not None:
            continue  # a bare `# noqa` suppresses everything already
        if open_rows is not None and row not in open_rows:
            refused.append(row)
            continue
        body = line.rstrip(" \t")
        comment = ("  " if body.strip() else "") + "# noqa: " + ", ".join(sorted(wanted[row]))
        edits.append((lines.offset(row, len(body)), lines.offset(row, len(line)), comment))
    out = text
    for start, end, content in sorted(edits, reverse=True):
        out = out[:start] + content + out[end:]
    return out, len(edits), refused


def _rows_that_end_a_line(text: str) -> Optional[Set[int]]:
    """Rows whose end is outside any string and not a backslash continuation: where a comment
    may go. None when the text does not tokenize (every row is then tried)."""
    rows: Set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(_NEWLINES.sub("\n", text)).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                rows.add(token.start[0])
            elif token.type == tokenize.ENDMARKER:
                rows.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError):
        return None
    return rows
