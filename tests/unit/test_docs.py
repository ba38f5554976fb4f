"""The docs stay true to the tree: docs/architecture.md names every module of the package."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules() -> list[str]:
    """Every module and stylesheet of the package, as a path under wahdx_tui/."""
    package = ROOT / "wahdx_tui"
    found = [*package.rglob("*.py"), *package.rglob("*.tcss")]
    return sorted(
        str(p.relative_to(package))
        for p in found
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    )


def test_the_architecture_tree_names_every_module_in_its_folder() -> None:
    """Each module stands in the tree under its own folder's line, indented one step further."""
    lines = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("wahdx_tui/")
    tree = lines[start : lines.index("```", start)]
    placed: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indent, folder path)
    for line in tree[1:]:
        indent = len(line) - len(line.lstrip())
        name = line.split()[0]
        folders = [(i, f) for i, f in folders if i < indent]
        path = "/".join([*(f for _, f in folders), name.rstrip("/")])
        if name.endswith("/"):
            folders.append((indent, name.rstrip("/")))
        else:
            placed.add(path)
    missing = [m for m in modules() if m not in placed]
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"
