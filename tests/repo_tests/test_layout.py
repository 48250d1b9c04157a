"""Repository layout rules that pytest itself relies on."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_test_module_basenames_are_unique():
    """Test folders have no ``__init__.py``, so pytest imports test modules by basename.

    Two ``test_cli.py`` files in different folders make collection fail with
    "import file mismatch"; name test modules after their package instead.
    """
    paths_by_name: dict[str, list[str]] = defaultdict(list)
    for folder in (ROOT / "tests", ROOT / "plugins"):
        for path in folder.rglob("test_*.py"):
            if ".venv" not in path.parts:
                paths_by_name[path.name].append(str(path.relative_to(ROOT)))
    clashes = {name: paths for name, paths in paths_by_name.items() if len(paths) > 1}
    assert not clashes, f"rename these test modules so each basename is unique: {clashes}"
