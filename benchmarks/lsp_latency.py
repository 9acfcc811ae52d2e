#!/usr/bin/env python3
"""Editor latency of `numlint server`: the time from a `didChange` to the `publishDiagnostics`
for that version, over a real JSON-RPC session with the real server process.

    .venv/bin/python benchmarks/lsp_latency.py [--sizes 500,2000,10000] [--edits 20] [--bursts 5]
                                               [--source script,library] [--worker process|thread]

For each source and size it opens one document and measures:
  open      the first check (the worker has started, nothing is warm yet)
  edit      single edits, one at a time (a line inserted, then removed again), --edits of them
  burst     --bursts bursts of 20 edits --gap seconds apart (a line typed character by character),
            timed from the last edit of the burst; with the number of checks each burst cost
  hover     hover requests on another, small document while the big one is being checked: the
            time each waits for its answer (the loop must stay free while a check runs)

Sources:
  library   real modules of the pinned corpus (benchmarks/corpus.py) of about that size:
            transformers' apertus (484 lines), wav2vec2 (2,026) and keras' ops/numpy.py
            (10,033), which have no finding; skipped without the corpus
  finding   the same modules with one hazard added at the end (a 2-line function): positions
            are computed for the statements holding a finding (positions.py)
  script    examples/*.py (training scripts written to show hazards) stitched to the size,
            top-level names renamed per copy: a worst case of one finding per 13 lines; not
            measured above --script-max lines (a 10,000-line one takes about 10 s per check)

CPU is the server's and its worker's (from /proc, Linux), per edit or per burst; "others" is what
the rest of the machine used meanwhile (from /proc/stat): on a shared machine, read the CPU
figures and say how busy the machine was. The check counts come from the server's $/logTrace
messages (the client asks for trace "messages").
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from corpus import default_dest  # noqa: E402

TIMEOUT = 120.0
LIBRARY = {
    500: "transformers-5.24.0/transformers/models/apertus/modeling_apertus.py",
    2000: "transformers-5.24.0/transformers/models/wav2vec2/modeling_wav2vec2.py",
    10000: "keras-3.15.1/keras/src/ops/numpy.py",
}
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# -- the client ---------------------------------------------------------------------------------


class Session:
    def __init__(self, cwd: Path, worker: str) -> None:
        env = dict(os.environ)
        if worker == "thread":
            env["NUMLINT_LSP_WORKER"] = "thread"
        self.process = subprocess.Popen([sys.executable, "-m", "numlint", "server"], cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.inbox: "queue.Queue[tuple]" = queue.Queue()
        self.next_id = 0
        self.checks = 0  # "check #N" traces seen
        self.unread: List[tuple] = []  # messages read while waiting for another
        self.check_cpu: List[float] = []  # ms of CPU each check took in the worker (its own figure)
        self.parsed_rows: List[int] = []  # rows libcst parsed in each check (the worker reuses the rest)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put((time.perf_counter(), None))
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            message = json.loads(out.read(length))
            if message.get("method") == "$/logTrace" and "check #" in message["params"]["message"]:
                self.checks += 1
                found = re.search(r"(\d+) ms CPU in the worker", message["params"]["message"])
                if found:
                    self.check_cpu.append(float(found.group(1)))
                rows = re.search(r"(\d+) rows parsed", message["params"]["message"])
                if rows:
                    self.parsed_rows.append(int(rows.group(1)))
            self.inbox.put((time.perf_counter(), message))

    def send(self, message: dict) -> float:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return time.perf_counter()

    def wait(self, matches) -> tuple:
        for entry in self.unread:
            if matches(entry[1]):
                self.unread.remove(entry)
                return entry
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                at, message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit("no answer from the server within %.0f s" % TIMEOUT) from None
            if message is None:
                raise SystemExit("the server exited")
            if "id" in message and "method" in message:
                self.send({"id": message["id"], "result": None})
            elif matches(message):
                return at, message
            else:
                self.unread.append((at, message))

    def arrived(self, matches) -> bool:
        """Has a matching message come (without waiting for one)?"""
        while True:
            try:
                entry = self.inbox.get_nowait()
            except queue.Empty:
                break
            if entry[1] is not None:
                self.unread.append(entry)
        return any(matches(message) for _, message in self.unread)

    def request(self, method: str, params) -> tuple:
        self.next_id += 1
        ident = self.next_id
        sent = self.send({"id": ident, "method": method, "params": params})
        at, message = self.wait(lambda m: m.get("id") == ident and "method" not in m)
        return at - sent, message.get("result")

    def diagnostics(self, uri: str, version: int) -> tuple:
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri and m["params"].get("version") == version)

    def change(self, uri: str, version: int, line: int, character: int, end_line: int, end_character: int,
               text: str) -> float:
        return self.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": character},
                                          "end": {"line": end_line, "character": end_character}}, "text": text}],
        }})

    def cpu(self) -> float:
        """CPU seconds of the server and its children still running (the worker)."""
        pids = [self.process.pid] + children(self.process.pid)
        return sum(process_cpu(pid) for pid in pids)

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.send({"method": "exit", "params": None})
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
            self.process.wait()


def children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                pass
    except OSError:
        pass
    return found


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def machine_busy() -> Optional[float]:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(v) for v in fields[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


# -- documents ----------------------------------------------------------------------------------


def script_text(lines: int) -> str:
    """examples/*.py, stitched: each copy's top-level functions and classes renamed."""
    sources = [p.read_text() for p in sorted((REPO / "examples").glob("*.py"))]
    parts: List[str] = []
    count = 0
    copy = 0
    while count < lines:
        for text in sources:
            if copy:
                names = [node.name for node in ast.parse(text).body
                         if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
                for name in names:
                    text = re.sub(rf"\b{re.escape(name)}\b", f"{name}_{copy}", text)
            parts.append(text if text.endswith("\n") else text + "\n")
            count += text.count("\n")
            if count >= lines:
                break
        copy += 1
    return "".join(parts)


def library_text(size: int, corpus: Path) -> Optional[str]:
    path = corpus / LIBRARY[size] if size in LIBRARY else None
    return path.read_text() if path is not None and path.is_file() else None


HAZARD = "\n\ndef _log_sum_exp(x):\n    return torch.log(torch.sum(torch.exp(x), dim=1))\n"


def source_text(source: str, size: int, args) -> Optional[str]:
    if source == "script":
        return script_text(size) if size <= args.script_max else None
    text = library_text(size, args.corpus)
    if text is not None and source == "finding":
        text = "import torch\n" + text.rstrip("\n") + HAZARD
    return text


def top_level_line(text: str) -> int:
    """A line in the middle of the text where a new top-level statement may go."""
    body = ast.parse(text).body
    starts = [node.lineno - 1 - len(getattr(node, "decorator_list", []) or []) for node in body]
    middle = text.count("\n") // 2
    return min(starts, key=lambda line: abs(line - middle))


# -- measuring ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(text: str, label: str, args, work: Path) -> Dict[str, object]:
    path = work / f"{label}.py"
    uri = path.as_uri()
    small = work / "small.py"
    session = Session(work, args.worker)
    try:
        session.request("initialize", {"processId": os.getpid(), "rootUri": work.as_uri(), "capabilities": {},
                                       "trace": "messages"})
        session.send({"method": "initialized", "params": {}})
        sent = session.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": small.as_uri(), "languageId": "python", "version": 1,
            "text": "import torch\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"}}})
        session.diagnostics(small.as_uri(), 1)
        sent = session.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}}})
        at, message = session.diagnostics(uri, 1)
        result: Dict[str, object] = {"lines": text.count("\n"), "open_ms": 1000 * (at - sent),
                                     "findings": len(message["params"]["diagnostics"])}
        version = 1
        line = top_level_line(text)

        # Single edits: insert a statement, then take it out again (the text keeps its size).
        latencies, cpus, checks = [], [], []
        first_check = len(session.check_cpu)
        first_parse = len(session.parsed_rows)
        for index in range(args.edits):
            version += 1
            cpu, counted = session.cpu(), session.checks
            if index % 2 == 0:
                sent = session.change(uri, version, line, 0, line, 0, f"_edit_{index} = {index}\n")
            else:
                sent = session.change(uri, version, line, 0, line + 1, 0, "")
            at, _ = session.diagnostics(uri, version)
            latencies.append(1000 * (at - sent))
            time.sleep(0.05)  # let the CPU figures settle (the trace comes just after the publish)
            cpus.append(1000 * (session.cpu() - cpu))
            checks.append(session.checks - counted)
            time.sleep(0.15)  # a pause between edits, as between a user's keystroke bursts
        if args.edits % 2:  # take the last insert out again
            version += 1
            session.change(uri, version, line, 0, line + 1, 0, "")
            session.diagnostics(uri, version)
        result.update(edit_ms=latencies, edit_cpu_ms=cpus, edit_checks=checks,
                      check_cpu_ms=session.check_cpu[first_check:], parsed_rows=session.parsed_rows[first_parse:])

        # Bursts: a line typed character by character, --gap seconds apart.
        burst_latencies, burst_from_first, burst_cpus, burst_checks, burst_gaps = [], [], [], [], []
        for burst in range(args.bursts):
            typed = f"b{burst % 10} = " + "9" * (args.burst_size - 5)
            time.sleep(0.2)
            cpu, counted = session.cpu(), session.checks
            first = None
            sends = []
            for index, char in enumerate(typed[: args.burst_size]):
                version += 1
                if index == 0:
                    sent = session.change(uri, version, line, 0, line, 0, char + "\n")
                    first = sent
                else:
                    sent = session.change(uri, version, line, index, line, index, char)
                sends.append(sent)
                if index < args.burst_size - 1:
                    time.sleep(args.gap)
            at, _ = session.diagnostics(uri, version)
            burst_latencies.append(1000 * (at - sent))
            burst_from_first.append(1000 * (at - first))
            time.sleep(0.05)
            burst_cpus.append(1000 * (session.cpu() - cpu))
            burst_checks.append(session.checks - counted)
            # On a busy machine the client itself may pause longer than the debounce within a burst.
            burst_gaps.append(1000 * max((b - a for a, b in zip(sends, sends[1:])), default=0.0))
            version += 1
            session.change(uri, version, line, 0, line + 1, 0, "")  # take the typed line out
            session.diagnostics(uri, version)
        result.update(burst_ms=burst_latencies, burst_from_first_ms=burst_from_first, burst_cpu_ms=burst_cpus,
                      burst_checks=burst_checks, burst_gap_ms=burst_gaps)

        # Hover on the small document while the big one is being checked.
        hovers = []
        for index in range(args.hover_rounds):
            time.sleep(0.2)
            version += 1
            session.change(uri, version, line, 0, line, 0, f"_hover_{index} = {index}\n")
            time.sleep(0.06)  # past the debounce: the check has started
            def published(m, version=version):
                return (m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                        and m["params"].get("version") == version)

            while not session.arrived(published):
                took, _ = session.request("textDocument/hover", {"textDocument": {"uri": small.as_uri()},
                                                                  "position": {"line": 1, "character": 10}})
                hovers.append(1000 * took)
                time.sleep(0.02)
            session.diagnostics(uri, version)
            version += 1
            session.change(uri, version, line, 0, line + 1, 0, "")
            session.diagnostics(uri, version)
        result["hover_ms"] = hovers
        return result
    finally:
        session.close()


def summary(result: Dict[str, object]) -> Dict[str, float]:
    out: Dict[str, float] = {"lines": result["lines"], "findings": result["findings"], "open_ms": result["open_ms"]}
    for key in ("edit_ms", "edit_cpu_ms", "check_cpu_ms", "parsed_rows", "burst_ms", "burst_from_first_ms",
                "burst_cpu_ms", "hover_ms"):
        values = result.get(key)
        if values:
            out[f"{key}_median"] = statistics.median(values)
            out[f"{key}_p90"] = percentile(values, 0.9)
            out[f"{key}_max"] = max(values)
    for key in ("edit_checks", "burst_checks"):
        values = result[key]
        if values:
            out[f"{key}_mean"] = statistics.mean(values)
            out[f"{key}_max"] = max(values)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2000,10000")
    parser.add_argument("--source", default="library,finding,script")
    parser.add_argument("--script-max", type=int, default=2000, help="largest script size to measure")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--burst-size", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between the edits of a burst")
    parser.add_argument("--hover-rounds", type=int, default=3)
    parser.add_argument("--worker", choices=("process", "thread"), default="process")
    parser.add_argument("--corpus", type=Path, default=default_dest())
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    load_before = os.getloadavg()
    busy_before = machine_busy()
    own_cpu = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="numlint-lsp-bench-") as folder:
        work = Path(folder)
        for source in args.source.split(","):
            for size in sizes:
                text = source_text(source, size, args)
                if text is None:
                    print(f"skipping {source} {size}", file=sys.stderr)
                    continue
                print(f"measuring {source} {size} ({text.count(chr(10))} lines) ...", file=sys.stderr, flush=True)
                before = os.times()
                result = measure(text, f"{source}_{size}", args, work)
                after = os.times()
                own_cpu += (after.children_user - before.children_user) + (after.children_system - before.children_system)
                rows.append({"source": source, "size": size, **summary(result), "raw": result})
    wall = time.perf_counter() - started
    busy_after = machine_busy()
    load_after = os.getloadavg()
    self_cpu = sum(os.times()[:2])
    others = None if busy_before is None or busy_after is None else max(0.0, busy_after - busy_before - own_cpu - self_cpu)

    print(f"\nnumlint server latency, worker={args.worker}; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after; other processes used {others if others is not None else float('nan'):.0f} "
          f"CPU s of {wall * (os.cpu_count() or 1):.0f} over {wall:.0f} s")
    header = ("source", "lines", "open", "edit med", "edit p90", "edit CPU", "check CPU", "rows parsed", "burst med",
              "burst p90", "burst CPU", "checks/burst", "hover med", "hover max")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join([
            row["source"], f"{row['lines']:,}", f"{row['open_ms']:.0f}",
            f"{row['edit_ms_median']:.0f}", f"{row['edit_ms_p90']:.0f}", f"{row['edit_cpu_ms_median']:.0f}",
            f"{row.get('check_cpu_ms_median', float('nan')):.0f}",
            f"{row['parsed_rows_median']:.0f}" if "parsed_rows_median" in row else "—",
            f"{row['burst_ms_median']:.0f}", f"{row['burst_ms_p90']:.0f}", f"{row['burst_cpu_ms_median']:.0f}",
            f"{row['burst_checks_mean']:.1f} (max {row['burst_checks_max']})",
            # no hover lands during a check that ends before the first one is sent (60 ms after the edit)
            f"{row['hover_ms_median']:.0f}" if "hover_ms_median" in row else "—",
            f"{row['hover_ms_max']:.0f}" if "hover_ms_max" in row else "—",
        ]) + " |")
    for row in rows:
        raw = row["raw"]
        for checks, gap in zip(raw["burst_checks"], raw["burst_gap_ms"]):
            if checks > 1:
                print(f"{row['source']} {row['lines']:,}: a burst cost {checks} checks; the longest pause between "
                      f"its edits was {gap:.0f} ms (the debounce is 30 ms)")
    print("(milliseconds, medians unless p90/max; edit and burst CPU: the server's and the worker's together;\n"
          " check CPU: what the worker's own check took, as it reports it; rows parsed: by libcst per single edit,\n"
          " the worker reusing the previous version's tree for the rest)")
    if args.json:
        args.json.write_text(json.dumps({"worker": args.worker, "load": [load_before, load_after], "others_cpu_s": others,
                                         "wall_s": wall, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
