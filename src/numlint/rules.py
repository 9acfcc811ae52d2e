"""Rules are data: one TOML file per rule in `rules/`, read into frozen `Rule` values.

The registry is built by reading the folder, never from a hand-kept list. See
`docs/writing-rules.md` for the format.
"""

from __future__ import annotations

import difflib
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

from numlint import bindings, patterns, smallfile
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
OPERATOR_OPS = _OPERATOR_OPS = frozenset({"add", "sub", "mul", "div", "neg", "pow", "square", "eq", "ne", "is", "is_not", "not"})
# `x ** 0.5` spells sqrt without a name: the prefilter sees it as this pseudo-identifier.
POWER_HALF = "**0.5"
# A pseudo-word for `+=` in a text: a sum may be built by accumulating (`r += exp(x)` in a loop).
ACCUMULATE = "+="
# Pseudo-words for operators, triggers of patterns written with operators only (`$x ** $p`).
OPERATOR_WORDS = {"div": "/", "pow": "**", "mul": "*", "sub": "-"}


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
    # A rule about the file's text rather than its values (`noqa`: unused suppression comments)
    # has no patterns; the named built-in check finds it (CHECKED_BY), the rest is data as usual.
    checked_by: Optional[str] = None
    fix_safety: str = SAFE  # the safety of a checked-by rule's fix

    @functools.cached_property
    def consumer_words(self) -> FrozenSet[str]:
        """Every spelling of the consumer ops (the prefilter keeps functions that spell one)."""
        return frozenset().union(*(bindings.spellings_of(op) for op in self.consumers))

    def title_for(self, fix: str) -> str:
        """The fix title with `{fix}` expanded (our own substitution; see `expand`)."""
        return expand(self.fix_title, fix=fix)

    @property
    def fixable(self) -> bool:
        return bool(self.fix_safeties)

    @property
    def fix_safeties(self) -> FrozenSet[str]:
        if self.checked_by is not None:  # its examples say whether it fixes
            return frozenset({self.fix_safety}) if any(e.fixed for e in self.examples) else frozenset()
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
    every = set(_ops_in(pattern))
    ops = sorted(op for op in every if op not in _OPERATOR_OPS)
    extra = {"sqrt": {POWER_HALF}, "sum": {ACCUMULATE}}
    named = tuple(bindings.spellings_of(op) | extra.get(op, set()) for op in ops)
    # An operator the pattern needs is its text (`/`, `**`) or a call of the op by name
    # (`torch.div`): `0.5 * log((1 + x) / (1 - x))` needs a `/` in the file. (These sets are not
    # used to keep functions from blanking when the pattern has names: `prefilter.reduce`.)
    operators = tuple(bindings.spellings_of(op) | {OPERATOR_WORDS[op]} for op in sorted(every) if op in OPERATOR_WORDS)
    return named + operators


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


# -- the rule file format, declared once -----------------------------------------------------------
#
# Each table of a rule file maps its keys to a checker of the value. Every key is declared here and
# nowhere else: an unknown key is an error (a misspelt `fix_safety` must not silently make an
# unsafe fix safe), and so is a value of the wrong type or outside its choices.

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_PATTERN_DEPTH = 32  # the built-in rules need 6; deeper ones would only cost stack at check time
_DTYPES = ("float16", "float32", "float64")
_EXTREME_CHECKS = ("finite",)


def _line(value, what: str) -> str:
    """A one-line text shown to users (message, fix title, help): no newline, no control character."""
    if not isinstance(value, str):
        raise RuleError(f"{what} must be a string")
    if _CONTROL_LINE.search(value):
        raise RuleError(f"{what} must be one line without control characters")
    return value


def _text(value, what: str) -> str:
    """Documentation text: several lines allowed, no other control character."""
    if not isinstance(value, str):
        raise RuleError(f"{what} must be a string")
    if _CONTROL.search(value.replace("\r\n", "\n")):
        raise RuleError(f"{what} must not hold control characters")
    return value


def _boolean(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(f"{what} must be true or false")
    return value


def _one_of(*choices: str, label: Optional[str] = None):
    def check(value, what: str) -> str:
        if value not in choices:
            hint = did_you_mean(str(value), choices)
            listed = label or "one of " + ", ".join(repr(c) for c in choices)
            raise RuleError(f"{what} must be {listed}, not {_short(repr(value), 80)}{hint}")
        return value
    return check


def _strings(item=_line):
    """One string or a list of them (`unless = "max_shifted($x)"` or a list of guards)."""
    def check(value, what: str) -> List[str]:
        values = value if isinstance(value, list) else [value]
        if not values and isinstance(value, list):
            return []
        return [item(v, what) for v in values]
    return check


def _string_list(value, what: str) -> List[str]:
    if not isinstance(value, list):
        raise RuleError(f"{what} must be a list of strings")
    return [_text(v, what) for v in value]


def _frameworks(value, what: str) -> List[str]:
    return [_one_of(*sorted(bindings.FRAMEWORKS))(v, what) for v in _strings()(value, what)]


def _ops(value, what: str) -> List[str]:
    from numlint.ops import OP_SIGNATURES

    check = _one_of(*sorted(OP_SIGNATURES), label="a canonical op (docs/writing-rules.md)")
    return [check(v, what) for v in _strings()(value, what)]


def _codes(value, what: str) -> List[str]:
    codes = _strings()(value, what)
    for code in codes:
        if not CODE.match(code):
            raise RuleError(f"{what}: {code!r} must look like NUM101")
    return codes


def _cases(value, what: str) -> list:
    """`[numeric]` inputs: expressions for `x`, or tables of inputs with an optional dtype."""
    if not isinstance(value, list):
        raise RuleError(f"{what} must be a list")
    for case in value:
        if isinstance(case, str):
            continue
        if not isinstance(case, dict):
            raise RuleError(f"{what}: each input is a string or a table of strings")
        for name, expression in case.items():
            if name == "dtype":
                _one_of(*_DTYPES)(expression, f"{what}: dtype")
            elif not name.isidentifier() or not isinstance(expression, str):
                raise RuleError(f"{what}: input {name!r} must be a name with a string expression")
    return value


# Built-in checks a rule without patterns can name with `checked-by` (see `numlint.noqa`).
CHECKED_BY = ("noqa",)

RULE_KEYS: Dict[str, Callable] = {
    "code": _line, "name": _line, "message": _line, "fix-title": _line, "checked-by": _one_of(*CHECKED_BY),
    "fix-safety": _one_of(*SAFETIES), "default": _boolean,
    "supersedes": _codes, "frameworks": _frameworks, "consumers": _ops,
    "patterns": None, "examples": None, "docs": None, "numeric": None,  # tables, checked below
}
PATTERN_KEYS: Dict[str, Callable] = {
    "match": _line, "unless": _strings(), "when": _strings(), "fix": _strings(),
    "fix-safety": _one_of(*SAFETIES), "help": _line, "frameworks": _frameworks,
}
EXAMPLE_KEYS: Dict[str, Callable] = {
    "framework": lambda v, what: _one_of(*sorted(bindings.FRAMEWORKS))(v, what),
    "bad": _text, "fixed": _text, "good": _text, "title": _line, "result": _line,
}
DOCS_KEYS: Dict[str, Callable] = {"what": _text, "why": _text, "fix-safety": _text, "references": _string_list,
                                  # README's rule table (`numlint rules --output-format readme`): one line of markdown each
                                  "finds": _line, "stable-form": _line}
NUMERIC_KEYS: Dict[str, Callable] = {
    "ordinary": _cases, "extreme": _cases, "gradient": _boolean, "scalar": _boolean,
    "extreme-check": _one_of(*_EXTREME_CHECKS),
}
REQUIRED = ("code", "name", "message", "examples")  # and `patterns`, unless `checked-by` names a check
# Placeholders each template may use (see `expand`).
TEMPLATE_FIELDS: Dict[str, Tuple[str, ...]] = {"fix-title": ("fix",)}


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """` (did you mean 'fix-safety'?)` for the nearest known key, or "" when none is near."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_table(table, keys: Mapping[str, Optional[Callable]], where: str) -> dict:
    """Every key known, every value of its declared type; `where` names the file and the table."""
    if not isinstance(table, dict):
        raise RuleError(f"{where} must be a table")
    for key, value in table.items():
        if key not in keys:
            hint = did_you_mean(key, keys) or f" (known: {', '.join(sorted(keys))})"
            raise RuleError(f"{where}: unknown key {key!r}{hint}")
        check = keys[key]
        if check is not None:
            check(value, f"{where}: {key}")
    return table


def _tables(value, what: str) -> list:
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise RuleError(f"{what} must be an array of tables ([[{what.rsplit(': ', 1)[-1]}]])")
    return value


# -- templates: our own substitution, not str.format -----------------------------------------------
#
# `str.format` on a rule's text is code: `{fix:>200000000}` allocates gigabytes and
# `{fix.__class__}` reads object internals. A template here is text with `{name}` placeholders
# from a fixed set, and `{{`/`}}` for literal braces; nothing else is interpreted.

_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def template_fields(template: str, allowed: Iterable[str], what: str) -> Tuple[str, ...]:
    """The placeholders a template uses; RuleError for an unknown one or a stray brace."""
    allowed = tuple(allowed)
    found = []
    for match in _TEMPLATE_TOKEN.finditer(template):
        token = match.group()
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            raise RuleError(f"{what}: stray {token!r} (write {token * 2!r} for a literal brace)")
        if name not in allowed:
            known = ", ".join("{" + a + "}" for a in allowed) or "none"
            hint = did_you_mean(name, allowed)
            raise RuleError(f"{what}: unknown placeholder {{{name}}}{hint} (known: {known})")
        found.append(name)
    return tuple(found)


def expand(template: str, **values: str) -> str:
    """`template` with each `{name}` replaced by `values[name]`; `{{` and `}}` give braces.
    Unknown placeholders are left as written (templates are checked when the rule loads)."""
    def replace(match: "re.Match[str]") -> str:
        token = match.group()
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        return values[name] if name is not None and name in values else token
    return _TEMPLATE_TOKEN.sub(replace, template)


# -- patterns --------------------------------------------------------------------------------------


def _pattern_depth(pattern: Pattern) -> int:
    deepest, stack = 0, [(pattern, 1)]
    while stack:  # not recursive: the pattern may be the deep thing
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, patterns.POp):
            stack.extend((sub, depth + 1) for _, sub in node.args)
        elif isinstance(node, patterns.PBind):
            stack.append((node.pattern, depth + 1))
    return deepest


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[:limit // 2]} ... {text[-limit // 3:]}"


def _parse_pattern(text: str, where: str) -> Pattern:
    try:
        pattern = patterns.parse(text)
    except PatternError as exc:
        raise RuleError(f"{where}: {_short(str(exc))}") from None
    except (RecursionError, MemoryError):
        raise RuleError(f"{where}: pattern nested too deeply (at most {MAX_PATTERN_DEPTH} levels)") from None
    if _pattern_depth(pattern) > MAX_PATTERN_DEPTH:
        raise RuleError(f"{where}: pattern nested too deeply (at most {MAX_PATTERN_DEPTH} levels)")
    return pattern


def _read_toml(path: Path) -> dict:
    where = str(path)
    try:
        return tomllib.loads(smallfile.read_text(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{where}: cannot read: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{where}: invalid TOML: {exc}") from None
    except RecursionError:
        raise RuleError(f"{where}: invalid TOML: nested too deeply") from None


def load_rule(path: Path) -> Rule:
    where = str(path)
    data = _check_table(_read_toml(path), RULE_KEYS, where)
    for key in REQUIRED:
        if key not in data:
            raise RuleError(f"{where}: missing required key {key!r}")
    code, name = data["code"], data["name"]
    if not CODE.match(code):
        raise RuleError(f"{where}: code {code!r} must look like NUM101")
    if not NAME.match(name):
        raise RuleError(f"{where}: name {name!r} must be kebab-case")
    fix_title = data.get("fix-title", "Replace with `{fix}`")
    template_fields(fix_title, TEMPLATE_FIELDS["fix-title"], f"{where}: fix-title")
    docs = _check_table(data.get("docs", {}), DOCS_KEYS, f"{where}: [docs]")
    numeric = _check_table(data.get("numeric", {}), NUMERIC_KEYS, f"{where}: [numeric]")
    default_safety = data.get("fix-safety", SAFE)
    checked_by = data.get("checked-by")
    if checked_by is None and "patterns" not in data:
        raise RuleError(f"{where}: missing required key 'patterns'")
    if checked_by is not None and "patterns" in data:
        raise RuleError(f"{where}: a rule checked by {checked_by!r} has no [[patterns]]")
    rule_patterns = []
    for index, raw in enumerate(_tables(data.get("patterns", []), f"{where}: patterns")):
        here = f"{where}: patterns[{index}]"
        _check_table(raw, PATTERN_KEYS, here)
        if "match" not in raw:
            raise RuleError(f"{here}: missing 'match'")
        match = _parse_pattern(raw["match"], here)
        try:
            patterns.root_op(match)
        except PatternError as exc:
            raise RuleError(f"{here}: {_short(str(exc))}") from None
        fixes = tuple(_parse_pattern(text, f"{here}: fix") for text in _as_list(raw.get("fix")))
        known = set(patterns.metavariables(match))
        for template in fixes:
            missing = set(patterns.metavariables(template)) - known
            if missing:
                raise RuleError(f"{here}: fix uses ${', $'.join(sorted(missing))}, which the pattern does not bind")
        safety = raw.get("fix-safety", default_safety)
        guards = tuple(_guard(text, here, known) for text in _as_list(raw.get("unless")))
        conditions = tuple(_guard(text, here, known) for text in _as_list(raw.get("when")))
        rule_patterns.append(
            RulePattern(match, raw["match"], guards, conditions, fixes, safety, raw.get("help"),
                        _triggers(match) + _condition_words(conditions),
                        tuple(_as_list(raw.get("frameworks"))))
        )
    if not rule_patterns and checked_by is None:
        raise RuleError(f"{where}: a rule needs at least one [[patterns]] table")
    examples = []
    for index, raw in enumerate(_tables(data["examples"], f"{where}: examples")):
        here = f"{where}: examples[{index}]"
        _check_table(raw, EXAMPLE_KEYS, here)
        if "framework" not in raw:
            raise RuleError(f"{here} needs a 'framework'")
        if ("bad" in raw) == ("good" in raw):
            raise RuleError(f"{here} needs exactly one of 'bad' and 'good'")
        if "fixed" in raw and "bad" not in raw:
            raise RuleError(f"{here} has 'fixed' without 'bad'")
        examples.append(Example(
            raw["framework"], raw.get("bad"), raw.get("fixed"), raw.get("good"), raw.get("title"), raw.get("result"),
        ))
    if not any(e.bad for e in examples) or not any(e.good for e in examples):
        raise RuleError(f"{where}: a rule needs at least one bad and one good example")
    return Rule(
        code=code,
        name=name,
        message=data["message"],
        fix_title=fix_title,
        patterns=tuple(rule_patterns),
        examples=tuple(examples),
        docs=docs,
        default=data.get("default", True),
        path=where,
        numeric=numeric,
        supersedes=tuple(_as_list(data.get("supersedes"))),
        frameworks=tuple(_as_list(data.get("frameworks"))),
        consumers=tuple(_as_list(data.get("consumers"))),
        checked_by=checked_by,
        fix_safety=default_safety,
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
    seen = set()
    for directory in [builtin_rules_dir(), *directories]:
        if not directory.is_dir():
            raise RuleError(f"{directory}: rule folder not found")
        if directory.resolve() in seen:
            continue  # the built-in folder named again (`numlint test-rule rules/*.toml` in a clone)
        seen.add(directory.resolve())
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
