"""Repository layout rules that pytest itself relies on."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_folder_is_a_package():
    """Every folder holding test modules has an ``__init__.py``.

    Pytest then imports ``bench_tests.conftest`` and ``wrappers_tests.conftest`` under
    different names and two folders may both hold a ``test_cli.py``; without it, running
    two folders together fails with "import file mismatch".
    """
    folders = {
        path.parent
        for base in (ROOT / "tests", *(ROOT / "plugins").glob("*/tests"))
        for path in base.rglob("test_*.py")
    }
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    assert folders and not missing, f"add an __init__.py to {missing}"
