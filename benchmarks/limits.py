"""Time and peak memory of `numlint check` per MB of input: the figures behind limits.py.

Generates files of increasing size in three shapes — dense numeric code with a finding every few
lines, the same code without findings, one long line of data — runs `numlint check --no-cache
-j 1` on each in a subprocess with the size limits lifted, and prints wall time and peak RSS (from
wait4), per file and per MB. Also the floor: libcst alone parsing the same file.

    python benchmarks/limits.py                  # 0.25, 0.5 and 1 MB
    python benchmarks/limits.py --sizes 0.1 0.2
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = "import torch\nimport torch.nn.functional as F\n"
HAZARDOUS = '''
def layer_{i}(x, w, b):
    h = torch.matmul(x, w) + b
    z = torch.log(torch.sum(torch.exp(h), dim=1))
    p = F.softmax(h, dim=-1)
    return z, torch.log(p), h.mean(dim=0)
'''
CLEAN = '''
def layer_{i}(x, w, b):
    h = torch.matmul(x, w) + b
    z = torch.logsumexp(h, dim=1)
    p = F.log_softmax(h, dim=-1)
    return z, p, h.mean(dim=0)
'''


def _code(block: str, size: float) -> str:
    parts, length, i = [HEAD], len(HEAD), 0
    while length < size * 1e6:
        text = block.format(i=i)
        parts.append(text)
        length += len(text)
        i += 1
    return "".join(parts)


def _data_line(size: float) -> str:
    rng = random.Random(0)
    values = ", ".join(str(rng.randint(1000, 9999)) for _ in range(int(size * 1e6 / 6)))
    return HEAD + f"table = [{values}]\ny = torch.log(torch.sum(torch.exp(x), dim=1))\n"


SHAPES = {"code with findings": lambda s: _code(HAZARDOUS, s), "code without findings": lambda s: _code(CLEAN, s),
          "one long line": _data_line}


# numlint with its size limits lifted, to measure what they protect against.
BEYOND_LIMITS = (
    "import sys; from numlint import limits; limits.MAX_CHARACTERS = limits.MAX_LINE = 1 << 40; "
    "from numlint.cli import main; sys.argv[0] = 'numlint'; main()"
)


def _run(command, cwd) -> tuple:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    err = process.stderr.read().decode()
    process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024, process.returncode, err  # MB (Linux: ru_maxrss in KB)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="*", default=[0.25, 0.5, 1.0], help="MB of text")
    parser.add_argument("--no-floor", action="store_true", help="skip libcst alone")
    args = parser.parse_args()
    print(f"{'shape':<24}{'MB':>6}{'numlint s':>11}{'RSS MB':>9}{'s/MB':>7}{'RSS/MB':>8}{'libcst s':>10}{'RSS MB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for shape, make in SHAPES.items():
            for size in args.sizes:
                text = make(size)
                path = Path(folder) / "m.py"
                path.write_text(text)
                mb = len(text.encode()) / 1e6
                elapsed, rss, code, err = _run([sys.executable, "-c", BEYOND_LIMITS, "check", "--no-cache", "-j", "1",
                                                "--output-format", "concise", str(path)], folder)
                if code not in (0, 1) or err:
                    print(f"{shape}: exit {code}: {err.strip()[:200]}")
                floor = ("", "")
                if not args.no_floor:
                    f_elapsed, f_rss, _, _ = _run([sys.executable, "-c", f"import libcst; libcst.parse_module(open({str(path)!r}).read())"], folder)
                    floor = (f"{f_elapsed:10.1f}", f"{f_rss:9.0f}")
                print(f"{shape:<24}{mb:6.2f}{elapsed:11.1f}{rss:9.0f}{elapsed / mb:7.1f}{rss / mb:8.0f}{floor[0]}{floor[1]}", flush=True)


if __name__ == "__main__":
    main()
