"""Finding deduplication (`FileChecker._outermost`) on files with many findings.

Generates modules of N lines with a finding every third line — nested hazards (NUM101 around
NUM102), a superseding rule (NUM103 over NUM106), hazards reached through names — and reports the
time of the whole check and of the dedupe step alone (positions, which the findings need anyway,
computed before it is timed), and the number of findings.

    python benchmarks/dedupe.py                 # 3,000 / 24,000 lines
    python benchmarks/dedupe.py --lines 100000
    python benchmarks/dedupe.py --reference     # the quadratic version it replaced
"""

from __future__ import annotations

import argparse
import time

from numlint import checker
from numlint.patterns import subtree
from numlint.rules import registry

BLOCK = [
    "def f{i}(x, z, p):",
    "    a = torch.log(torch.sum(torch.exp(torch.log(torch.softmax(x, -1))), dim=1))",
    "    s = torch.softmax(z, dim=-1)",
    "    b = torch.log(s)",
    "    c = torch.log(1 + torch.exp(-p)) + torch.log(torch.sigmoid(p))",
    "    d = torch.log(torch.sum(torch.exp(torch.log(torch.sum(torch.exp(x), dim=1))), dim=0))",
    "    e = torch.sqrt(torch.mean(x ** 2) - torch.mean(x) ** 2)",
    "    return a, b, c, d, e",
    "",
]


def module(lines: int) -> str:
    out = ["import torch", ""]
    i = 0
    while len(out) < lines:
        out.extend(line.format(i=i) for line in BLOCK)
        i += 1
    return "\n".join(out) + "\n"


def reference(self, hits):
    """The quadratic dedupe this replaced (commit 8d96d16), to measure against: `--reference`."""
    spans = {id(hit): self.span(hit.node) for hit in hits}
    reported = {(hit.rule.code, id(hit.node)) for hit in hits}
    kept = []
    for hit in hits:
        start, end = spans[id(hit)]
        nested = any(
            other is not hit
            and (other.rule.code == hit.rule.code or hit.rule.code in other.rule.supersedes)
            and spans[id(other)][0] <= start
            and end <= spans[id(other)][1]
            and (spans[id(other)] != (start, end) or hit.rule.code in other.rule.supersedes)
            for other in hits
        )
        through_reported = any(
            (code, id(sub)) in reported
            for code in (hit.rule.code, *hit.rule.supersedes)
            for _, site in hit.env.through
            for sub in subtree(site.value)
        )
        if not nested and not through_reported:
            kept.append(hit)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="*", default=[3000, 24000])
    parser.add_argument("--reference", action="store_true", help="time the quadratic version it replaced")
    args = parser.parse_args()
    rules = list(registry().values())
    spent = {}
    real = reference if args.reference else checker.FileChecker._outermost

    def timed(self, hits):
        if hits:
            self.span(hits[0].node)  # positions are computed once per file, for the findings anyway
        start = time.perf_counter()
        try:
            return real(self, hits)
        finally:
            spent["dedupe"] = spent.get("dedupe", 0.0) + time.perf_counter() - start
            spent["hits"] = spent.get("hits", 0) + len(hits)

    checker.FileChecker._outermost = timed
    for lines in args.lines:
        spent.clear()
        text = module(lines)
        start = time.perf_counter()
        findings, errors = checker.check_text(text, rules)
        total = time.perf_counter() - start
        print(f"{lines:>7} lines: {spent.get('hits', 0):>6} hits -> {len(findings):>6} findings, {len(errors)} errors; "
              f"check {total:7.1f} s, dedupe {spent.get('dedupe', 0.0):7.2f} s")


if __name__ == "__main__":
    main()
