"""The project a run checks: which module each file is, so that a value made in `model.py` is known
where `train.py` imports it.

A file's module name comes from the `__init__.py` folders above it (`pkg/sub/m.py` is `pkg.sub.m`,
in package `pkg.sub`); a script in a folder without one is a top-level module named by its stem,
as Python runs it (`from model import predict` beside `model.py`). A file's *root* is the folder
its module name starts in (the folder above its top package, or a script's own folder): Python
finds an import there first. Two files that would be the same module (two script folders each with
a `model.py`, two copies of a package) are told apart by their roots: an import means the module of
the importing file's own root, else the one module of that name in the run (`tests/` importing
`pkg.model`); a name two other roots share is left out.
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
        self.roots: List[Optional[Path]] = []
        self._by_root: Dict[Tuple[Path, str], int] = {}
        seen: Dict[str, int] = {}
        clashes = set()
        for index, path in enumerate(paths):
            name, package, root = self._name(Path(path))
            self.names.append(name)
            self.packages.append(package)
            self.roots.append(root)
            if name is None:
                continue
            if name in seen:
                clashes.add(name)
            seen[name] = index
            self._by_root[(root, name)] = index
        # the modules a name means wherever it is imported from: those of one file in the run
        self.modules: Dict[str, int] = {name: index for name, index in seen.items() if name not in clashes}

    def _is_package(self, folder: Path) -> bool:
        known = self._packages.get(folder)
        if known is None:
            known = self._packages[folder] = (folder / "__init__.py").is_file()
        return known

    def _name(self, path: Path) -> Tuple[Optional[str], Optional[str], Optional[Path]]:
        folder = path.absolute().parent
        if path.suffix not in (".py", ".pyi") or not path.stem.isidentifier():
            return None, None, folder  # a notebook (its imports start in its folder), or a file no import can name
        parts = [] if path.stem == "__init__" else [path.stem]
        while self._is_package(folder) and folder.name.isidentifier():
            parts.insert(0, folder.name)
            folder = folder.parent
        if not parts:
            return None, None, folder
        name = ".".join(parts)
        package = name if path.stem == "__init__" else name.rpartition(".")[0]
        return name, package, folder

    def owner(self, qualname: str, near: Optional[int] = None) -> Optional[Tuple[str, int]]:
        """The module of the project a qualified name is in (`pkg.model.predict` -> `pkg.model`),
        and that module's file index, as file `near` imports it (its own root first); None for
        names of other libraries."""
        root = self.roots[near] if near is not None else None
        module = qualname
        while module:
            index = self._by_root.get((root, module)) if root is not None else None
            if index is None:
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
