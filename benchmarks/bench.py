#!/usr/bin/env python3
"""Speed and memory of numlint on the pinned corpus, against libcst's own parse and peer linters.

    python benchmarks/corpus.py                      # once: the pinned corpus (../numlint-corpus)
    python benchmarks/bench.py [--corpus DIR] [--runs N] [--quick] [--no-peers]

Run it with the interpreter of the venv numlint is installed in (or pass --python): the floor
parses with that venv's libcst, so numlint and the floor use the same parser. The peers (TorchFix,
Fixit) and ruff are installed on first use into venvs of their own under $NUMLINT_BENCH_VENVS
(default /work/bench-venvs), outside the repo; later runs reuse them.

Measured, each as wall time around a subprocess (median of --runs, peers once):
  floor           libcst.parse_module of every corpus file, one process
  numlint cold    numlint check --no-cache (default rules, one process per core)
  numlint warm    the same with a primed cache (--cache-dir in a temp folder)
  numlint serial  --jobs 1 --no-cache
  torchfix, fixit, ruff on the same package folders
Peak RSS is the largest resident set of a process tree (the process and its waited-for
descendants: numlint's workers), from os.wait4. Exits 1 when the findings of the cold, warm and
serial runs differ.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from corpus import PINNED, corpus_files, default_dest, package_dir  # noqa: E402

# Pinned like the corpus, so peer figures stay comparable between runs of this script.
# TorchFix pins libcst<1.6 itself; saying it here keeps pip from trying anything newer.
PEERS: Dict[str, List[str]] = {
    "torchfix": ["torchfix==0.7.0", "libcst<1.6"],
    "fixit": ["fixit==2.2.1"],
    "ruff": ["ruff==0.17.6"],
}

# Targets of issue 6 ("Speed").
COLD_VS_FLOOR = 0.5
WARM_VS_COLD = 0.05
PEER_SPEEDUP = 10.0
RSS_VS_FLOOR = 1.25

# The floor: what one process spends only parsing the corpus with libcst. Files are decoded
# as Python decodes source (coding cookie, BOM); a file that fails to decode or parse is
# counted and skipped.
FLOOR_SCRIPT = r"""
import io, json, sys, time, tokenize
import libcst
paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
failed = 0
started = time.perf_counter()
for path in paths:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        libcst.parse_module(data.decode(encoding))
    except Exception:
        failed += 1
print(json.dumps({"files": len(paths), "failed": failed, "parse_s": time.perf_counter() - started}))
"""

NUMLINT_FINDING = re.compile(r"^.+?:\d+:\d+: [A-Z]+\d+ ", re.M)
TORCHFIX_FINDING = re.compile(r"^.+?:\d+:\d+: TOR\d+ ", re.M)
FIXIT_FINDING = re.compile(r"^.+?@\d+:\d+ \w+: ", re.M)
RUFF_FOUND = re.compile(r"^Found (\d+) errors?", re.M)


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds of the process tree
    others: Optional[float]  # CPU seconds the rest of the machine used meanwhile (Linux only)
    returncode: int
    rss_mb: float  # peak resident set of the process tree
    stdout: str
    stderr: str


@dataclass
class Measure:
    name: str
    runs: List[Run] = field(default_factory=list)
    findings: Optional[int] = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.runs)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)


def run(cmd: Sequence[str], cwd: Path) -> Run:
    """Run `cmd`, returning its wall and CPU time, exit code, output and peak RSS.

    os.wait4 gives the rusage of this child alone, counting the descendants it waited for
    (numlint's worker processes): CPU times are summed over them and, on Linux, ru_maxrss is the
    largest RSS among them. That is what `/usr/bin/time -v` reports, without needing GNU time.
    """
    busy_before = machine_busy()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        # ru_maxrss is in kilobytes on Linux, bytes on macOS.
        rss_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        busy_after = machine_busy()
        others = None if busy_before is None or busy_after is None else max(0.0, busy_after - busy_before - cpu)
        return Run(wall, cpu, others, proc.returncode, rss_mb, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"))


def machine_busy() -> Optional[float]:
    """CPU seconds all processes of the machine have used since boot (from /proc/stat)."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
    ticks = [int(v) for v in fields[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the numlint venv ------------------------------------------------------------------------

def numlint_command(python: Path) -> List[str]:
    # The console script users run; `python -m numlint` where the venv has none.
    script = python.parent / "numlint"
    return [str(script)] if script.is_file() else [str(python), "-m", "numlint"]


def probe(python: Path) -> Dict[str, str]:
    code = ("import json, importlib.metadata as m, platform; "
            "print(json.dumps({'libcst': m.version('libcst'), 'numlint': m.version('numlint'), "
            "'python': platform.python_version()}))")
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench: error: {python} has no numlint and libcst (pass --python): {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout)


# --- peer venvs ------------------------------------------------------------------------------

def venvs_root() -> Path:
    return Path(os.environ.get("NUMLINT_BENCH_VENVS", "/work/bench-venvs"))


def ensure_peer(name: str) -> Path:
    """The bin/ folder of `name`'s own venv, created and installed on first use.

    A marker file holds the installed requirement list, so a run after an interrupted install,
    or after PEERS changed, installs again; otherwise nothing touches the network.
    """
    venv = venvs_root() / name
    marker = venv / ".bench-installed"
    wanted = "\n".join(PEERS[name])
    if marker.is_file() and marker.read_text() == wanted:
        return venv / "bin"
    try:
        venv.resolve().relative_to(REPO)
    except ValueError:
        pass
    else:
        raise RuntimeError(f"refusing to create a venv inside the repo: {venv}")
    log(f"installing {' '.join(PEERS[name])} into {venv}")
    if not (venv / "bin" / "python").is_file():
        # The interpreter's own venv module: no virtualenv needed. Never inherits numlint's venv.
        made = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            raise RuntimeError(f"venv failed: {made.stderr.strip()[-300:]}")
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                          "--disable-pip-version-check", *PEERS[name]], capture_output=True, text=True)
    if pip.returncode != 0:
        lines = [ln for ln in (pip.stderr + pip.stdout).splitlines() if ln.strip() and not ln.startswith("WARNING")]
        raise RuntimeError(f"pip install failed: {lines[-1] if lines else pip.returncode}")
    marker.write_text(wanted)
    return venv / "bin"


# --- the measurements ------------------------------------------------------------------------

def measure_peer(name: str, cmd_tail: List[str], exe: str, corpus: Path, runs: int,
                 count) -> Measure:
    measure = Measure(name)
    try:
        bin_dir = ensure_peer(name)
    except (RuntimeError, OSError) as exc:
        measure.note = f"not installed: {exc}"
        log(f"{name}: {measure.note}")
        return measure
    for index in range(runs):
        log(f"{name}: run {index + 1}/{runs}")
        result = run([str(bin_dir / exe), *cmd_tail], corpus)
        measure.runs.append(result)
        log(f"  {result.wall:.1f}s  cpu {result.cpu:.1f}s  exit {result.returncode}  {result.rss_mb:.0f} MB"
            f"{others_note(result)}")
    measure.findings = count(measure.runs[-1])
    return measure


def others_note(result: Run) -> str:
    return "" if result.others is None else f"  (other processes: {result.others:.1f} cpu s)"


def output_lines(result: Run) -> List[str]:
    """The lines of a concise report, in order-insensitive form (workers may finish in any order)."""
    return sorted(line for line in result.stdout.splitlines() if line.strip())


def machine() -> Dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or "unknown"
    commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return {"cores": str(os.cpu_count()), "cpu": model, "os": platform.platform(), "commit": commit}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: as benchmarks/corpus.py)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the floor and of numlint (median; default 3)")
    parser.add_argument("--peer-runs", type=int, default=1, help="runs of each peer and ruff (default 1: minutes each)")
    parser.add_argument("--quick", action="store_true", help="one run of everything")
    parser.add_argument("--no-peers", action="store_true", help="leave out TorchFix, Fixit and ruff")
    parser.add_argument("--python", type=Path, default=Path(sys.executable),
                        help="the interpreter of numlint's venv (default: this one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else max(1, args.runs)
    peer_runs = 1 if args.quick else max(1, args.peer_runs)

    corpus = (args.corpus or default_dest()).expanduser().absolute()
    dirs = [package_dir(corpus, name, version).name for name, version in PINNED]
    missing = [d for d in dirs if not (corpus / d).is_dir()]
    if missing:
        sys.exit(f"bench: error: corpus at {corpus} lacks {', '.join(missing)}; run benchmarks/corpus.py")
    files = corpus_files(corpus)
    versions = probe(args.python)
    numlint = numlint_command(args.python)
    info = machine()
    info.update(python=versions["python"], libcst=versions["libcst"], numlint=versions["numlint"])
    log(f"corpus: {corpus} ({len(files):,} files); numlint {versions['numlint']}, libcst {versions['libcst']}, "
        f"Python {versions['python']}; {info['cores']} cores, {info['cpu']}")

    check = [*numlint, "check", "--exit-zero", "--output-format", "concise"]
    floor, cold, warm, serial = Measure("floor"), Measure("numlint cold"), Measure("numlint warm"), Measure("numlint serial")
    with tempfile.TemporaryDirectory(prefix="numlint-bench-") as scratch:
        file_list = Path(scratch) / "files.txt"
        file_list.write_text("\n".join(str(f) for f in files) + "\n", encoding="utf-8")
        floor_script = Path(scratch) / "floor.py"
        floor_script.write_text(FLOOR_SCRIPT, encoding="utf-8")
        cache_dir = Path(scratch) / "cache"  # not in the repo nor in the corpus

        # Reading every file once first puts the corpus in the page cache for all that follows.
        for path in files:
            path.read_bytes()
        log("priming numlint's cache (untimed)")
        primed = run([*check, "--cache-dir", str(cache_dir), *dirs], corpus)
        if primed.returncode != 0:
            sys.exit(f"bench: error: numlint exited {primed.returncode}: {primed.stderr.strip()[-500:]}")

        # Rounds interleave the measurements, so a slow spell of a shared machine hits them all
        # alike instead of one of them.
        floor_info: Dict[str, float] = {}
        for index in range(runs):
            log(f"round {index + 1}/{runs}")
            for measure, cmd in (
                (floor, [str(args.python), str(floor_script), str(file_list)]),
                (cold, [*check, "--no-cache", *dirs]),
                (warm, [*check, "--cache-dir", str(cache_dir), *dirs]),
                (serial, [*check, "--jobs", "1", "--no-cache", *dirs]),
            ):
                result = run(cmd, corpus)
                if result.returncode != 0:
                    sys.exit(f"bench: error: {measure.name} exited {result.returncode}: {result.stderr.strip()[-500:]}")
                measure.runs.append(result)
                log(f"  {measure.name:<15} {result.wall:7.2f}s  cpu {result.cpu:7.2f}s  {result.rss_mb:6.0f} MB"
                    f"{others_note(result)}")
            floor_info = json.loads(floor.runs[-1].stdout)

    # Every numlint run must report the same findings, whatever its cache and processes.
    reference = Counter(output_lines(cold.runs[0]))
    differences = 0
    for measure in (cold, warm, serial):
        for result in measure.runs:
            lines = Counter(output_lines(result))
            differences += sum(((reference - lines) + (lines - reference)).values())
    for measure in (cold, warm, serial):
        measure.findings = len(NUMLINT_FINDING.findall(measure.runs[0].stdout))

    peers: List[Measure] = []
    if not args.no_peers:
        peers.append(measure_peer("torchfix", dirs, "torchfix", corpus, peer_runs,
                                  lambda r: len(TORCHFIX_FINDING.findall(r.stdout))))
        # --rules fixit.rules is Fixit's default set, named so that no config above the corpus applies.
        peers.append(measure_peer("fixit", ["--rules", "fixit.rules", "lint", *dirs], "fixit", corpus, peer_runs,
                                  lambda r: len(FIXIT_FINDING.findall(r.stdout))))
        # --isolated: no configuration file of the corpus or above it; --no-cache: a cold run.
        peers.append(measure_peer("ruff", ["check", "--select", "ALL", "--isolated", "--no-cache", "--exit-zero",
                                           "--output-format", "concise", *dirs], "ruff", corpus, peer_runs,
                                  lambda r: int(m.group(1)) if (m := RUFF_FOUND.search(r.stdout)) else None))

    report(info, corpus, files, floor_info, runs, peer_runs, floor, cold, warm, serial, peers, differences, args.json)
    return 1 if differences else 0


def report(info, corpus, files, floor_info, runs, peer_runs, floor, cold, warm, serial, peers, differences,
           json_path) -> None:
    base = floor.wall
    print(f"numlint benchmark, {datetime.date.today().isoformat()}: {len(files):,} files of {corpus}")
    print(f"machine: {info['cores']} cores, {info['cpu']}, {info['os']}")
    print(f"numlint {info['numlint']} ({info['commit']}), libcst {info['libcst']}, Python {info['python']}")
    print(f"floor: {floor_info.get('files', 0):,} files parsed by libcst, {floor_info.get('failed', 0)} failed to parse")
    print(f"medians of {runs} run(s); peers and ruff {peer_runs} run(s); wall time around each subprocess\n")

    # CPU seconds (summed over a run's processes) are shown beside wall time: on a machine that
    # other work shares, wall time swings from run to run while CPU time barely moves.
    rows = []
    for m in (floor, cold, warm, serial, *peers):
        if not m.ok:
            rows.append((m.name, "-", "-", "-", "-", "-", "-", m.note))
            continue
        spread = f"{min(r.wall for r in m.runs):.1f}-{max(r.wall for r in m.runs):.1f}" if len(m.runs) > 1 else ""
        rows.append((m.name, f"{m.wall:.2f}", f"{m.wall / base:.3f}", f"{m.cpu:.2f}", f"{m.cpu / floor.cpu:.3f}",
                     f"{m.rss_mb:.0f}", "-" if m.findings is None else str(m.findings), spread))
    header = ("measurement", "wall s", "x floor", "cpu s", "x floor", "peak RSS MB", "findings", "wall range / note")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(w) if i in (0, 7) else str(cell).rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
    # How much of the machine other processes took while ours ran: a fair run has almost none.
    shares = [r.others / (r.wall * int(info["cores"])) for m in (floor, cold, warm, serial, *peers)
              for r in m.runs if r.others is not None and r.wall > 0]
    if shares and max(shares) > 0.05:
        print(f"note: other processes used up to {max(shares):.0%} of the machine's CPU during a run, so wall "
              f"times are noisy; CPU seconds are much less so")

    print("\ntargets (issue 6):")
    targets = [
        (f"cold <= {COLD_VS_FLOOR} x floor", cold.wall <= COLD_VS_FLOOR * base,
         f"{cold.wall:.2f}s vs {COLD_VS_FLOOR * base:.2f}s ({cold.wall / base:.2f} x floor)"),
        (f"warm <= {WARM_VS_COLD:.0%} of cold", warm.wall <= WARM_VS_COLD * cold.wall,
         f"{warm.wall:.2f}s vs {WARM_VS_COLD * cold.wall:.2f}s ({warm.wall / cold.wall:.1%} of cold)"),
    ]
    for peer in peers:
        if peer.name == "ruff":
            continue
        if peer.ok:
            targets.append((f">= {PEER_SPEEDUP:.0f}x faster than {peer.name}", peer.wall >= PEER_SPEEDUP * cold.wall,
                            f"{peer.name} {peer.wall:.1f}s / cold {cold.wall:.1f}s = {peer.wall / cold.wall:.1f}x"))
        else:
            targets.append((f">= {PEER_SPEEDUP:.0f}x faster than {peer.name}", None, peer.note))
    peak = max(cold.rss_mb, warm.rss_mb, serial.rss_mb)
    targets.append((f"peak RSS <= {RSS_VS_FLOOR} x floor", peak <= RSS_VS_FLOOR * floor.rss_mb,
                    f"{peak:.0f} MB vs {RSS_VS_FLOOR * floor.rss_mb:.0f} MB ({peak / floor.rss_mb:.2f} x floor's "
                    f"{floor.rss_mb:.0f} MB)"))
    for name, passed, detail in targets:
        verdict = "n/a " if passed is None else "PASS" if passed else "FAIL"
        print(f"  {verdict}  {name:<32} {detail}")
    print(f"\nfindings unchanged across cold, warm and serial runs: "
          f"{'OK' if not differences else f'DIFFER ({differences} lines)'} ({cold.findings} findings)")

    if json_path:
        figures = {m.name: {"median_s": m.wall, "runs_s": [r.wall for r in m.runs], "cpu_s": [r.cpu for r in m.runs],
                            "others_cpu_s": [r.others for r in m.runs], "peak_rss_mb": m.rss_mb,
                            "findings": m.findings} if m.ok else {"note": m.note}
                   for m in (floor, cold, warm, serial, *peers)}
        json_path.write_text(json.dumps({"date": datetime.date.today().isoformat(), "machine": info,
                                         "files": len(files), "floor": floor_info, "figures": figures,
                                         "targets": {n: p for n, p, _ in targets},
                                         "findings_differences": differences}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
