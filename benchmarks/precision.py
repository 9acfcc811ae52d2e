"""Precision of the default rules on the pinned corpus, re-scored from labelled findings.

    python benchmarks/corpus.py            # once: downloads the pinned packages
    python benchmarks/precision.py         # runs numlint, scores against benchmarks/labels.tsv
    python benchmarks/precision.py --select NUM          # every rule, opt-in ones included
    python benchmarks/precision.py --findings out.txt    # score a saved `--output-format concise` run
    python benchmarks/precision.py --select NUM --per-file --save out.txt
        # every file checked on its own in this process (no cross-module phase), 60 s at most each:
        # what docs/precision.md measured on the library corpus, where a full CLI run stalled

benchmarks/labels.tsv holds one line per finding a person has read: path (relative to the corpus
folder), line, code, `real` or `false-positive`, and a note. Findings without a label are listed
so they can be read and labelled; labels whose finding disappeared are listed too (a fixed false
positive, or a lost true one: read them).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels.tsv"
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):\d+: (?P<code>[A-Z]+\d+) ")


def default_corpus() -> Path:
    return Path(os.environ.get("NUMLINT_CORPUS", HERE.parent.parent / "numlint-corpus"))


def parse_findings(lines) -> list:
    found = []
    for line in lines:
        match = FINDING.match(line)
        if match:
            found.append((match["path"], int(match["line"]), match["code"]))
    return found


def run_numlint(corpus: Path, select=None) -> list:
    packages = sorted(p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("_"))
    if not packages:
        sys.exit(f"precision: error: no corpus at {corpus}; run benchmarks/corpus.py first")
    result = subprocess.run(
        [sys.executable, "-m", "numlint", "check", "--output-format", "concise", "--exit-zero", "--no-cache",
         *(["--select", select] if select else []), *packages],
        cwd=corpus, capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"precision: error: numlint failed: {result.stderr.strip()[:500]}")
    return parse_findings(result.stdout.splitlines())


def run_per_file(corpus: Path, select=None, limit: int = 60, save=None) -> list:
    """Check each file the CLI would check, one at a time in this process (numlint's checker on
    the file's text, without the cross-module phase), skipping a file after `limit` seconds."""
    import signal

    from numlint.noqa import check_text
    from numlint.rules import load_rules

    packages = sorted(p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("_"))
    listed = subprocess.run([sys.executable, "-m", "numlint", "check", "--show-files", *packages],
                            cwd=corpus, capture_output=True, text=True)
    prefixes = [c.strip() for c in select.split(",")] if select else None
    rules = [r for code, r in load_rules().items()
             if (prefixes is None and r.default) or (prefixes and any(code.startswith(x) or r.name == x
                                                                      for x in prefixes))]

    def timeout(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, timeout)
    lines = []
    for name in listed.stdout.split():
        signal.alarm(limit)
        try:
            findings, _ = check_text((corpus / name).read_text(encoding="utf-8", errors="replace"), rules)
        except TimeoutError:
            print(f"precision: skipped after {limit} s: {name}", file=sys.stderr)
            continue
        except Exception as exc:  # a crash is reported, the run goes on
            print(f"precision: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        finally:
            signal.alarm(0)
        lines += [f"{name}:{f.location.row}:{f.location.column}: {f.code} {f.message}" for f in findings]
    if save is not None:
        save.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return parse_findings(lines)


def read_labels() -> dict:
    with open(LABELS, newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {(r["path"], int(r["line"]), r["code"]): (r["label"], r["note"]) for r in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--select", help="rules to run (numlint's --select), e.g. NUM for every rule")
    parser.add_argument("--findings", type=Path,
                        help="score this saved concise output (paths relative to the corpus) instead of running numlint")
    parser.add_argument("--per-file", action="store_true",
                        help="check each file on its own in this process (no cross-module phase)")
    parser.add_argument("--save", type=Path, help="with --per-file: also write the findings (concise) here")
    args = parser.parse_args()
    labels = read_labels()
    if args.findings:
        found = parse_findings(args.findings.read_text(encoding="utf-8").splitlines())
    elif args.per_file:
        found = run_per_file(args.corpus, args.select, save=args.save)
    else:
        found = run_numlint(args.corpus, args.select)
    counts: dict = defaultdict(Counter)
    unlabelled = []
    for key in found:
        label = labels.get(key, ("unlabelled", ""))[0]
        counts[key[2]][label] += 1
        if label == "unlabelled":
            unlabelled.append(key)
    vanished = sorted(set(labels) - set(found))
    print(f"{'rule':<8} {'findings':>8} {'real':>6} {'false+':>7} {'unlabelled':>10} {'precision':>10}")
    for code in sorted(counts):
        c = counts[code]
        judged = c["real"] + c["false-positive"]
        precision = f"{100 * c['real'] / judged:.0f}%" if judged else "-"
        print(f"{code:<8} {sum(c.values()):>8} {c['real']:>6} {c['false-positive']:>7} {c['unlabelled']:>10} {precision:>10}")
    for path, line, code in unlabelled:
        print(f"unlabelled: {path}:{line} {code}")
    for path, line, code in vanished:
        print(f"no longer found ({labels[(path, line, code)][0]}): {path}:{line} {code}")
    return 1 if unlabelled else 0


if __name__ == "__main__":
    sys.exit(main())
