"""Text for the PDF core fonts (fpdf2's helvetica), which are Latin-1."""

from __future__ import annotations


def core_font_text(text: str) -> str:
    """Swedish, Finnish and the other Nordic letters are in Latin-1; others become '?'. Non-breaking
    spaces and the narrow ones Babel writes in numbers become plain spaces, minus signs and en dashes
    hyphens."""
    cleaned = text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2212", "-").replace("\u2013", "-")
    return cleaned.encode("latin-1", "replace").decode("latin-1")
