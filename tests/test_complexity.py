"""No function outside the tests is more complex than radon's grade C (cyclomatic
complexity above 20): a reader must be able to hold each one."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"tests", "migrations", ".venv", "var", "node_modules"}


def source_files() -> list[Path]:
    return [
        path for path in ROOT.rglob("*.py") if not SKIP_DIRS & set(path.relative_to(ROOT).parts)
    ]


def test_no_function_is_above_grade_c():
    too_complex = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} "
        f"({cc_rank(block.complexity)}, {block.complexity})"
        for path in source_files()
        for block in cc_visit(path.read_text())
        if cc_rank(block.complexity) > "C"
    ]
    assert too_complex == []
