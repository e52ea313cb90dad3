#!/usr/bin/env python3
"""Finds import cycles between sibling modules of each crate.

For every module M with child modules C1..Cn, Ci depends on Cj when any
file inside Ci names Cj by path (`super::Cj`, `super::super::Cj` from
deeper down, `crate::…::M::Cj`, `self::Cj`, or a bare `Cj::` inside M's own
file). A cycle among the children of one module is reported. Prints
nothing and exits 0 when there are none.

Usage: python3 tools/module_cycles.py [crate src dirs...]
"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b((?:crate|super|self)(?:::\w+)+)")


def modules(src: Path):
    """Maps each .rs file to its module path (a tuple)."""
    out = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        out[f] = tuple(parts)
    return out


def code(text: str) -> str:
    """The text without comments or string literals (roughly)."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def resolve(here: tuple, is_dir_module: bool, path: str):
    """The absolute module path `path` names, from module `here`."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = [], parts[1:]
    else:
        base = list(here)
        rest = parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    return tuple(base + rest)


def check(src: Path) -> list:
    mods = modules(src)
    known = set(mods.values())
    deps = {}  # parent -> {child: set(children)}
    for f, here in mods.items():
        is_dir = f.stem in ("mod", "lib", "main")
        text = code(f.read_text())
        # `use super::{a, b::c}` groups: expand one level.
        for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)*)::\{([^}]*)\}", text):
            for item in m.group(2).split(","):
                item = item.strip().split(" as ")[0].split("::")[0].strip()
                if item and item != "self" and item[0].islower():
                    text += f" {m.group(1)}::{item} "
        for m in PATH.finditer(text):
            target = resolve(here, is_dir, m.group(1))
            # The longest known module the path goes through.
            while target and target not in known:
                target = target[:-1]
            if not target or target == here:
                continue
            # Sibling subtrees under their nearest common ancestor.
            common = 0
            while common < min(len(here), len(target)) and here[common] == target[common]:
                common += 1
            if common >= len(here) or common >= len(target):
                continue  # an ancestor or a descendant, not a sibling
            parent, a, b = here[:common], here[common], target[common]
            deps.setdefault(parent, {}).setdefault(a, set()).add(b)
    cycles = []
    for parent, graph in sorted(deps.items()):
        # Tarjan's strongly connected components.
        index, low, stack, on, out = {}, {}, [], set(), []
        counter = [0]

        def visit(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in sorted(graph.get(v, ())):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

        for v in sorted(graph):
            if v not in index:
                visit(v)
        for comp in out:
            name = "::".join(parent) or "crate"
            cycles.append(f"{src}: in {name}: {' <-> '.join(comp)}")
    return cycles


def main() -> int:
    roots = [Path(a) for a in sys.argv[1:]] or sorted(Path("crates").glob("*/src"))
    cycles = [c for root in roots for c in check(root)]
    for c in cycles:
        print(c)
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
