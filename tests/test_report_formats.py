"""The CI output formats (github, sarif, gitlab, junit), produced by a real `numlint` process.

SARIF is validated against the official OASIS SARIF 2.1.0 JSON schema (errata 01), vendored in
tests/data/sarif-schema-2.1.0.json, and the validation is shown to reject broken documents.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from numlint.diagnostics import Edit, FileError, FileResult, Finding, Fix, Position
from numlint.explain import explain
from numlint.report import FORMATS, rule_url
from numlint.report import github as github_format
from numlint.report import junit as junit_format
from numlint.rules import registry

from samples import FIXED, HAZARDS  # noqa: E402
BROKEN = "import torch\ndef f(:\n    return torch.log(torch.sum(torch.exp(x)))\n"
MSG101 = "`log(sum(exp(x)))` overflows to inf once any x > 88.7 (float32) and is -inf when every x < -104"
MSG102 = (
    "`log(softmax(x))` is -inf once a probability underflows (float32: logit gap > 104), "
    "and its gradient is lost well before"
)
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def numlint(*args, cwd):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "numlint", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
    )


def output(project, fmt, *paths, code=1):
    result = numlint("check", *(paths or ("pkg",)), "--output-format", fmt, cwd=project)
    assert result.returncode == code, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_formats_are_registered():
    assert {"github", "sarif", "gitlab", "junit"} <= set(FORMATS)


# --- github -------------------------------------------------------------------------------------


def test_github_one_workflow_command_per_finding(project):
    (project / "pkg" / "broken.py").write_text(BROKEN)
    assert output(project, "github").splitlines() == [
        "::error file=pkg/broken.py,line=2,col=7,title=numlint error::cannot parse: invalid syntax",
        f"::error file=pkg/model.py,line=6,col=11,endLine=6,endColumn=52,title=NUM101 (log-sum-exp)::{MSG101}",
        f"::error file=pkg/model.py,line=8,col=12,endLine=8,endColumn=28,title=NUM102 (log-softmax)::{MSG102}",
    ]


def test_github_escapes_properties(tmp_path):
    # `,` and `:` would end a property value; `%` would start an escape.
    (tmp_path / "a,b:c%d.py").write_text(HAZARDS)
    lines = output(tmp_path, "github", "a,b:c%d.py").splitlines()
    assert lines[0].startswith("::error file=a%2Cb%3Ac%25d.py,line=6,col=11,")
    assert all(line.count("::") == 2 for line in lines)


def test_github_escape_rules():
    assert github_format.escape_data("100% a,b:c\r\nd") == "100%25 a,b:c%0D%0Ad"
    assert github_format.escape_property("100% a,b:c\r\nd") == "100%25 a%2Cb%3Ac%0D%0Ad"


# --- sarif --------------------------------------------------------------------------------------


def validate(document):
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator_class(SCHEMA).validate(document)


def test_vendored_schema_is_the_official_one():
    assert SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert jsonschema.validators.validator_for(SCHEMA) is jsonschema.Draft4Validator
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def apply_replacements(text, changes):
    """Apply SARIF replacements (1-based line/column regions) to `text`, as a SARIF viewer would."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def offset(line, column):
        return starts[line - 1] + column - 1

    edits = []
    for change in changes:
        for replacement in change["replacements"]:
            region = replacement["deletedRegion"]
            edits.append((
                offset(region["startLine"], region["startColumn"]),
                offset(region["endLine"], region["endColumn"]),
                replacement.get("insertedContent", {}).get("text", ""),
            ))
    for start, end, content in sorted(edits, reverse=True):
        text = text[:start] + content + text[end:]
    return text


def test_sarif_is_valid_and_complete(project):
    document = json.loads(output(project, "sarif"))
    validate(document)
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "numlint"
    assert driver["informationUri"].startswith(("https://", "file://")) and driver["informationUri"].endswith("rules.md")
    from numlint import __version__
    assert driver["version"] == __version__

    rules = registry()
    assert [r["id"] for r in driver["rules"]] == ["NUM101", "NUM102"]  # the rules with results
    for descriptor in driver["rules"]:
        rule = rules[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"] == {"text": rule.message}
        assert descriptor["help"] == {"text": explain(rule), "markdown": explain(rule)}
        assert descriptor["fullDescription"]["text"]
        assert descriptor["helpUri"] == rule_url(rule.code, rule.name)
        assert "numerics" in descriptor["properties"]["tags"]

    results = run["results"]
    assert [(r["ruleId"], r["level"], r["message"]["text"]) for r in results] == [
        ("NUM101", "warning", MSG101), ("NUM102", "warning", MSG102),
    ]
    for result in results:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"] == {"uri": "pkg/model.py", "uriBaseId": "%SRCROOT%"}
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 6, "startColumn": 11, "endLine": 6, "endColumn": 52,
    }
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]

    # The fixes, applied as a SARIF viewer applies them, give exactly what `--fix` writes.
    assert results[0]["fixes"][0]["description"]["text"] == "Replace with `torch.logsumexp(x, dim=1)`"
    changes = [change for r in results for change in r["fixes"][0]["artifactChanges"]]
    assert apply_replacements(HAZARDS, changes) == FIXED


def test_sarif_file_errors_are_notifications(project):
    (project / "pkg" / "broken.py").write_text(BROKEN)
    document = json.loads(output(project, "sarif"))
    validate(document)
    (invocation,) = document["runs"][0]["invocations"]
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"] == "cannot parse: invalid syntax"
    assert notification["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "pkg/broken.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2, "startColumn": 7},
    }
    assert len(document["runs"][0]["results"]) == 2


def test_sarif_clean_run(project):
    document = json.loads(output(project, "sarif", "pkg/clean.py", code=0))
    validate(document)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_uri_is_percent_encoded(tmp_path):
    (tmp_path / "my pkg").mkdir()
    (tmp_path / "my pkg" / "módulo.py").write_text(HAZARDS, encoding="utf-8")
    document = json.loads(output(tmp_path, "sarif", "my pkg"))
    validate(document)
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20pkg/m%C3%B3dulo.py"
    assert unquote(uri) == "my pkg/módulo.py"


@pytest.mark.parametrize("break_it", [
    pytest.param(lambda d: d.pop("version"), id="missing-version"),
    pytest.param(lambda d: d["runs"][0]["results"][0].update(level="fatal"), id="bad-level"),
    pytest.param(lambda d: d["runs"][0]["results"][0].update(ruleID="NUM101"), id="unknown-property"),
    pytest.param(
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(startLine=0),
        id="line-0",
    ),
    pytest.param(lambda d: d["runs"][0]["tool"]["driver"].pop("name"), id="driver-without-name"),
    pytest.param(lambda d: d["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0].update(replacements=[]),
                 id="fix-without-replacements"),
])
def test_sarif_validation_rejects_broken_documents(project, break_it):
    document = json.loads(output(project, "sarif"))
    validate(document)
    broken = copy.deepcopy(document)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


# --- gitlab -------------------------------------------------------------------------------------


def test_gitlab_code_quality(project):
    records = json.loads(output(project, "gitlab"))
    assert [{k: v for k, v in r.items() if k != "fingerprint"} for r in records] == [
        {"description": f"NUM101 {MSG101}", "check_name": "NUM101", "severity": "major",
         "location": {"path": "pkg/model.py", "lines": {"begin": 6, "end": 6}}},
        {"description": f"NUM102 {MSG102}", "check_name": "NUM102", "severity": "major",
         "location": {"path": "pkg/model.py", "lines": {"begin": 8, "end": 8}}},
    ]
    fingerprints = [r["fingerprint"] for r in records]
    assert len(set(fingerprints)) == 2 and all(fingerprints)
    assert [r["fingerprint"] for r in json.loads(output(project, "gitlab"))] == fingerprints  # stable


def test_gitlab_fingerprints_follow_code_not_rows(project):
    before = [r["fingerprint"] for r in json.loads(output(project, "gitlab"))]
    # Lines added above: rows change, fingerprints do not.
    (project / "pkg" / "model.py").write_text("# a comment\n# another\n" + HAZARDS)
    shifted = json.loads(output(project, "gitlab"))
    assert [r["location"]["lines"]["begin"] for r in shifted] == [8, 10]
    assert [r["fingerprint"] for r in shifted] == before
    # The hazardous line itself changes: a new finding.
    (project / "pkg" / "model.py").write_text(HAZARDS.replace("torch.exp(x), dim=1", "torch.exp(x), dim=0"))
    changed = [r["fingerprint"] for r in json.loads(output(project, "gitlab"))]
    assert changed[0] != before[0] and changed[1] == before[1]


def test_gitlab_identical_findings_get_distinct_fingerprints(tmp_path):
    line = "    return torch.log(torch.sum(torch.exp(x), dim=1))\n"
    (tmp_path / "twice.py").write_text(f"import torch\n\n\ndef f(x):\n{line}\n\ndef g(x):\n{line}")
    records = json.loads(output(tmp_path, "gitlab", "twice.py"))
    assert [r["location"]["lines"]["begin"] for r in records] == [5, 9]
    assert len({r["fingerprint"] for r in records}) == 2


def test_gitlab_file_errors_are_reported(project):
    (project / "pkg" / "broken.py").write_text(BROKEN)
    records = json.loads(output(project, "gitlab"))
    error = records[0]
    assert error["check_name"] == "numlint-error"
    assert error["location"] == {"path": "pkg/broken.py", "lines": {"begin": 2, "end": 2}}
    assert len({r["fingerprint"] for r in records}) == 3


# --- junit --------------------------------------------------------------------------------------


def test_junit_failures(project):
    (project / "pkg" / "broken.py").write_text(BROKEN)
    text = output(project, "junit")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "1")
    (suite,) = root
    assert (suite.tag, suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        "testsuite", "numlint", "3", "2", "1",
    )
    cases = list(suite)
    assert [(c.get("classname"), c.get("name"), c.get("line")) for c in cases] == [
        ("pkg/broken.py", "numlint error at 2:7", "2"),
        ("pkg/model.py", "NUM101 (log-sum-exp) at 6:11", "6"),
        ("pkg/model.py", "NUM102 (log-softmax) at 8:12", "8"),
    ]
    (error,) = cases[0]
    assert (error.tag, error.get("message")) == ("error", "cannot parse: invalid syntax")
    (failure,) = cases[1]
    assert (failure.tag, failure.get("type"), failure.get("message")) == ("failure", "NUM101", MSG101)
    assert failure.text == f"pkg/model.py:6:11: NUM101 {MSG101}\nfix (safe): Replace with `torch.logsumexp(x, dim=1)`"


def test_junit_clean_run_is_one_passing_testcase(project):
    root = ET.fromstring(output(project, "junit", "pkg/clean.py", code=0).encode("utf-8"))
    (suite,) = root
    (case,) = suite
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")
    assert case.tag == "testcase" and len(case) == 0


def test_junit_escapes_markup_and_invalid_characters(tmp_path):
    finding = Finding(
        code="NUM101", name="log-sum-exp", message='a < b & "c" > d \x00\x1b é',
        location=Position(1, 1), end_location=Position(1, 2),
        fix=Fix("safe", "Replace with `]]> <x/>`", (Edit(0, 1, "y", Position(1, 1), Position(1, 2)),)),
    )
    results = [FileResult("dir/ü <&>.py", (finding,), (FileError("bad\x0cthing"),), source="x\n")]
    path = tmp_path / "report.xml"
    with open(path, "w", encoding="ascii") as stream:  # the output is ASCII whatever the stream
        junit_format.write(results, stream, None)
    root = ET.parse(path).getroot()  # parses: well-formed
    error_case, finding_case = root[0]
    assert finding_case.get("classname") == "dir/ü <&>.py"
    assert finding_case[0].get("message") == 'a < b & "c" > d \ufffd\ufffd é'
    assert "Replace with `]]> <x/>`" in finding_case[0].text
    assert error_case[0].get("message") == "bad\ufffdthing"
