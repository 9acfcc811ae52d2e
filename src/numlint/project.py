"""The project a run checks: which module each file is, so that a value made in `model.py` is known
where `train.py` imports it.

A file's module name comes from the `__init__.py` folders above it (`pkg/sub/m.py` is `pkg.sub.m`,
in package `pkg.sub`); a script in a folder without one is a top-level module named by its stem,
as Python runs it (`from model import predict` beside `model.py`). Two files that would be the same
module (two script folders each with a `model.py`) are both left out: which one an import means
depends on how the code is run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple


class Project:
    def __init__(self, paths: Sequence[Path]) -> None:
        self._packages: Dict[Path, bool] = {}
        self.names: List[Optional[str]] = []
        self.packages: List[Optional[str]] = []
        seen: Dict[str, int] = {}
        clashes = set()
        for index, path in enumerate(paths):
            name, package = self._name(Path(path))
            self.names.append(name)
            self.packages.append(package)
            if name is None:
                continue
            if name in seen:
                clashes.add(name)
            seen[name] = index
        self.modules: Dict[str, int] = {name: index for name, index in seen.items() if name not in clashes}

    def _is_package(self, folder: Path) -> bool:
        known = self._packages.get(folder)
        if known is None:
            known = self._packages[folder] = (folder / "__init__.py").is_file()
        return known

    def _name(self, path: Path) -> Tuple[Optional[str], Optional[str]]:
        if path.suffix not in (".py", ".pyi") or not path.stem.isidentifier():
            return None, None  # a notebook, or a file no import can name
        parts = [] if path.stem == "__init__" else [path.stem]
        folder = path.absolute().parent
        while self._is_package(folder) and folder.name.isidentifier():
            parts.insert(0, folder.name)
            folder = folder.parent
        if not parts:
            return None, None
        name = ".".join(parts)
        package = name if path.stem == "__init__" else name.rpartition(".")[0]
        return name, package

    def owner(self, qualname: str) -> Optional[Tuple[str, int]]:
        """The module of the project a qualified name is in (`pkg.model.predict` -> `pkg.model`),
        and that module's file index; None for names of other libraries."""
        module = qualname
        while module:
            index = self.modules.get(module)
            if index is not None:
                return module, index
            module = module.rpartition(".")[0]
        return None


_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#;]+)", re.MULTILINE)
_NAME = re.compile(r"([\w.]+)(?:\s+as\s+\w+)?")


def imports_in(text: str, package: Optional[str]) -> Set[str]:
    """The qualified names a file imports (`from .model import predict` in package `pkg`:
    `pkg.model.predict`; `import pkg.model as m`: `pkg.model`), read from its import lines without
    parsing it: the prefilter may skip a file that gets its hazard from what it imports."""
    found: Set[str] = set()
    for dots, module, names in _FROM.findall(text):
        if dots:
            if package is None:
                continue
            parts = package.split(".") if package else []
            if len(dots) - 1 > len(parts):
                continue
            base = ".".join(parts[: len(parts) - (len(dots) - 1)] + ([module] if module else []))
        else:
            base = module
        if not base:
            continue
        for name in _NAME.findall(names.strip("()")):
            if name != "*":
                found.add(f"{base}.{name}")
    for names in _IMPORT.findall(text):
        found.update(_NAME.findall(names))
    return found
