"""Jupyter notebooks, checked and fixed by the real command line in a subprocess.

Cells are numbered from 1 among all the notebook's cells, markdown included (as ruff does), and
rows are counted in the cell: `nb.ipynb:cell 3:2:5`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "numlint", "check", "--no-cache", "--quiet", *args],
        cwd=cwd, input=stdin, capture_output=True, env=env, timeout=300,
    )


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8")


def lines(text: str):
    """A cell's source as nbformat stores it: lines ending in \\n, except the last."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": lines(text)}


def code(text: str, outputs=None, as_string: bool = False) -> dict:
    return {
        "cell_type": "code", "execution_count": None, "metadata": {"tags": ["keep-me"]},
        "outputs": outputs or [], "source": text if as_string else lines(text),
    }


def notebook(*cells: dict, indent: int = 1, ensure_ascii: bool = False) -> str:
    document = {
        "cells": list(cells),
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    # nbformat's own layout: sorted keys, one-space indent, raw UTF-8, a final newline
    return json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=ensure_ascii) + "\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


PICTURE = {"output_type": "display_data", "metadata": {},
           "data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
                    "text/plain": ["<Figure>"]}}
PRINTED = {"output_type": "stream", "name": "stdout", "text": ["loss: nan — héllo\n"]}

CROSS_CELL = notebook(
    markdown("# Softmax, then its log\nwhat could go wrong?"),
    code("%matplotlib inline\nimport torch\nimport torch.nn.functional as F\nprobs = F.softmax(logits, dim=-1)"),
    code("log_probs = torch.log(probs)\nlog_probs.mean()", outputs=[PRINTED, PICTURE]),
    code("lse = torch.log(torch.sum(torch.exp(logits), dim=1))"),
)


def test_a_softmax_in_one_cell_logged_in_another_is_found(tmp_path):
    write(tmp_path, "nb.ipynb", CROSS_CELL)
    result = run("--output-format", "concise", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    assert out(result).splitlines() == [
        "nb.ipynb:cell 3:1:13: NUM102 `log(softmax(x))` is -inf once a probability underflows "
        "(float32: logit gap > 104), and its gradient is lost well before",
        "nb.ipynb:cell 4:1:7: NUM101 `log(sum(exp(x)))` overflows to inf once any x > 88.7 (float32) "
        "and is -inf when every x < -104",
    ]


def test_full_output_shows_the_cells_own_lines(tmp_path):
    write(tmp_path, "nb.ipynb", CROSS_CELL)
    text = out(run("nb.ipynb", cwd=tmp_path))
    assert "nb.ipynb:cell 3:1:13: NUM102" in text
    assert "1 | log_probs = torch.log(probs)\n  |             ^^^^^^^^^^^^^^^^ NUM102" in text
    assert "= fix: Replace with `F.log_softmax(logits, dim=-1)`" in text


def test_json_has_the_cell_and_rows_in_it(tmp_path):
    write(tmp_path, "nb.ipynb", CROSS_CELL)
    records = json.loads(out(run("--output-format", "json", "nb.ipynb", cwd=tmp_path)))
    first = records[0]
    assert (first["cell"], first["code"], first["location"], first["noqa_row"]) == (
        3, "NUM102", {"row": 1, "column": 13}, 1)
    edits = {(e["cell"], e["location"]["row"], e["content"]) for e in first["fix"]["edits"]}
    # the fix also deletes `probs = ...` in cell 2, its only use being replaced
    assert edits == {(3, 1, "F.log_softmax(logits, dim=-1)"), (2, 4, "")}


@pytest.mark.parametrize("output_format, expected", [
    pytest.param("github", "::error file=nb.ipynb,line=1,col=13,endLine=1,endColumn=29,"
                           "title=NUM102 (log-softmax)::cell 3: `log(softmax(x))`", id="github"),
    pytest.param("junit", 'name="NUM102 (log-softmax) at cell 3:1:13"', id="junit"),
    pytest.param("gitlab", '"description": "NUM102 cell 3: `log(softmax(x))`', id="gitlab"),
    pytest.param("sarif", '"text": "cell 3: `log(softmax(x))`', id="sarif"),
])
def test_ci_formats_name_the_cell(tmp_path, output_format, expected):
    write(tmp_path, "nb.ipynb", CROSS_CELL)
    assert expected in out(run("--output-format", output_format, "nb.ipynb", cwd=tmp_path))


IPYTHON = notebook(
    code("%matplotlib inline\n%load_ext autoreload\nimport numpy as np\n!pip install -q scipy\n"
         "files = !ls *.csv\nnp.exp?\n??np.log\nnp.*exp*?"),
    code("for name in files:\n    !wc -l {name}\n    %time total = np.log(np.sum(np.exp(x)))\n"
         "y = np.log(np.sum(np.exp(x)))"),
    code("%%bash\necho 'np.log(np.sum(np.exp(x)))'"),
    code("%%time\nz = np.log(np.sum(np.exp(x)))"),
    code('def f(a):\n    """Is this a question?\n    np.log?"""\n    message = (\n        "%s"\n        % a\n    )\n'
         "    return np.log(np.sum(np.exp(a)))"),
    code("t = %timeit -o np.log(np.sum(np.exp(x)))\nawait_me = 1"),
)


def test_magics_shell_and_help_lines_are_skipped_and_positions_kept(tmp_path):
    write(tmp_path, "nb.ipynb", IPYTHON)
    result = run("--output-format", "concise", "--select", "NUM101", "nb.ipynb", cwd=tmp_path)
    assert result.stderr == b""
    places = [line.split(": NUM101")[0] for line in out(result).splitlines()]
    assert places == ["nb.ipynb:cell 2:4:5", "nb.ipynb:cell 4:2:5", "nb.ipynb:cell 5:8:12"]


def test_fix_rewrites_only_the_changed_cells(tmp_path):
    path = write(tmp_path, "nb.ipynb", CROSS_CELL)
    result = run("--fix", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, out(result)
    after = path.read_text(encoding="utf-8")
    # Every byte is the same except the source lines that changed.
    expected = (
        CROSS_CELL
        .replace('    "import torch.nn.functional as F\\n",\n    "probs = F.softmax(logits, dim=-1)"\n',
                 '    "import torch.nn.functional as F"\n')
        .replace('"log_probs = torch.log(probs)\\n"', '"log_probs = F.log_softmax(logits, dim=-1)\\n"')
        .replace('"lse = torch.log(torch.sum(torch.exp(logits), dim=1))"', '"lse = torch.logsumexp(logits, dim=1)"')
    )
    assert after == expected
    document = json.loads(after)
    assert document["cells"][2]["outputs"] == [PRINTED, PICTURE]
    assert_nbformat_shaped(document)
    again = run("--fix", "nb.ipynb", cwd=tmp_path)
    assert again.returncode == 0 and path.read_text(encoding="utf-8") == after, out(again)


def test_fix_keeps_another_layout_string_sources_and_ascii_escapes(tmp_path):
    original = notebook(
        code("import numpy as np\n# héllo\ny = np.log(np.sum(np.exp(x)))", as_string=True, outputs=[PRINTED]),
        indent=2, ensure_ascii=True,
    ).rstrip("\n")  # and no final newline
    path = write(tmp_path, "nb.ipynb", original)
    assert run("--fix", "nb.ipynb", cwd=tmp_path).returncode == 0
    assert path.read_text(encoding="utf-8") == original.replace(
        "np.log(np.sum(np.exp(x)))", "np.logaddexp.reduce(x, axis=None)")


def test_fix_keeps_ipython_lines_and_adds_imports_to_the_imports_cell(tmp_path):
    path = write(tmp_path, "nb.ipynb", notebook(
        code("%load_ext autoreload\nimport jax.numpy as jnp"),
        code("!echo hi\nfiles = !ls\nlse = jnp.log(jnp.exp(x).sum(axis=0))\nlse?"),
    ))
    assert run("--fix", "nb.ipynb", cwd=tmp_path).returncode == 0
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert cells[0]["source"] == ["%load_ext autoreload\n", "import jax.numpy as jnp\n", "import jax.nn"]
    assert cells[1]["source"] == ["!echo hi\n", "files = !ls\n", "lse = jax.nn.logsumexp(x, axis=0)\n", "lse?"]


def test_diff_shows_each_changed_cell_and_writes_nothing(tmp_path):
    path = write(tmp_path, "nb.ipynb", CROSS_CELL)
    result = run("--diff", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    assert path.read_text(encoding="utf-8") == CROSS_CELL
    text = out(result)
    assert "--- a/nb.ipynb:cell 3\n+++ b/nb.ipynb:cell 3\n" in text
    assert "-log_probs = torch.log(probs)\n+log_probs = F.log_softmax(logits, dim=-1)\n" in text
    assert " %matplotlib inline\n" in text  # cell 2's IPython line, as the user wrote it
    assert "cell 1" not in text


def test_a_cell_that_does_not_parse_is_reported_and_the_others_checked_and_fixed(tmp_path):
    path = write(tmp_path, "nb.ipynb", notebook(
        code("import numpy as np"),
        code("x = = 1\nnp.log(np.sum(np.exp(x)))"),
        code("y = np.log(np.sum(np.exp(x)))"),
    ))
    result = run("--output-format", "concise", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    assert out(result).splitlines() == [
        "nb.ipynb:cell 2:1:5: error: cannot parse this cell (not checked): invalid syntax",
        "nb.ipynb:cell 3:1:5: NUM101 `log(sum(exp(x)))` overflows to inf once any x > 88.7 (float32) "
        "and is -inf when every x < -104",
    ]
    run("--fix", "nb.ipynb", cwd=tmp_path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert cells[1]["source"] == ["x = = 1\n", "np.log(np.sum(np.exp(x)))"]
    assert cells[2]["source"] == ["y = np.logaddexp.reduce(x, axis=None)"]


@pytest.mark.parametrize("content, message", [
    pytest.param(b'{"cells": [', "not a notebook: invalid JSON: Expecting value (line 1, column 12)", id="bad-json"),
    pytest.param(b'{"nbformat": 3, "worksheets": []}', "not an nbformat 4 notebook (nbformat 3)", id="nbformat-3"),
    pytest.param(b"[1, 2]", "not a notebook: no `cells` list", id="a-list"),
    pytest.param(b'{"cells": [{"cell_type": "code", "source": 3}], "nbformat": 4}',
                 "not an nbformat 4 notebook: the source of cell 1 is not text", id="source-not-text"),
    pytest.param(b'{"cells": [], "nbformat": 4, "x": "\xff"}', "not a notebook: cannot decode as UTF-8", id="not-utf8"),
])
def test_a_malformed_notebook_is_one_line_and_the_run_goes_on(tmp_path, content, message):
    (tmp_path / "bad.ipynb").write_bytes(content)
    write(tmp_path, "good.ipynb", CROSS_CELL)
    for args in ((), ("--fix",)):
        result = run("--output-format", "concise", *args, "bad.ipynb", "good.ipynb", cwd=tmp_path)
        assert result.returncode == 1 and result.stderr == b"", result.stderr
        reported = out(result).splitlines()
        assert reported[0].startswith(f"bad.ipynb:1:1: error: {message}"), reported
        assert "Traceback" not in out(result)
    assert (tmp_path / "bad.ipynb").read_bytes() == content
    assert "F.log_softmax" in (tmp_path / "good.ipynb").read_text(encoding="utf-8")


def test_folders_include_notebooks_but_not_checkpoints_or_excluded_ones(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.numlint]\nextend-exclude = ["scratch"]\n')
    for folder in ("", ".ipynb_checkpoints/", "scratch/"):
        (tmp_path / folder).mkdir(exist_ok=True)
        write(tmp_path, folder + "nb.ipynb", CROSS_CELL)
    result = run("--output-format", "concise", ".", cwd=tmp_path)
    files = {line.split(":")[0] for line in out(result).splitlines()}
    assert files == {"nb.ipynb"}


def test_notebooks_in_other_languages_are_skipped(tmp_path):
    document = json.loads(CROSS_CELL)
    document["metadata"]["language_info"] = {"name": "R"}
    write(tmp_path, "r.ipynb", json.dumps(document))
    result = run("r.ipynb", cwd=tmp_path)
    assert result.returncode == 0, out(result)


def test_standard_input(tmp_path):
    data = CROSS_CELL.encode("utf-8")
    checked = run("--output-format", "concise", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, stdin=data)
    assert out(checked).startswith("nb.ipynb:cell 3:1:13: NUM102")
    fixed = run("--fix", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, stdin=data)
    document = json.loads(fixed.stdout)
    assert document["cells"][2]["source"][0] == "log_probs = F.log_softmax(logits, dim=-1)\n"


def test_worker_processes_and_the_cache_give_the_same_findings(tmp_path):
    for i in range(10):
        write(tmp_path, f"nb{i}.ipynb", CROSS_CELL)
    (tmp_path / "pyproject.toml").write_text("[tool.numlint]\n")
    serial = out(run("--output-format", "concise", "-j", "1", ".", cwd=tmp_path))
    env = dict(os.environ, NO_COLOR="1")
    cached = [
        subprocess.run([sys.executable, "-m", "numlint", "check", "--output-format", "concise", "--quiet", "-j", "2", "."],
                       cwd=tmp_path, capture_output=True, env=env, timeout=300).stdout.decode()
        for _ in range(2)  # the first fills the cache, the second reads it
    ]
    assert serial.count("cell 3:1:13") == 10
    assert cached == [serial, serial]


def assert_nbformat_shaped(document: dict) -> None:
    assert document["nbformat"] == 4 and isinstance(document["metadata"], dict)
    for cell in document["cells"]:
        assert cell["cell_type"] in ("code", "markdown", "raw")
        assert isinstance(cell["source"], (str, list)) and all(isinstance(s, str) for s in cell["source"])
        if isinstance(cell["source"], list):
            assert all(s.endswith("\n") for s in cell["source"][:-1])
            assert not cell["source"] or not cell["source"][-1].endswith("\n")
        if cell["cell_type"] == "code":
            assert isinstance(cell["outputs"], list) and "execution_count" in cell
    try:
        import nbformat
    except ImportError:
        return
    nbformat.validate(nbformat.from_dict(document))


def test_the_example_notebook(tmp_path):
    target = tmp_path / "notebook_attention.ipynb"
    target.write_bytes((ROOT / "examples" / "notebook_attention.ipynb").read_bytes())
    checked = run("--output-format", "concise", target.name, cwd=tmp_path)
    assert [line.split(" `")[0] for line in out(checked).splitlines()] == [
        "notebook_attention.ipynb:cell 5:1:17: NUM102",
        "notebook_attention.ipynb:cell 6:2:7: NUM101",
    ]
    assert run("--fix", target.name, cwd=tmp_path).returncode == 0
    assert_nbformat_shaped(json.loads(target.read_text(encoding="utf-8")))


def _split_into_cells(text: str):
    """A script cut before each top-level statement that starts a new paragraph: (first row, source)."""
    import ast

    rows = text.splitlines(keepends=True)
    starts = [node.lineno for node in ast.parse(text).body if node.lineno == 1 or not rows[node.lineno - 2].strip()]
    bounds = [1, *(s for s in starts if s > 1), len(rows) + 1]
    return [(a, "".join(rows[a - 1:b - 1])) for a, b in zip(bounds, bounds[1:]) if a < b]


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_a_script_cut_into_cells_gets_the_same_findings_and_fixes(tmp_path, example):
    text = (ROOT / "examples" / example).read_text(encoding="utf-8")
    cells = _split_into_cells(text)
    assert len(cells) > 1
    (tmp_path / example).write_text(text, encoding="utf-8")
    write(tmp_path, "nb.ipynb", notebook(*(code(source) for _, source in cells)))
    as_script = json.loads(out(run("--output-format", "json", "--unsafe-fixes", example, cwd=tmp_path)))
    as_notebook = json.loads(out(run("--output-format", "json", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)))
    first_rows = {number: row for number, (row, _) in enumerate(cells, start=1)}
    assert [(r["code"], r["location"]["row"], r["location"]["column"]) for r in as_script] == [
        (r["code"], first_rows[r["cell"]] + r["location"]["row"] - 1, r["location"]["column"]) for r in as_notebook]
    run("--fix", "--unsafe-fixes", example, "nb.ipynb", cwd=tmp_path)
    fixed = json.loads((tmp_path / "nb.ipynb").read_text(encoding="utf-8"))["cells"]
    assert "".join("".join(cell["source"]) for cell in fixed) == (tmp_path / example).read_text(encoding="utf-8")


def test_future_imports_await_and_return_in_cells(tmp_path):
    path = write(tmp_path, "nb.ipynb", notebook(
        code("%load_ext autoreload\nfrom __future__ import annotations\nimport numpy as np"),
        code("from __future__ import division\ny = np.log(np.sum(np.exp(x)))"),  # legal at the top of a cell
        code("await asyncio.sleep(0)\nz = np.log(np.sum(np.exp(x)))"),  # IPython's autoawait: not read
        code("return 1"),
    ))
    result = run("--output-format", "concise", "--fix", "nb.ipynb", cwd=tmp_path)
    assert out(result).splitlines() == ["nb.ipynb:cell 4:1:1: error: cannot parse this cell (not checked): "
                                        "'return' outside function"]
    cells = [cell["source"] for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    assert cells[1] == ["from __future__ import division\n", "y = np.logaddexp.reduce(x, axis=None)"]
    assert cells[2] == ["await asyncio.sleep(0)\n", "z = np.log(np.sum(np.exp(x)))"]


def test_fix_keeps_an_unusual_list_layout(tmp_path):
    original = (
        '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],\n'
        '  "source": [ "import numpy as np\\n",\n              "y = np.log(np.sum(np.exp(x)))" ]}],\n'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    path = write(tmp_path, "nb.ipynb", original)
    assert run("--fix", "nb.ipynb", cwd=tmp_path).returncode == 0
    assert path.read_text(encoding="utf-8") == original.replace(
        "np.log(np.sum(np.exp(x)))", "np.logaddexp.reduce(x, axis=None)")
