"""Every relative link of README.md and docs/**/*.md resolves to a file of the repository: the
documentation works in a clone, without documents that live outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# [text](target) and [text]: target, outside code spans and fenced blocks
INLINE = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")


def relative_links(document: Path) -> list[str]:
    text = CODE.sub("", FENCE.sub("", document.read_text(encoding="utf-8")))
    targets = INLINE.findall(text) + REFERENCE.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:|^#|^//", t)]


def test_the_documents_exist() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOCUMENTS}
    assert {"README.md", "docs/architecture.md"} <= names
    howtos = {"driver", "protocol", "learning-rule", "twin", "chip-preset"}
    assert {f"docs/howto/add-a-{h}.md" for h in howtos} <= names


def test_the_readme_links_the_docs() -> None:
    assert "docs/architecture.md" in relative_links(ROOT / "README.md")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve_inside_the_repository(document: Path) -> None:
    broken = []
    for target in relative_links(document):
        path = (document.parent / target.split("#", 1)[0]).resolve()
        inside = path.is_relative_to(ROOT.resolve())
        if not inside or not path.exists():
            broken.append(f"{target} ({'outside the repository' if not inside else 'missing'})")
    assert not broken, f"{document.relative_to(ROOT)}: broken links: {', '.join(broken)}"


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("see [design](../shared/DESIGN.md), `[not](a-link.md)`, [web](https://a.b)\n")
    assert relative_links(doc) == ["../shared/DESIGN.md"]
