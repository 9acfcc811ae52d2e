"""numlint as a flake8 plugin: `flake8 --select NUM` reports what `numlint check` reports.

flake8 decides what is shown: `--select`/`--extend-ignore`, its own per-file-ignores and excludes,
and `# noqa` comments. So the plugin runs every rule of numlint's default set on every file flake8
gives it; `[tool.numlint]` (selection, per-file-ignores, excludes, rule-paths) is not read.
"""

from __future__ import annotations

import ast
from typing import Iterator, List, Sequence, Tuple

from numlint import __version__
from numlint.checker import check_text
from numlint.rules import Rule, registry


class Numlint:
    name = "numlint"
    version = __version__

    def __init__(self, tree: ast.AST, lines: Sequence[str]) -> None:
        # flake8 runs a plugin once per file when it asks for `tree`; numlint parses the text itself.
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        # Errors are left out: flake8 reports syntax errors itself (E999), and a rule's crash is
        # a numlint bug that `numlint check` shows. `# noqa` comments are flake8's to read
        # (`--disable-noqa`, `# noqa: NUM1` covering NUM101, `#noqa` counting for nothing), so
        # numlint keeps the findings on their lines; a `# numlint: noqa` file comment still applies.
        try:
            findings, _errors = check_text("".join(self.lines), _default_rules(), line_noqa=False)
        except Exception as exc:  # numlint's own bug: one line for this file, never the whole run
            yield 1, 0, f"NUM000 numlint failed on this file ({type(exc).__name__}: {exc}); please report it", type(self)
            return
        for finding in sorted(findings, key=lambda f: (f.location, f.code)):
            row, column = finding.location.row, finding.location.column - 1
            yield row, column, f"{finding.code} {finding.message}", type(self)


def _default_rules() -> List[Rule]:
    return [rule for _, rule in sorted(registry().items()) if rule.default]
