"""The docs point only at what exists, and every decision record says whether it still holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "reference" not in p.parts)]
DECISIONS = sorted((ROOT / "docs" / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))
# accepted (or proposed, or superseded by a later record), perhaps amended by later ones, and when
STATUS = re.compile(
    r"^Status: (accepted|proposed|superseded by (?P<by>\d{4}))"
    r"(?:; amended by (?P<amended>\d{4}(?:, \d{4})*))? · (?P<date>\d{4}-\d{2}-\d{2})$"
)


def _targets(path: Path) -> list[tuple[str, Path]]:
    text = path.read_text("utf-8")
    found = []
    for match in re.finditer(r"\]\(([^)\s]+)\)", text):  # [text](target)
        target = match.group(1)
        if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
            found.append((target, path.parent / target.split("#")[0]))
    for match in re.finditer(r"`((?:src|docs|tests|benchmarks|migrations)/[^`\s]*)`", text):  # `src/…`
        target = match.group(1).rstrip("/").split("::")[0]
        if not any(c in target for c in "<*{"):
            found.append((target, ROOT / target))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_path_in_the_docs_exists(doc: Path) -> None:
    assert [target for target, path in _targets(doc) if not path.exists()] == []


def test_the_link_check_sees_a_missing_file(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("See [the plan](plan.md) and `src/saldo/nowhere.py`.\n", encoding="utf-8")
    assert [t for t, p in _targets(page) if not p.exists()] == ["plan.md", "src/saldo/nowhere.py"]


@pytest.mark.parametrize("record", DECISIONS, ids=lambda p: p.name)
def test_every_decision_record_has_a_status_and_a_date(record: Path) -> None:
    lines = record.read_text("utf-8").splitlines()
    assert lines[0].startswith(f"# {record.name[:4]} — ")
    status = next((STATUS.match(line) for line in lines[1:6] if line.startswith("Status:")), None)
    assert status is not None, "line 3 must read 'Status: accepted · YYYY-MM-DD' (or superseded by / amended by)"
    numbers = {p.name[:4] for p in DECISIONS}
    later = [status.group("by")] if status.group("by") else []
    later += status.group("amended").split(", ") if status.group("amended") else []
    assert all(n in numbers and n > record.name[:4] for n in later), "amended or superseded by a later record"
