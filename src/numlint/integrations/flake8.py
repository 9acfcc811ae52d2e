"""numlint as a flake8 plugin: `flake8 --select NUM` reports what `numlint check` reports.

flake8 decides what is shown: `--select`/`--extend-ignore`, its own per-file-ignores and excludes,
and `# noqa` comments. So the plugin runs every rule of numlint's default set on every file flake8
gives it; `[tool.numlint]` (selection, per-file-ignores, excludes, rule-paths) is not read.
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, List, Sequence, Tuple

from numlint import __version__
from numlint.checker import check_text
from numlint.rules import Rule, registry

# numlint's checker drops findings on lines with a `# noqa` comment, but under flake8 that is
# flake8's call: `--disable-noqa` must show them, `# noqa: NUM1` covers NUM101 and `#noqa` counts
# for nothing. So these comments are masked (same length: positions stay) before numlint reads
# the text. A `# numlint: noqa` file directive is numlint's own and still applies.
_INLINE_NOQA = re.compile(r"(#\s*)noqa", re.IGNORECASE)


class Numlint:
    name = "numlint"
    version = __version__

    def __init__(self, tree: ast.AST, lines: Sequence[str]) -> None:
        # flake8 runs a plugin once per file when it asks for `tree`; numlint parses the text itself.
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        text = _INLINE_NOQA.sub(lambda m: m.group(1) + "----", "".join(self.lines))
        # Errors are left out: flake8 reports syntax errors itself (E999), and a rule's crash is
        # a numlint bug that `numlint check` shows.
        try:
            findings, _errors = check_text(text, _default_rules())
        except Exception as exc:  # numlint's own bug: one line for this file, never the whole run
            yield 1, 0, f"NUM000 numlint failed on this file ({type(exc).__name__}: {exc}); please report it", type(self)
            return
        for finding in sorted(findings, key=lambda f: (f.location, f.code)):
            row, column = finding.location.row, finding.location.column - 1
            yield row, column, f"{finding.code} {finding.message}", type(self)


def _default_rules() -> List[Rule]:
    return [rule for _, rule in sorted(registry().items()) if rule.default]
