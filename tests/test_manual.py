"""The manual in docs/ stays true to the code: every setting, every command and option,
and no link to a file outside the repository (a person who clones it has only it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from app.cli import main as cadence
from app.config import Settings
from connectors.base import Limits
from connectors.registry import PLATFORMS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def settings_table() -> dict[str, str]:
    """`CADENCE_*` name -> default cell, from the settings table of docs/operations.md."""
    rows = re.findall(
        r"^\| `(CADENCE_[A-Z_]+)` \| ([^|]*) \|", (DOCS / "operations.md").read_text(), re.M
    )
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a setting is listed twice"
    return dict(rows)


def test_the_settings_table_lists_exactly_the_settings() -> None:
    documented = set(settings_table())
    actual = {f"CADENCE_{name.upper()}" for name in Settings.model_fields}
    assert sorted(actual - documented) == [], "settings missing from docs/operations.md"
    assert sorted(documented - actual) == [], "docs/operations.md lists settings that do not exist"


def test_the_settings_table_gives_the_defaults() -> None:
    table = settings_table()
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None or default == "":
            continue  # "unset" / "empty" in words
        cell = table[f"CADENCE_{name.upper()}"]
        shown = default.as_posix() if isinstance(default, Path) else str(default)
        assert f"`{shown}`" in cell or f"`./{shown}`" in cell, (name, cell)


def commands(group: click.Group, prefix: str = "cadence") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += commands(command, path)
        else:
            found.append((path, command))
    return found


def test_every_command_and_option_is_in_the_cli_page() -> None:
    page = (DOCS / "cli.md").read_text()
    sections = dict(
        (title, body)
        for title, body in re.findall(r"^## `(cadence [^`]+)`\n(.*?)(?=^## |\Z)", page, re.M | re.S)
    )
    for path, command in commands(cadence):
        assert path in sections, f"docs/cli.md has no section for `{path}`"
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in sections[path], f"{path}: {option} is not described"


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.decode().split("\0") if name]


OUTSIDE = re.compile(r"\.\./" + "shared" + "|/wo" + "rk/")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_no_tracked_file_refers_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in {".png", ".jpg", ".mp4", ".gif", ".pdf"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        offenders += [
            f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
            for m in OUTSIDE.finditer(text)
        ]
    assert offenders == []


def test_markdown_links_stay_inside_the_repository_and_exist() -> None:
    broken = []
    for path in tracked_files():
        if path.suffix != ".md" or not path.is_file():
            continue
        for target in LINK.findall(path.read_text()):
            if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
                continue  # https:, mailto:, an anchor on the same page
            resolved = (path.parent / target.split("#")[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_manual_has_its_pages() -> None:
    readme = (ROOT / "README.md").read_text()
    for page in (
        "api.md",
        "platforms.md",
        "operations.md",
        "architecture.md",
        "cli.md",
        "security.md",
    ):
        assert (DOCS / page).is_file()
        assert f"](docs/{page})" in readme, f"README.md does not point to docs/{page}"


# -- the platform facts table of docs/platforms.md, generated from the registry ------

FACTS_HEADING = "## Platform facts"
FACTS_HEADER = [
    "| platform | `platform` | audience | text limit | title | files (type: largest size) |",
    "|---|---|---|---|---|---|",
]
_TYPE_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/tiff": "TIFF",
    "video/mp4": "MP4",
    "video/quicktime": "QuickTime",
    "video/webm": "WebM",
    "video/x-msvideo": "AVI",
    "video/mpeg": "MPEG",
    "application/pdf": "PDF",
}


def _size(size: int) -> str:
    mib = 1024 * 1024
    if size % (1024 * mib) == 0:
        return f"{size // (1024 * mib):,} GiB"
    if size % mib == 0:
        return f"{size // mib:,} MiB"
    return f"{size:,} bytes"


def _files(limits: Limits) -> str:
    if limits.media_types is None:
        return "any; sent as links"
    by_size: dict[int, list[str]] = {}
    for content_type, size in limits.media_types.items():
        by_size.setdefault(size, []).append(_TYPE_NAMES.get(content_type, content_type))
    parts = [f"{', '.join(names)}: {_size(size)}" for size, names in by_size.items()]
    if limits.single_file is not None:
        parts.append(f"exactly 1 {limits.single_file}")
    if limits.max_images is not None and limits.max_videos is not None:
        parts.append(
            f"up to {limits.max_images} images, or {limits.max_videos} GIF or video, not both"
        )
    return "; ".join(parts)


def facts_rows() -> list[str]:
    """One row per registered platform, from its connector class's declarations."""
    rows = []
    for platform in PLATFORMS.values():
        limits = platform.limits
        text = "no limit" if limits.text is None else f"{limits.text:,} {limits.text_unit}"
        if not limits.text_required:
            text += "; may be empty"
        if limits.title is None:
            title = "required" if limits.title_required else "—"
        else:
            title = f"{limits.title:,} characters" + (", required" if limits.title_required else "")
        cells = [
            platform.label,
            f"`{platform.name}`",
            platform.audience or "you choose",
            text,
            title,
            _files(limits),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def test_the_platform_facts_table_matches_the_registry() -> None:
    """Regenerate the table with `.venv/bin/python -m tests.test_manual`."""
    page = (DOCS / "platforms.md").read_text()
    assert FACTS_HEADING in page, f"docs/platforms.md has no {FACTS_HEADING!r} section"
    section = page.split(FACTS_HEADING, 1)[1]
    table = [line for line in section.splitlines() if line.startswith("|")]
    documented = table[: len(FACTS_HEADER) + len(facts_rows())]
    assert documented == [*FACTS_HEADER, *facts_rows()], (
        "docs/platforms.md's platform facts differ from connectors/registry.py; "
        "print the table with `.venv/bin/python -m tests.test_manual`"
    )


if __name__ == "__main__":
    print("\n".join([*FACTS_HEADER, *facts_rows()]))
