"""Rules are data: one TOML file per rule in `rules/`, read into frozen `Rule` values.

The registry is built by reading the folder, never from a hand-kept list. See
`docs/writing-rules.md` for the format.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

from numlint import bindings, patterns
from numlint.diagnostics import DISPLAY_ONLY, SAFE, UNSAFE
from numlint.patterns import Pattern, PatternError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons
    import tomli as tomllib

CODE = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SAFETIES = (SAFE, UNSAFE, DISPLAY_ONLY)
# Ops that can be written with an operator (`**`, `*`, `-`): a file needs no name to hold them.
_OPERATOR_OPS = frozenset({"add", "sub", "mul", "div", "neg", "pow", "square", "eq", "ne", "is", "is_not", "not"})
# `x ** 0.5` spells sqrt without a name: the prefilter sees it as this pseudo-identifier.
POWER_HALF = "**0.5"


class RuleError(ValueError):
    """A rule file that does not follow the format; the message names the file."""


@dataclass(frozen=True)
class Guard:
    predicate: str
    metavariable: str
    words: Tuple[str, ...] = ()  # further plain arguments: `is_op($x, exp, log)`


@dataclass(frozen=True)
class RulePattern:
    match: Pattern
    source: str
    unless: Tuple[Guard, ...]
    when: Tuple[Guard, ...]  # all must hold
    fixes: Tuple[Pattern, ...]  # templates, tried in order until one renders
    fix_safety: str
    help: Optional[str]  # what to do when no fix can be written
    triggers: Tuple[FrozenSet[str], ...]  # per required op: names that spell it
    frameworks: Tuple[str, ...] = ()  # only code in these frameworks (else: the rule's)

    @property
    def root(self) -> str:
        return patterns.root_op(self.match)


@dataclass(frozen=True)
class Example:
    framework: str
    bad: Optional[str] = None
    fixed: Optional[str] = None
    good: Optional[str] = None
    title: Optional[str] = None
    result: Optional[str] = None  # the variable numeric proofs compare (default: the last assigned)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    message: str
    fix_title: str
    patterns: Tuple[RulePattern, ...]
    examples: Tuple[Example, ...]
    docs: Mapping[str, object]
    default: bool
    path: str
    numeric: Mapping[str, object]
    supersedes: Tuple[str, ...] = ()  # rules whose findings inside this one's are the same hazard
    frameworks: Tuple[str, ...] = ()  # only code in these frameworks (a gradient hazard needs autograd)
    consumers: Tuple[str, ...] = ()  # only when the value reaches one of these ops (a -inf mask, a softmax)

    @property
    def fixable(self) -> bool:
        return any(p.fixes for p in self.patterns)

    @property
    def fix_safeties(self) -> FrozenSet[str]:
        return frozenset(p.fix_safety for p in self.patterns if p.fixes)

    def could_match(self, words: AbstractSet[str]) -> bool:
        """False when a file's identifiers lack every spelling of some op each pattern needs."""
        return any(all(not names.isdisjoint(words) for names in p.triggers) for p in self.patterns)


def _ops_in(pattern: Pattern) -> List[str]:
    if isinstance(pattern, patterns.POp):
        return [pattern.op] + [op for _, sub in pattern.args for op in _ops_in(sub)]
    if isinstance(pattern, patterns.PBind):
        return _ops_in(pattern.pattern)
    return []


def _triggers(pattern: Pattern) -> Tuple[FrozenSet[str], ...]:
    ops = sorted({op for op in _ops_in(pattern) if op not in _OPERATOR_OPS})
    return tuple(bindings.spellings_of(op) | ({POWER_HALF} if op == "sqrt" else set()) for op in ops)


def _condition_words(conditions) -> Tuple[FrozenSet[str], ...]:
    """Words a `when` predicate needs in the text (`half_precision`: float16, half...): triggers
    too, so that a pattern written with operators only (`$x + $e`) still has some."""
    from numlint.predicates import REQUIRED_WORDS

    return tuple(REQUIRED_WORDS[c.predicate] for c in conditions if c.predicate in REQUIRED_WORDS)


_GUARD = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*\(\s*(.*?)\s*\)\s*$")


def _guard(text: str, where: str, known: Iterable[str]) -> Guard:
    from numlint.predicates import PREDICATES

    match = _GUARD.match(text)
    if not match:
        raise RuleError(f"{where}: guard {text!r} is not of the form name($var, ...)")
    name, raw = match.groups()
    if name not in PREDICATES:
        raise RuleError(f"{where}: unknown predicate {name!r} (known: {', '.join(sorted(PREDICATES))})")
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not parts[0].startswith("$"):
        raise RuleError(f"{where}: guard {text!r} must name a metavariable first")
    var = parts[0][1:]
    if var not in known:
        raise RuleError(f"{where}: guard {text!r} uses ${var}, which the pattern does not bind")
    for extra in parts[1:]:
        if extra.startswith("$") and extra[1:] not in known:
            raise RuleError(f"{where}: guard {text!r} uses {extra}, which the pattern does not bind")
    return Guard(name, var, tuple(parts[1:]))


def _as_list(value) -> List:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def load_rule(path: Path) -> Rule:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{where}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{where}: invalid TOML: {exc}") from None
    for key in ("code", "name", "message", "patterns", "examples"):
        if key not in data:
            raise RuleError(f"{where}: missing required key {key!r}")
    code, name = data["code"], data["name"]
    if not isinstance(code, str) or not CODE.match(code):
        raise RuleError(f"{where}: code {code!r} must look like NUM101")
    if not isinstance(name, str) or not NAME.match(name):
        raise RuleError(f"{where}: name {name!r} must be kebab-case")
    default_safety = data.get("fix-safety", SAFE)
    rule_patterns = []
    for index, raw in enumerate(data["patterns"]):
        here = f"{where}: patterns[{index}]"
        try:
            match = patterns.parse(raw["match"])
            patterns.root_op(match)
            fixes = tuple(patterns.parse(text) for text in _as_list(raw.get("fix")))
        except KeyError:
            raise RuleError(f"{here}: missing 'match'") from None
        except PatternError as exc:
            raise RuleError(f"{here}: {exc}") from None
        known = set(patterns.metavariables(match))
        for template in fixes:
            missing = set(patterns.metavariables(template)) - known
            if missing:
                raise RuleError(f"{here}: fix uses ${', $'.join(sorted(missing))}, which the pattern does not bind")
        safety = raw.get("fix-safety", default_safety)
        if safety not in SAFETIES:
            raise RuleError(f"{here}: fix-safety must be one of {', '.join(SAFETIES)}")
        guards = tuple(_guard(text, here, known) for text in _as_list(raw.get("unless")))
        conditions = tuple(_guard(text, here, known) for text in _as_list(raw.get("when")))
        rule_patterns.append(
            RulePattern(match, raw["match"], guards, conditions, fixes, safety, raw.get("help"),
                        _triggers(match) + _condition_words(conditions),
                        tuple(_as_list(raw.get("frameworks"))))
        )
    examples = []
    for index, raw in enumerate(data["examples"]):
        if "framework" not in raw:
            raise RuleError(f"{where}: examples[{index}] needs a 'framework'")
        if ("bad" in raw) == ("good" in raw):
            raise RuleError(f"{where}: examples[{index}] needs exactly one of 'bad' and 'good'")
        if "fixed" in raw and "bad" not in raw:
            raise RuleError(f"{where}: examples[{index}] has 'fixed' without 'bad'")
        unknown = set(raw) - {"framework", "bad", "fixed", "good", "title", "result"}
        if unknown:
            raise RuleError(f"{where}: examples[{index}] has unknown key {sorted(unknown)[0]!r}")
        examples.append(Example(
            raw["framework"], raw.get("bad"), raw.get("fixed"), raw.get("good"), raw.get("title"), raw.get("result"),
        ))
    if not any(e.bad for e in examples) or not any(e.good for e in examples):
        raise RuleError(f"{where}: a rule needs at least one bad and one good example")
    return Rule(
        code=code,
        name=name,
        message=data["message"],
        fix_title=data.get("fix-title", "Replace with `{fix}`"),
        patterns=tuple(rule_patterns),
        examples=tuple(examples),
        docs=data.get("docs", {}),
        default=bool(data.get("default", True)),
        path=where,
        numeric=data.get("numeric", {}),
        supersedes=tuple(_as_list(data.get("supersedes"))),
        frameworks=tuple(_as_list(data.get("frameworks"))),
        consumers=tuple(_as_list(data.get("consumers"))),
    )


def builtin_rules_dir() -> Path:
    """`numlint/rules` inside an installed wheel; the repository's `rules/` in a source checkout."""
    packaged = Path(__file__).resolve().parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def load_rules(directories: Iterable[Path] = ()) -> Dict[str, Rule]:
    """Every rule in the built-in folder and the given extra folders, by code."""
    found: Dict[str, Rule] = {}
    names: Dict[str, str] = {}
    for directory in [builtin_rules_dir(), *directories]:
        if not directory.is_dir():
            raise RuleError(f"{directory}: rule folder not found")
        for path in sorted(directory.glob("*.toml")):
            rule = load_rule(path)
            if rule.code in found:
                raise RuleError(f"{path}: code {rule.code} is already used by {found[rule.code].path}")
            if rule.name in names:
                raise RuleError(f"{path}: name {rule.name} is already used by {names[rule.name]}")
            found[rule.code] = rule
            names[rule.name] = rule.code
    return dict(sorted(found.items()))


_CACHE: Dict[Tuple[str, ...], Dict[str, Rule]] = {}


def registry(directories: Tuple[str, ...] = ()) -> Dict[str, Rule]:
    """The rules, loaded once per process."""
    if directories not in _CACHE:
        _CACHE[directories] = load_rules(Path(d) for d in directories)
    return _CACHE[directories]
