"""Reporters: turn check results into what a person or a tool reads. They never parse code."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Dict

from numlint.report import concise, full, github, gitlab, grouped, json, json_lines, junit, pylint, rdjson, sarif

# format name -> writer(results, stream, options)
FORMATS: Dict[str, Callable] = {
    "full": full.write,
    "concise": concise.write,
    "grouped": grouped.write,
    "json": json.write,
    "json-lines": json_lines.write,
    "pylint": pylint.write,
    # for CI: annotations, code scanning, review bots, merge request widgets, test reports
    "github": github.write,
    "sarif": sarif.write,
    "rdjson": rdjson.write,
    "gitlab": gitlab.write,
    "junit": junit.write,
}
# Formats a person reads: they end with the summary (report/summary.py).
HUMAN_FORMATS = ("full", "concise", "grouped")


def _rules_reference() -> str:
    """Where docs/rules.md is: the `Rules` project URL when the installed package declares one
    (`[project.urls]` in pyproject.toml, for a published copy of the repository), else this
    repository's (or this installation's) own file, so a link never points at a placeholder."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        for entry in metadata("numlint").get_all("Project-URL") or ():
            label, _, url = entry.partition(",")
            if label.strip().lower() == "rules" and url.strip():
                return url.strip()
    except (ImportError, PackageNotFoundError, ValueError):
        pass
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "docs" / "rules.md", here.parents[1] / "docs" / "rules.md"):
        if candidate.is_file():
            return candidate.as_uri()
    return (here.parents[1] / "docs" / "rules.md").as_uri()


@functools.lru_cache(maxsize=1)
def docs_url() -> str:
    return _rules_reference()


def __getattr__(name: str) -> str:  # DOCS_URL, computed on first use
    if name == "DOCS_URL":
        return docs_url()
    raise AttributeError(name)


def anchor(code: str, name: str) -> str:
    """The rule's anchor in docs/rules.md (its heading `## NUM101 log-sum-exp`)."""
    return f"{code}-{name}".lower()


def rule_url(code: str, name: str) -> str:
    return f"{docs_url()}#{anchor(code, name)}"
