"""The weekly digest as a PDF, made with fpdf2 (pure Python, its built-in fonts).

The built-in fonts cover Latin-1 only: other characters (emoji, CJK) print as "?"
rather than failing the download.
"""

from __future__ import annotations

from fpdf import FPDF

from app.insights.digest import DigestContent, title_of


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def digest_pdf(digest: DigestContent, *, link: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(title_of(digest)))
    pdf.set_creator("Cadence")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, _latin1(title_of(digest)), new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

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
    pdf.set_font("Helvetica", "I", 9)
    line(f"On the web: {link}")
    return bytes(pdf.output())
