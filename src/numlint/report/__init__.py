"""Reporters: turn check results into what a person or a tool reads. They never parse code."""

from __future__ import annotations

from typing import Callable, Dict

from numlint.report import concise, full, github, gitlab, json, junit, sarif

RULE_DOCS_URL = "https://github.com/numlint/numlint/blob/main/docs/rules.md#{anchor}"

# format name -> writer(results, stream, options)
FORMATS: Dict[str, Callable] = {
    "full": full.write,
    "concise": concise.write,
    "json": json.write,
    # for CI: annotations, code scanning, merge request widgets, test reports
    "github": github.write,
    "sarif": sarif.write,
    "gitlab": gitlab.write,
    "junit": junit.write,
}


def rule_url(code: str, name: str) -> str:
    return RULE_DOCS_URL.format(anchor=f"{code}-{name}".lower())
