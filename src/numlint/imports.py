"""Our own light import table: which local name stands for which module or function.

We resolve names from the file's import statements alone rather than with libcst's scope and
qualified-name metadata, which costs several times the parse itself.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Set, Union

import libcst as cst

from numlint import bindings


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a chain of attribute accesses on a name, else None."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


class ImportTable:
    def __init__(self) -> None:
        self.aliases: Dict[str, str] = {}  # local name -> qualified name
        self.from_imported: Set[str] = set()  # local names bound by `from M import name`
        self.star_modules: List[str] = []
        self.bound_names: Set[str] = set()  # every name the file binds, any scope (set by flow.py)
        self.package: Optional[str] = None  # the file's package (`pkg` for pkg/train.py), for `from .m import f`

    def add(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name)
                if full is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = full
                else:
                    top = full.split(".", 1)[0]
                    self.aliases[top] = top
            return
        if node.relative:
            module = self._relative(len(node.relative), node.module)
        elif node.module is None:
            return
        else:
            module = dotted_name(node.module)
        if module is None:
            return
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(module)
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{module}.{alias.name.value}"
            self.from_imported.add(local)

    def _relative(self, dots: int, module: Optional[cst.BaseExpression]) -> Optional[str]:
        """`from ..m import f` in package `a.b`: `a.m`. None when the file's package is not known."""
        if self.package is None:
            return None
        parts = self.package.split(".") if self.package else []
        if dots - 1 > len(parts):
            return None
        base = parts[: len(parts) - (dots - 1)]
        if module is not None:
            name = dotted_name(module)
            if name is None:
                return None
            base.append(name)
        return ".".join(base) if base else None

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """The qualified name an expression like `F.softmax` or `log` refers to, if known."""
        name = dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        target = self.aliases.get(head)
        if target is None:
            for module in reversed(self.star_modules):
                if f"{module}.{name}" in bindings.FUNCTIONS:
                    return f"{module}.{name}"
            if head in self.bound_names or rest:
                return None
            return f"builtins.{head}"
        return f"{target}.{rest}" if rest else target

    def frameworks(self) -> Set[str]:
        found = set()
        for qualname in list(self.aliases.values()) + self.star_modules:
            framework = bindings.framework_of_module(qualname)
            if framework:
                found.add(framework)
        return found

    def spelling_for(self, qualname: str) -> Optional[str]:
        """How this file can refer to `qualname` with the imports it has, or None.

        Prefers the longest imported prefix: `F.log_softmax` over `torch.nn.functional.log_softmax`.
        """
        best: Optional[str] = None
        best_len = -1
        for local, target in self.aliases.items():
            if qualname == target:
                return local
            if qualname.startswith(target + ".") and len(target) > best_len:
                best, best_len = local + qualname[len(target):], len(target)
        return best
