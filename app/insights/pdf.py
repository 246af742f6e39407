"""The weekly digest as a PDF, made with fpdf2 (pure Python).

No pip package ships a well-kept Unicode font (fpdf2 has only the PDF core fonts,
which cover Latin-1), so the PDF uses DejaVu Sans from the operating system when it is
there (Debian's `fonts-dejavu-core`, a dependency of fontconfig and so of chromium:
Latin, Greek, Cyrillic, Arabic, Hebrew and many symbols), embedded as a subset. Without
it, the core font Helvetica is used and only Latin-1 prints. Either way a character the
font lacks (emoji, CJK with DejaVu) prints as "?" rather than failing the download.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

from app.insights.digest import DigestContent, title_of

# Where Debian (and Ubuntu) install DejaVu; the three faces the digest uses.
DEJAVU_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def unicode_font_dir(dirs: tuple[Path, ...] = DEJAVU_DIRS) -> Path | None:
    """The first folder holding all three DejaVu Sans faces, or None."""
    for folder in dirs:
        if all((folder / name).is_file() for name in FACES.values()):
            return folder
    return None


def _fonts(pdf: FPDF, folder: Path | None) -> tuple[str, Callable[[str], str]]:
    """The font family to use and how to make a text printable in it."""
    if folder is None:
        return "Helvetica", _latin1
    for style, name in FACES.items():
        pdf.add_font("DejaVu", style, str(folder / name))

    def printable(text: str) -> str:
        font = pdf.current_font
        cmap = font.cmap if isinstance(font, TTFFont) else {}
        return "".join(c if ord(c) in cmap or c in "\n\t" else "?" for c in text)

    return "DejaVu", printable


def digest_pdf(
    digest: DigestContent, *, link: str, font_dirs: tuple[Path, ...] = DEJAVU_DIRS
) -> bytes:
    """`font_dirs`: where to look for DejaVu Sans (none: the core font)."""
    pdf = FPDF(format="A4")
    family, printable = _fonts(pdf, unicode_font_dir(font_dirs))
    pdf.set_font(family, "B", 16)
    pdf.set_title(printable(title_of(digest)))
    pdf.set_creator("Cadence")
    pdf.add_page()
    pdf.multi_cell(0, 9, printable(title_of(digest)), new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.multi_cell(0, 7, printable(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5.5, printable(text), new_x="LMARGIN", new_y="NEXT")

    heading("Coverage per objective")
    for week in digest.objectives:
        if not week.required_days:
            line(f"{week.name}: nothing required")
            continue
        missed = ", ".join(f"{d:%a %-d %b}" for d in week.missed) or "none"
        line(
            f"{week.name}: {week.covered_days} of {week.required_days} days covered; "
            f"missed: {missed}"
        )
    heading("Top posts per objective")
    shown = False
    for week in digest.objectives:
        for post in week.top:
            shown = True
            line(
                f"{week.name}: {post.title} ({post.day:%-d %b}): {post.likes} likes, "
                f"{post.reposts} reposts, {post.replies} replies, {post.views} views, "
                f"{post.clicks} clicks"
            )
    if not shown:
        line("Nothing published.")
    heading(f"Clicks on internal channels: {digest.total_internal_clicks}")
    for name, clicks in digest.internal_clicks:
        line(f"{name}: {clicks}")
    for extra in digest.extra:
        heading(extra)
    pdf.ln(4)
    pdf.set_font(family, "I", 9)
    line(f"On the web: {link}")
    return bytes(pdf.output())
