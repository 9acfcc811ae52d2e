"""A rule explained in words a user reads: for `numlint rule`, `numlint rules` and docs/rules.md.

Everything here is derived from the rule file; nothing about a rule lives in a second place.
"""

from __future__ import annotations

import json
import textwrap
from typing import Mapping

from numlint.diagnostics import DISPLAY_ONLY, SAFE, UNSAFE
from numlint.rules import Rule


def fix_label(rule: Rule) -> str:
    """`safe fix`, `unsafe fix`, `safe/unsafe fix` (depends on the form matched) or `no fix`."""
    safeties = [s for s in (SAFE, UNSAFE, DISPLAY_ONLY) if s in rule.fix_safeties]
    return f"{'/'.join(safeties)} fix" if safeties else "no fix"


def rules_table(rules: Mapping[str, Rule]) -> str:
    width = max(len(r.name) for r in rules.values())
    lines = [f"{'code':<7} {'name':<{width}}  {'fix':<15} summary"]
    for rule in rules.values():
        mark = "" if rule.default else " (opt-in: --select it)"
        lines.append(f"{rule.code:<7} {rule.name:<{width}}  {fix_label(rule):<15} {rule.message}{mark}")
    return "\n".join(lines) + "\n"


def rules_json(rules: Mapping[str, Rule]) -> str:
    return json.dumps(
        [
            {
                "code": r.code,
                "name": r.name,
                "message": r.message,
                "fix": fix_label(r),
                "default": r.default,
                "frameworks": sorted({e.framework for e in r.examples}),
            }
            for r in rules.values()
        ],
        indent=2,
    ) + "\n"


def _block(code: str) -> str:
    return "```python\n" + code.strip("\n") + "\n```\n"


def explain(rule: Rule, heading: str = "#") -> str:
    docs = rule.docs
    out = [f"{heading} {rule.code} {rule.name}\n"]
    out.append(f"{rule.message}.\n")
    out.append(f"Fix: {fix_label(rule)}." + ("" if rule.default else " Opt-in: select it with `--select " + rule.code + "`.") + "\n")
    if docs.get("what"):
        out.append(f"{heading}# What it does\n{textwrap.dedent(str(docs['what'])).strip()}\n")
    if docs.get("why"):
        out.append(f"{heading}# Why is this bad?\n{textwrap.dedent(str(docs['why'])).strip()}\n")
    bad = [e for e in rule.examples if e.bad]
    good = [e for e in rule.examples if e.good]
    out.append(f"{heading}# Examples\n")
    for example in bad:
        title = f" — {example.title}" if example.title else ""
        out.append(f"{example.framework}{title}:\n")
        out.append(_block(example.bad))
        if example.fixed:
            out.append("Fixed:\n")
            out.append(_block(example.fixed))
        else:
            out.append("No automatic fix; numlint says what to do instead.\n")
    out.append(f"{heading}# Stays silent on\n")
    for example in good:
        title = f" — {example.title}" if example.title else ""
        out.append(f"{example.framework}{title}:\n")
        out.append(_block(example.good))
    if docs.get("fix-safety"):
        out.append(f"{heading}# Fix safety\n{textwrap.dedent(str(docs['fix-safety'])).strip()}\n")
    if docs.get("references"):
        out.append(f"{heading}# References\n" + "".join(f"- {ref}\n" for ref in docs["references"]))
    return "\n".join(out)
