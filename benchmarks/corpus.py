#!/usr/bin/env python3
"""Build a pinned corpus of real ML package source for numlint benchmarks.

    python benchmarks/corpus.py [--dest DIR] [--list | --check]

The corpus lives outside the repo (default ../numlint-corpus, or $NUMLINT_CORPUS)
so it is never linted, packaged or committed by accident. Other benchmark
scripts import `corpus_files(dest)` to get the file list.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from typing import Dict, List, Optional, Tuple

# Pinned so precision and speed numbers stay comparable across runs.
PINNED: List[Tuple[str, str]] = [
    ("transformers", "5.24.0"),
    ("diffusers", "0.42.1"),
    ("botorch", "0.18.1"),
    ("scikit-learn", "1.9.1"),
    ("jax", "0.10.2"),
    ("flax", "0.12.8"),
    ("optax", "0.2.8"),
    ("keras", "3.15.1"),
    ("lightning", "2.6.6"),
    ("sentence-transformers", "6.2.0"),
]

# Resolve for a fixed interpreter, not the one running this script: otherwise pip
# skips releases by Requires-Python (transformers 5.x on 3.9) and the corpus differs.
TARGET_PYTHON = ["--python-version", "3.11"]

# scikit-learn ships only platform wheels; one fixed tag keeps the pick stable
# (the .py files are the same in every platform wheel).
PIP_EXTRA: Dict[str, List[str]] = {
    "scikit-learn": ["--platform", "manylinux_2_28_x86_64", "--implementation", "cp",
                     "--abi", "cp311"],
}

# Stale build output some wheels ship by mistake (botorch 0.18.1 carries a second
# copy under build/lib/); it would double-count code, so leave it out.
SKIP_TOP_DIRS = {"build"}

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = ".corpus-complete"


class CorpusError(Exception):
    """An expected failure, reported as one line without a traceback."""


def default_dest() -> pathlib.Path:
    env = os.environ.get("NUMLINT_CORPUS")
    return pathlib.Path(env) if env else REPO_ROOT.parent / "numlint-corpus"


def package_dir(dest: pathlib.Path, name: str, version: str) -> pathlib.Path:
    return dest / f"{name}-{version}"


def corpus_files(dest) -> List[pathlib.Path]:
    """All .py files of the pinned packages under `dest`, sorted."""
    dest = pathlib.Path(dest)
    files: List[pathlib.Path] = []
    for name, version in PINNED:
        files.extend(p for p in package_dir(dest, name, version).rglob("*.py") if p.is_file())
    return sorted(files)


def _pip_download(spec: str, extra: List[str], into: pathlib.Path) -> Optional[str]:
    """Run pip download; return None on success, else pip's last error line."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", spec, "-d", str(into), *TARGET_PYTHON, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode == 0:
        return None
    lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines()
             if ln.strip() and not ln.startswith("WARNING")]
    return lines[-1] if lines else f"pip exited with status {proc.returncode}"


def download(name: str, version: str, downloads: pathlib.Path) -> pathlib.Path:
    # One folder per package, so whatever pip saved there is unambiguously ours.
    into = downloads / f"{name}-{version}"
    existing = sorted(into.glob("*")) if into.is_dir() else []
    if existing:
        return existing[0]
    spec = f"{name}=={version}"
    err = _pip_download(spec, ["--only-binary=:all:", *PIP_EXTRA.get(name, [])], into)
    if err is not None:
        # No usable wheel: take the sdist (pip may need to build its metadata).
        err = _pip_download(spec, [f"--no-binary={name}"], into)
    if err is not None:
        raise CorpusError(f"pip download failed for {spec}: {err}")
    saved = sorted(into.glob("*"))
    if len(saved) != 1:
        raise CorpusError(f"expected one archive for {spec} in {into}, found {len(saved)}")
    return saved[0]


def _safe_relpath(member: str) -> Optional[pathlib.PurePosixPath]:
    # Archives come from the internet: never write outside the target folder.
    rel = pathlib.PurePosixPath(member)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        return None
    return rel


def _py_members(archive: pathlib.Path):
    """Yield (member path, bytes, is_sdist) for every .py file in a wheel or sdist."""
    if archive.suffix in (".whl", ".zip"):
        is_sdist = archive.suffix == ".zip"
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.filename.endswith(".py"):
                    yield info.filename, zf.read(info), is_sdist
    elif archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                if member.isfile() and member.name.endswith(".py"):
                    yield member.name, tf.extractfile(member).read(), True
    else:
        raise CorpusError(f"unsupported archive type: {archive.name}")


def extract(archive: pathlib.Path, target: pathlib.Path) -> None:
    # Extract into a scratch folder and rename at the end, so an interrupted
    # run never leaves a half-filled package that looks complete.
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for member, data, is_sdist in _py_members(archive):
            rel = _safe_relpath(member)
            if rel is None:
                continue
            if is_sdist:
                # sdists wrap everything in NAME-VERSION/; drop it to match wheel layout.
                rel = pathlib.PurePosixPath(*rel.parts[1:]) if len(rel.parts) > 1 else None
                if rel is None:
                    continue
            if rel.parts[0] in SKIP_TOP_DIRS:
                continue
            out = tmp / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        (tmp / MARKER).write_text(archive.name + "\n")
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CorpusError(f"cannot extract {archive.name}: {exc}") from None
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def count_lines(files: List[pathlib.Path]) -> int:
    total = 0
    for path in files:
        data = path.read_bytes()
        total += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return total


def is_complete(dest: pathlib.Path, name: str, version: str) -> bool:
    return (package_dir(dest, name, version) / MARKER).is_file()


def print_summary(dest: pathlib.Path) -> None:
    rows = []
    for name, version in PINNED:
        files = sorted(package_dir(dest, name, version).rglob("*.py"))
        rows.append((f"{name}=={version}", len(files), count_lines(files)))
    width = max(len(r[0]) for r in rows + [("TOTAL", 0, 0)])
    print(f"{'package':<{width}}  {'files':>7}  {'lines':>10}")
    for spec, nfiles, nlines in rows:
        print(f"{spec:<{width}}  {nfiles:>7,}  {nlines:>10,}")
    print(f"{'TOTAL':<{width}}  {sum(r[1] for r in rows):>7,}  {sum(r[2] for r in rows):>10,}")


def build(dest: pathlib.Path) -> None:
    try:
        dest.resolve().relative_to(REPO_ROOT)
    except ValueError:
        pass
    else:
        raise CorpusError(f"refusing to build the corpus inside the repo: {dest}")
    downloads = dest / "_downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for name, version in PINNED:
        if is_complete(dest, name, version):
            print(f"{name}=={version}: already extracted", flush=True)
            continue
        print(f"{name}=={version}: downloading", flush=True)
        archive = download(name, version, downloads)
        extract(archive, package_dir(dest, name, version))
    print(f"done in {time.monotonic() - started:.1f}s, corpus at {dest}\n")
    print_summary(dest)


def check(dest: pathlib.Path) -> int:
    missing = [f"{n}=={v}" for n, v in PINNED if not is_complete(dest, n, v)]
    if missing:
        print(f"corpus at {dest} is incomplete; missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"corpus at {dest} is complete: {len(PINNED)} packages, {len(corpus_files(dest)):,} files")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=pathlib.Path, default=None,
                        help="corpus folder (default: $NUMLINT_CORPUS or ../numlint-corpus)")
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
    except CorpusError as exc:
        print(f"corpus: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"corpus: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("corpus: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
