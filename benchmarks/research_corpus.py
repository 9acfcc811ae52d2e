#!/usr/bin/env python3
"""Build a pinned corpus of research code (paper implementations, training code, model zoos).

    python benchmarks/research_corpus.py [--dest DIR] [--list | --check]

Library code (benchmarks/corpus.py) is written by people who already know the stable forms;
research code is where the naive ones live. This corpus is what benchmarks/recall_labels.tsv
(hazards found by reading the code) and benchmarks/research_labels.tsv (numlint's findings,
labelled) refer to: their paths are relative to this folder.

The corpus lives outside the repo (default ../research-corpus, or $NUMLINT_RESEARCH_CORPUS),
is built from pinned PyPI releases with `pip download --no-deps` and holds only their .py
files. The download and extraction are benchmarks/corpus.py's.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time
from typing import List, Optional, Tuple

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import corpus as _lib  # noqa: E402  (the library corpus builder: same download and layout)

# Small-to-medium research code, pinned. PyTorch mostly, as research code is; JAX
# (dreamerv3) and TF 1.x/2.x (disentanglement-lib) so other frameworks are in the set.
PINNED: List[Tuple[str, str]] = [
    ("x-transformers", "2.31.10"),
    ("vector-quantize-pytorch", "1.32.0"),
    ("denoising-diffusion-pytorch", "2.3.4"),
    ("performer-pytorch", "1.1.4"),
    ("dalle-pytorch", "1.6.6"),
    ("vit-pytorch", "1.26.11"),
    ("pytorch-metric-learning", "2.9.0"),
    ("nflows", "0.14"),
    ("normflows", "1.7.3"),
    ("torchdiffeq", "0.2.5"),
    ("stable-baselines3", "2.9.2"),
    ("cleanrl", "1.2.0"),
    ("lightning-bolts", "0.7.0"),
    ("pythae", "0.1.2"),
    ("torchgan", "0.1.0"),
    ("pixyz", "0.3.3"),
    ("disentanglement-lib", "1.5"),
    ("dreamerv3", "1.5.0"),
]

# cleanrl 1.2.0 declares Requires-Python < 3.11: resolve it for 3.10 (pip takes the last
# --python-version given; the .py files do not depend on it).
PIP_EXTRA = {"cleanrl": ["--python-version", "3.10"]}
_lib.PIP_EXTRA.update(PIP_EXTRA)

REPO_ROOT = _lib.REPO_ROOT


def default_dest() -> pathlib.Path:
    env = os.environ.get("NUMLINT_RESEARCH_CORPUS")
    return pathlib.Path(env) if env else REPO_ROOT.parent / "research-corpus"


def package_dirs(dest) -> List[pathlib.Path]:
    dest = pathlib.Path(dest)
    return [_lib.package_dir(dest, n, v) for n, v in PINNED]


def corpus_files(dest) -> List[pathlib.Path]:
    """All .py files of the pinned research packages under `dest`, sorted."""
    files: List[pathlib.Path] = []
    for pkg in package_dirs(dest):
        files.extend(p for p in pkg.rglob("*.py") if p.is_file())
    return sorted(files)


def build(dest: pathlib.Path) -> None:
    try:
        dest.resolve().relative_to(REPO_ROOT)
    except ValueError:
        pass
    else:
        raise _lib.CorpusError(f"refusing to build the corpus inside the repo: {dest}")
    downloads = dest / "_downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for name, version in PINNED:
        if _lib.is_complete(dest, name, version):
            print(f"{name}=={version}: already extracted", flush=True)
            continue
        print(f"{name}=={version}: downloading", flush=True)
        archive = _lib.download(name, version, downloads)
        _lib.extract(archive, _lib.package_dir(dest, name, version))
    print(f"done in {time.monotonic() - started:.1f}s, corpus at {dest}\n")
    print_summary(dest)


def print_summary(dest: pathlib.Path) -> None:
    rows = []
    for name, version in PINNED:
        files = sorted(_lib.package_dir(dest, name, version).rglob("*.py"))
        rows.append((f"{name}=={version}", len(files), _lib.count_lines(files)))
    width = max(len(r[0]) for r in rows + [("TOTAL", 0, 0)])
    print(f"{'package':<{width}}  {'files':>7}  {'lines':>10}")
    for spec, nfiles, nlines in rows:
        print(f"{spec:<{width}}  {nfiles:>7,}  {nlines:>10,}")
    print(f"{'TOTAL':<{width}}  {sum(r[1] for r in rows):>7,}  {sum(r[2] for r in rows):>10,}")


def check(dest: pathlib.Path) -> int:
    missing = [f"{n}=={v}" for n, v in PINNED if not _lib.is_complete(dest, n, v)]
    if missing:
        print(f"research corpus at {dest} is incomplete; missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"research corpus at {dest} is complete: {len(PINNED)} packages, {len(corpus_files(dest)):,} files")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=pathlib.Path, default=None,
                        help="corpus folder (default: $NUMLINT_RESEARCH_CORPUS or ../research-corpus)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="print the pinned packages")
    mode.add_argument("--check", action="store_true", help="exit 1 unless the corpus is complete")
    args = parser.parse_args(argv)
    dest = (args.dest or default_dest()).expanduser().absolute()
    if args.list:
        for name, version in PINNED:
            print(f"{name}=={version}")
        return 0
    if args.check:
        return check(dest)
    try:
        build(dest)
    except (_lib.CorpusError, OSError) as exc:
        print(f"research-corpus: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("research-corpus: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
