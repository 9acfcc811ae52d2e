"""README.md's rule table is generated from `rules/` (`[docs] finds` and `stable-form`), like
docs/rules.md: these tests fail when the two drift apart. All in-process and fast."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from numlint.cli import main
from numlint.explain import README_BEGIN, README_END, readme_block, rules_readme, update_readme
from numlint.rules import RuleError, load_rule, registry

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "run `numlint rules --output-format readme --update README.md`"


def test_readme_rule_table_is_generated_from_rules():
    actual = readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert actual, f"README.md has no rule table between {README_BEGIN!r} and {README_END!r}"
    assert actual == rules_readme(registry()), f"README.md's rule table is stale: {REGENERATE}"


def test_every_rule_has_its_table_cells():
    missing = [f"{r.code}: {key}" for r in registry().values() for key in ("finds", "stable-form") if not r.docs.get(key)]
    assert not missing, f"each rule's [docs] needs `finds` and `stable-form` (README's rule table): {missing}"


def test_the_table_lists_every_rule_and_names_every_opt_in_rule():
    rules = registry()
    block = rules_readme(rules)
    for rule in rules.values():
        row = next(line for line in block.splitlines() if line.startswith(f"| [{rule.code}]("))
        assert (" (opt-in) |" in row) == (not rule.default), row
    sentence = next(line for line in block.splitlines() if "are opt-in (`--select` them)" in line)
    for rule in rules.values():
        assert (rule.code in sentence) == (not rule.default), rule.code


def test_update_replaces_only_the_marked_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\r\n\r\n{README_BEGIN}\r\nold table\r\n{README_END}\r\n\r\nafter\r\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "--output-format", "readme", "--update", str(readme)])
    assert result.exit_code == 0, result.output
    text = readme.read_bytes().decode("utf-8")
    assert text.startswith("# title\r\n\r\n") and text.endswith("\r\n\r\nafter\r\n")
    assert readme_block(text) == rules_readme(registry()).replace("\n", "\r\n") and "old table" not in text


def test_update_needs_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "--output-format", "readme", "--update", str(readme)])
    assert result.exit_code != 0 and readme.read_text(encoding="utf-8") == "# no markers\n"
    with pytest.raises(ValueError):
        update_readme(f"{README_END}\n{README_BEGIN}\n", "x\n")


def test_a_table_cell_is_one_line(tmp_path):
    rule = (ROOT / "rules" / "NUM108-log-exp.toml").read_text(encoding="utf-8")
    path = tmp_path / "NUM108.toml"
    path.write_text(rule.replace("[docs]\n", '[docs]\nstable-form = """two\nlines"""\n', 1).replace(
        "\nstable-form = '`x`'", ""), encoding="utf-8")
    with pytest.raises(RuleError, match="stable-form must be one line"):
        load_rule(path)
