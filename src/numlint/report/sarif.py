"""SARIF 2.1.0, the format GitHub code scanning (github/codeql-action/upload-sarif) and IDE viewers read.

One run. `tool.driver.rules` lists the rules that have results in this run (the reporter is not
told which rules were selected), each with its explanation as help text. Findings are results of
level "warning": a numerical hazard breaks only on some inputs, so it is not a certain error, and
GitHub's default check threshold (errors) does not block a merge on it; gate on numlint's exit
code (or the `github` format) to block. Files numlint could not check are not results but
`invocations[0].toolExecutionNotifications` of level "error", which is where SARIF puts problems of
the tool rather than of the code. In a notebook, regions count rows in the cell, the message starts
with `cell N: ` and the location's properties hold `cell` (as ruff counts cells, from 1).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO, Tuple
from urllib.parse import quote

from numlint import __version__
from numlint.diagnostics import Edit, FileError, FileResult, Finding, Position
from numlint.report.paths import ci_path, where
from numlint.report.text import dump_json

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVEL = "warning"


def _information_uri() -> str:
    from numlint.report import docs_url

    return docs_url()  # the rule reference: this repository's docs/rules.md


def _artifact(path: str) -> dict:
    shown = ci_path(path)
    if Path(shown).is_absolute():  # outside the checkout: an absolute file URI, no base
        return {"uri": Path(shown).as_uri()}
    # Percent-encoded from the name's bytes, so a name that is not UTF-8 is still exact.
    return {"uri": quote(os.fsencode(shown), safe="/"), "uriBaseId": SRCROOT}


def _region(start: Position, end: Position) -> dict:
    # Both 1-based; our end column is exclusive, which is exactly SARIF's endColumn.
    return {"startLine": start.row, "startColumn": start.column, "endLine": end.row, "endColumn": end.column}


def _replacement(file: FileResult, edit: Edit) -> dict:
    replacement = {"deletedRegion": _region(where(file, edit.location)[1], where(file, edit.end_location)[1])}
    if edit.content:  # no insertedContent means a pure deletion
        replacement["insertedContent"] = {"text": edit.content}
    return replacement


def _rule_descriptor(code: str, finding: Finding, known) -> dict:
    from numlint.explain import explain, fix_label
    from numlint.report import rule_url

    descriptor = {
        "id": code,
        "name": finding.name,
        "shortDescription": {"text": finding.message},
        "helpUri": rule_url(code, finding.name),
        "defaultConfiguration": {"level": LEVEL},
    }
    rule = known.get(code)
    if rule is None:  # a rule from a project's own rule-paths: only what the finding says
        descriptor["properties"] = {"tags": ["numerics"]}
        return descriptor
    text = explain(rule)  # Markdown that also reads as plain text
    what = textwrap.dedent(str(rule.docs.get("what") or rule.message)).strip()
    descriptor.update(
        shortDescription={"text": rule.message},
        fullDescription={"text": what},
        help={"text": text, "markdown": text},
        properties={
            "tags": ["numerics", *sorted({e.framework for e in rule.examples})],
            "precision": "high",
            "problem.severity": LEVEL,
            "fix": fix_label(rule),
        },
    )
    return descriptor


def _cell_location(file: FileResult, start: Position, end: Position) -> Tuple[Optional[int], dict]:
    cell, first = where(file, start)
    location: dict = {"region": _region(first, where(file, end)[1])}
    if cell is not None:
        location["properties"] = {"cell": cell}
    return cell, location


def _result(file: FileResult, finding: Finding, index: int) -> dict:
    path = file.path
    message = finding.message if not finding.help else f"{finding.message}. {finding.help}"
    cell, location = _cell_location(file, finding.location, finding.end_location)
    if cell is not None:
        message = f"cell {cell}: {message}"
    physical = {"artifactLocation": _artifact(path), "region": location["region"]}
    result = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": LEVEL,
        "message": {"text": message},
        "locations": [{"physicalLocation": physical, **({"properties": location["properties"]} if cell else {})}],
    }
    if finding.fix is not None:
        result["fixes"] = [{
            "description": {"text": finding.fix.message},
            "artifactChanges": [{
                "artifactLocation": _artifact(path),
                "replacements": [_replacement(file, e) for e in finding.fix.edits],
            }],
            "properties": {"applicability": finding.fix.applicability},
        }]
    return result


def _notification(file: FileResult, error: FileError) -> dict:
    cell, at = where(file, error.location)
    location: dict = {
        "physicalLocation": {
            "artifactLocation": _artifact(file.path),
            "region": {"startLine": at.row, "startColumn": at.column},
        }
    }
    if cell is not None:
        location["properties"] = {"cell": cell}
    text = f"cell {cell}: {error.message}" if cell is not None else error.message
    return {"level": "error", "message": {"text": text}, "locations": [location]}


def document(results: Sequence[FileResult]) -> dict:
    from numlint.rules import registry

    known = registry()
    rules: List[dict] = []
    index: Dict[str, int] = {}
    out: List[dict] = []
    notifications: List[dict] = []
    for result in results:
        notifications.extend(_notification(result, e) for e in result.errors)
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            if finding.code not in index:
                index[finding.code] = len(rules)
                rules.append(_rule_descriptor(finding.code, finding, known))
            out.append(_result(result, finding, index[finding.code]))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "numlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": _information_uri(),
                "rules": rules,
            }},
            "invocations": [{
                # False only when numlint itself failed; a file it could not parse is the file's fault.
                "executionSuccessful": not any(e.code for r in results for e in r.errors),
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",  # our columns count characters, not UTF-16 units
            "results": out,
        }],
    }


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    # ASCII escapes keep the document intact whatever the encoding of the stream (a Windows console).
    dump_json(document(results), stream, indent=2)
    stream.write("\n")
