#!/usr/bin/env python3
"""Recall (and precision) of numlint on research code, from hazards a person found by reading it.

    python benchmarks/research_corpus.py      # once: the pinned research packages
    python benchmarks/recall.py               # runs numlint, scores the three label sets below
    python benchmarks/recall.py --misses      # also list every labelled hazard numlint misses
    python benchmarks/recall.py --write-docs  # also rewrite the tables in docs/recall.md

Three inputs, all in benchmarks/:

- recall_labels.tsv: hazards (and safe look-alikes) found by reading research code *before*
  looking at numlint's output. Columns: path (relative to the research corpus), line, category
  (a rule code, or a hazard family that no rule names yet), kind (`hazard` or `safe`),
  obvious_fix, why.
- research_labels.tsv: every finding numlint makes on the research corpus, labelled `real` or
  `false-positive` (the format of labels.tsv), for precision. Findings without a label are listed.
- recall_cases/*.py: minimal cases written from real bug reports (source in each file's header);
  a line ending in `# expect: CATEGORY` must be reported, `# safe: CATEGORY` must not be.

A labelled hazard counts as found when numlint reports, on its line or the line before or after,
a rule of the category's family (FAMILIES below: the rule itself, rules that supersede it, and the
rule name reserved for a family whose rule is not written yet). Default rules and all rules
(`--select NUM`) are scored separately.
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Set, Tuple

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
DOCS = REPO / "docs" / "recall.md"
RECALL_LABELS = HERE / "recall_labels.tsv"
FINDING_LABELS = HERE / "research_labels.tsv"
CASES = HERE / "recall_cases"

# Category -> the rule codes, and rule names (for rules not yet written), that count as finding it.
FAMILIES: Dict[str, Set[str]] = {
    "NUM101": {"NUM101"},
    "NUM102": {"NUM102", "NUM203"},
    "NUM103": {"NUM103", "NUM203"},
    "NUM104": {"NUM104"},
    "NUM105": {"NUM105"},
    "NUM106": {"NUM106"},
    "NUM107": {"NUM107"},
    "NUM108": {"NUM108"},
    "NUM109": {"NUM109"},
    "NUM110": {"NUM110"},
    "NUM201": {"NUM201", "NUM102", "NUM101"},
    "NUM202": {"NUM202"},
    "NUM203": {"NUM203", "NUM102", "NUM103"},
    "NUM301": {"NUM301"},
    "NUM401": {"NUM401"},
    "NUM402": {"NUM402"},
    "NUM403": {"NUM403"},
    "NUM404": {"NUM404"},
    "NUM405": {"NUM405"},
    "NUM501": {"NUM501"},
    "NUM502": {"NUM502"},
    "NUM503": {"NUM503"},
    "NUM504": {"NUM504"},
    # issue 14's families and others found while reading (a name without a code: no rule; see
    # docs/precision.md for the families measured as no rule)
    "clipped-log": {"NUM102", "NUM103", "NUM203", "NUM204"},
    "tanh-logdet": {"NUM115"},
    # measured: log(p / (1 - p)) has torch.logit's error; the reciprocal form is NUM116's (families.md)
    "logit-by-hand": {"NUM116", "NUM111"},  # issue 14: "logit/atanh by hand"
    "double-activation": {"NUM206"},
    "kl-zero-term": {"NUM117", "NUM401"},
    "atanh-by-hand": {"NUM111"},
    "div-by-zero": {"NUM404"},
    "sqrt-grad-zero": {"NUM402", "NUM403", "NUM407"},
    "sqrt-cancellation": {"NUM302", "NUM402"},
    "log-det": {"log-det"},
    "prob-product": {"NUM114"},
    "frac-power": {"NUM408"},
    "log-uniform": {"NUM205", "NUM401"},
    "absorption": {"NUM506", "NUM502"},
    "guard-not-guarding": {"NUM405", "NUM406", "NUM409", "NUM502", "NUM506"},
    "acos-domain": {"NUM405"},
    "fp16-overflow": {"NUM501", "NUM502", "NUM505", "NUM507"},
    "log-mean-exp": {"NUM101", "NUM113"},
    "mixture": {"NUM105"},
    "log-cosh": {"NUM112"},
    "unknown-namespace": {"unknown-namespace"},
}
EXPECT = re.compile(r"#\s*(expect|safe):\s*([\w-]+)")


def family(category: str) -> Set[str]:
    return FAMILIES.get(category, {category})


def read_tsv(path: pathlib.Path) -> List[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def run_numlint(cwd: pathlib.Path, paths: List[str], select_all: bool) -> List[Tuple[str, int, str, str]]:
    cmd = [sys.executable, "-m", "numlint", "check", *paths, "--output-format", "json", "--exit-zero",
           "--no-cache"]
    if select_all:
        cmd += ["--select", "NUM"]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"recall: error: numlint failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    out = []
    for f in json.loads(proc.stdout or "[]"):
        p = pathlib.Path(f["filename"])
        rel = p.relative_to(cwd) if p.is_absolute() else p
        out.append((rel.as_posix(), f["location"]["row"], f["code"], f.get("name") or ""))
    return sorted(set(out))


def index(findings) -> Dict[str, List[Tuple[int, str, str]]]:
    out: Dict[str, List[Tuple[int, str, str]]] = collections.defaultdict(list)
    for path, line, code, name in findings:
        out[path].append((line, code, name))
    return out


def matches(found: Dict[str, list], path: str, line: int, category: str, slack: int = 1) -> List[str]:
    fam = family(category)
    return sorted({code for ln, code, name in found.get(path, [])
                   if abs(ln - line) <= slack and (code in fam or name in fam)})


def score_labels(rows: List[dict], found: Dict[bool, Dict[str, list]]):
    per: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    misses, flagged = [], []
    for r in rows:
        cat, line = r["category"], int(r["line"])
        hits = {sel: matches(found[sel], r["path"], line, cat) for sel in (False, True)}
        c = per[cat]
        if r["kind"] == "hazard":
            c["hazards"] += 1
            c["found_default"] += bool(hits[False])
            c["found_all"] += bool(hits[True])
            if not hits[True]:
                misses.append(r)
        else:
            c["safe"] += 1
            c["flagged_default"] += bool(hits[False])
            c["flagged_all"] += bool(hits[True])
            if hits[True]:
                flagged.append((r, hits[True]))
    return per, misses, flagged


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f}%" if b else "–"


def recall_table(per: Dict[str, collections.Counter]) -> List[str]:
    def key(cat):
        return (not cat.startswith("NUM"), -per[cat]["hazards"], cat)
    out = ["| category | hazards | found (default) | found (all rules) | recall (default) | recall (all) "
           "| safe look-alikes | flagged (all rules) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    tot = collections.Counter()
    for cat in sorted(per, key=key):
        c = per[cat]
        tot.update(c)
        written = cat.startswith("NUM") or any(x.startswith("NUM") for x in family(cat))
        label = cat if written else f"{cat} (no rule yet)"
        out.append(f"| {label} | {c['hazards']} | {c['found_default']} | {c['found_all']} | "
                   f"{pct(c['found_default'], c['hazards'])} | {pct(c['found_all'], c['hazards'])} | "
                   f"{c['safe']} | {c['flagged_all']} |")
    out.append(f"| **all** | {tot['hazards']} | {tot['found_default']} | {tot['found_all']} | "
               f"{pct(tot['found_default'], tot['hazards'])} | {pct(tot['found_all'], tot['hazards'])} | "
               f"{tot['safe']} | {tot['flagged_all']} |")
    return out


def precision_table(findings, labels: Dict[Tuple[str, int, str], Tuple[str, str]]):
    counts: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    unlabelled = []
    for path, line, code, _ in findings:
        lab = labels.get((path, line, code), ("unlabelled", ""))[0]
        counts[code][lab] += 1
        if lab == "unlabelled":
            unlabelled.append((path, line, code))
    out = ["| rule | findings | real | false positives | unlabelled | precision |", "|---|---:|---:|---:|---:|---:|"]
    tot = collections.Counter()
    for code in sorted(counts):
        c = counts[code]
        tot.update(c)
        judged = c["real"] + c["false-positive"]
        out.append(f"| {code} | {sum(c.values())} | {c['real']} | {c['false-positive']} | {c['unlabelled']} | "
                   f"{pct(c['real'], judged)} |")
    judged = tot["real"] + tot["false-positive"]
    out.append(f"| **all** | {sum(tot.values())} | {tot['real']} | {tot['false-positive']} | {tot['unlabelled']} | "
               f"{pct(tot['real'], judged)} |")
    return out, unlabelled


def score_cases(select_all_runs) -> Tuple[List[str], List[str]]:
    """Score benchmarks/recall_cases/*.py from their `# expect:` / `# safe:` comments."""
    files = sorted(CASES.glob("*.py"))
    rows = []
    for f in files:
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                rows.append({"path": f.name, "line": str(i), "kind": "hazard" if m[1] == "expect" else "safe",
                             "category": m[2]})
    if not rows:
        return [], []
    per, misses, flagged = score_labels(rows, select_all_runs)
    table = recall_table(per)
    miss_lines = [f"missed: recall_cases/{r['path']}:{r['line']} {r['category']}" for r in misses]
    miss_lines += [f"flagged look-alike: recall_cases/{r['path']}:{r['line']} {r['category']} ({', '.join(h)})"
                   for r, h in flagged]
    return table, miss_lines


def replace_section(text: str, name: str, body: List[str]) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = begin + "\n" + "\n".join(body) + "\n" + end
    if begin in text and end in text:
        return text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--corpus", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get("NUMLINT_RESEARCH_CORPUS", REPO.parent / "research-corpus")))
    ap.add_argument("--misses", action="store_true", help="list every missed hazard and flagged look-alike")
    ap.add_argument("--write-docs", action="store_true", help="rewrite the recall tables in docs/recall.md")
    ap.add_argument("--cases-only", action="store_true", help="score only benchmarks/recall_cases (no corpus)")
    args = ap.parse_args(argv)
    corpus = args.corpus.expanduser().absolute()
    sections: Dict[str, List[str]] = {}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    status = 0

    if not args.cases_only:
        labels = read_tsv(RECALL_LABELS)
        packages = sorted({r["path"].split("/")[0] for r in labels} |
                          {p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("_")}) \
            if corpus.is_dir() else []
        if not packages:
            sys.exit(f"recall: error: no research corpus at {corpus}; run benchmarks/research_corpus.py first")
        runs = {sel: run_numlint(corpus, packages, sel) for sel in (False, True)}
        found = {sel: index(runs[sel]) for sel in runs}
        per, misses, flagged = score_labels(labels, found)
        table = recall_table(per)
        n_pk = len({r["path"].split("/")[0] for r in labels if r["kind"] == "hazard"})
        head = (f"Hand-read recall set: {sum(r['kind'] == 'hazard' for r in labels)} hazards and "
                f"{sum(r['kind'] == 'safe' for r in labels)} safe look-alikes in {n_pk} packages; numlint at {commit}.")
        print(head + "\n")
        print("\n".join(table))
        sections["recall-labels"] = [head, ""] + table
        flabels = {(r["path"], int(r["line"]), r["code"]): (r["label"], r["note"]) for r in read_tsv(FINDING_LABELS)}
        ptable, unlabelled = precision_table(runs[False], flabels)
        ptable_all, unlabelled_all = precision_table(runs[True], flabels)
        print("\nPrecision on the research corpus, default rules:\n")
        print("\n".join(ptable))
        print("\nPrecision on the research corpus, all rules:\n")
        print("\n".join(ptable_all))
        sections["precision-default"] = ptable
        sections["precision-all"] = ptable_all
        for path, line, code in sorted(set(unlabelled_all)):
            print(f"unlabelled finding: {path}:{line} {code}")
        gone = sorted(set(flabels) - {(p, l, c) for p, l, c, _ in runs[True]})
        for path, line, code in gone:
            print(f"no longer found ({flabels[(path, line, code)][0]}): {path}:{line} {code}")
        if args.misses:
            for r in misses:
                print(f"missed: {r['path']}:{r['line']} {r['category']} — {r['why']}")
            for r, hits in flagged:
                print(f"flagged look-alike: {r['path']}:{r['line']} {r['category']} ({', '.join(hits)}) — {r['why']}")
        if unlabelled_all:
            status = 1

    # Bug-report cases: copied to a scratch folder so no project config applies.
    with tempfile.TemporaryDirectory(prefix="numlint-cases-") as tmp:
        tmpdir = pathlib.Path(tmp)
        for f in sorted(CASES.glob("*.py")):
            shutil.copyfile(f, tmpdir / f.name)
        if any(tmpdir.iterdir()):
            runs = {sel: index(run_numlint(tmpdir, ["."], sel)) for sel in (False, True)}
            table, lines = score_cases(runs)
            print(f"\nBug-report cases ({len(list(CASES.glob('*.py')))} files in benchmarks/recall_cases):\n")
            print("\n".join(table))
            if args.misses:
                print("\n".join(lines))
            sections["recall-cases"] = table
    if args.write_docs:
        text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Recall\n"
        for name, body in sections.items():
            text = replace_section(text, name, body)
        DOCS.write_text(text, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
