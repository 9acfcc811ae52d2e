"""JUnit XML, for CI systems that show test reports (GitLab `reports: junit`, Jenkins, Azure).

One testsuite "numlint": a failing testcase per finding, an erroring testcase per file numlint
could not check, and, when there is neither, one passing testcase, so a clean run shows as green
rather than as "no tests". In a notebook, places read `cell N:row:col` and `line` is the row in
the cell.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Sequence, TextIO

from numlint.diagnostics import FileResult
from numlint.report.paths import ci_path, place, where

# Characters XML 1.0 forbids even as references; ElementTree would write them and break the file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _testcase(suite: ET.Element, classname: str, name: str, **attrs) -> ET.Element:
    return ET.SubElement(
        suite, "testcase", classname=_clean(classname), name=_clean(name),
        **{k: _clean(str(v)) for k, v in attrs.items()},
    )


def tree(results: Sequence[FileResult]) -> ET.Element:
    suite = ET.Element("testsuite", name="numlint")
    failures = errors = 0
    for result in results:
        path = ci_path(result.path)
        for error in result.errors:
            errors += 1
            at = place(result, error.location, path)[len(path) + 1:]  # row:col, or cell N:row:col
            row = where(result, error.location)[1].row
            case = _testcase(suite, path, f"numlint error at {at}", file=path, line=row)
            node = ET.SubElement(case, "error", message=_clean(error.message), type=error.code or "file-error")
            node.text = _clean(f"{path}:{at}: error: {error.message}")
        for finding in sorted(result.findings, key=lambda f: (f.location, f.code)):
            failures += 1
            at = place(result, finding.location, path)[len(path) + 1:]
            row = where(result, finding.location)[1].row
            case = _testcase(
                suite, path, f"{finding.code} ({finding.name}) at {at}", file=path, line=row,
            )
            node = ET.SubElement(case, "failure", message=_clean(finding.message), type=finding.code)
            body = f"{path}:{at}: {finding.code} {finding.message}"
            if finding.fix is not None:
                body += f"\nfix ({finding.fix.applicability}): {finding.fix.message}"
            elif finding.help:
                body += f"\nhelp: {finding.help}"
            node.text = _clean(body)
    if not failures and not errors:
        _testcase(suite, "numlint", "no numerical hazards found")
    counts = {"tests": str(len(suite)), "failures": str(failures), "errors": str(errors), "skipped": "0"}
    suite.attrib.update(counts)
    root = ET.Element("testsuites", name="numlint", tests=counts["tests"], failures=counts["failures"],
                      errors=counts["errors"])
    root.append(suite)
    ET.indent(root)
    return root


def write(results: Sequence[FileResult], stream: TextIO, options) -> None:
    # us-ascii turns every other character into a reference: valid whatever the stream's encoding.
    body = ET.tostring(tree(results), encoding="us-ascii", xml_declaration=False).decode("ascii")
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n")
