"""User-facing text cites papers and public code, never the project's internal notes.

Users have the papers (arXiv ids, author/year) and the public repositories, not the
maintainers' reference files, so "(§1.6)", "acrl-methods §2.3" or "safe-rl.md" mean
nothing to them. Checked: every string literal and comment of the Python files in
packages/, plugins/, examples/ and benchmarks/*.py (docstrings, ``doc=`` strings of
registrations, messages), and every markdown file in packages/, plugins/, examples/ plus
the root README.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

INTERNAL_CITATION = re.compile(
    r"§\s*\d"  # a section number of an internal fact sheet
    r"|acrl-methods"
    r"|\bsafe-rl(?:\.md|\s*§)"
    r"|\becosystem\.md"
    r"|\bstyle\.md"
    r"|\breference/"
)

# Cleaned in a separate change (owned elsewhere); remove an entry once its files are clean.

SKIPPED_PARTS = {".venv", "venv", "build", "dist", "results", "__pycache__", ".git"}
TEXT_TOKENS = {tokenize.STRING, tokenize.COMMENT} | (
    {tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set()
)


def _user_facing_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "benchmarks").glob("*.py"))]
    for top in ("packages", "plugins", "examples"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in (".py", ".md") and not SKIPPED_PARTS & set(path.parts):
                files.append(path)
    return files


def _text_of(path: Path) -> list[tuple[int, str]]:
    """``(line, text)`` for each comment and string literal (``.py``) or line (markdown)."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return list(enumerate(source.splitlines(), start=1))
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(tok.start[0], tok.string) for tok in tokens if tok.type in TEXT_TOKENS]


def internal_citations(path: Path) -> list[str]:
    """``"path:line: text"`` for every internal citation in ``path``'s user-facing text."""
    found = []
    for line, text in _text_of(path):
        for match in INTERNAL_CITATION.finditer(text):
            at = line + text.count("\n", 0, match.start())
            context = text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " ")
            found.append(f"{path.relative_to(ROOT)}:{at}: ...{context}...")
    return found


def test_the_check_sees_the_files_and_the_patterns():
    files = {f.relative_to(ROOT).as_posix() for f in _user_facing_files()}
    assert {"README.md", "plugins/acrl-mujoco/README.md"} <= files
    assert "plugins/acrl-mujoco/src/acrl_mujoco/constraints.py" in files
    assert not any("benchmarks/results" in f for f in files)
    for cited in ("(§1.6)", "acrl-methods §2.3", "see safe-rl.md", "safe-rl §4.2", "reference/x"):
        assert INTERNAL_CITATION.search(cited), cited
    for fine in ("arXiv:2503.12932", "Kasaura et al. (2023), Sec. 4", "safe-rl", "a reference"):
        assert not INTERNAL_CITATION.search(fine), fine


@pytest.mark.parametrize("path", _user_facing_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_user_facing_text_cites_no_internal_reference_section(path):
    found = internal_citations(path)
    assert not found, (
        "cite the paper (arXiv id or author/year) or public code instead:\n" + "\n".join(found)
    )
