"""Characters into lines, words and cell texts."""

from __future__ import annotations

from xxgk.extractors.pdf.content import Char
from xxgk.extractors.pdf.printed import clean_pdf_text
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings


def dedupe(chars: list[Char]) -> list[Char]:
    """Drop characters painted twice at the same spot (fake bold), which would read ``总总计计``."""
    kept: list[Char] = []
    for ch in chars:
        if any(k["text"] == ch["text"] and abs(k["x0"] - ch["x0"]) < 1 and abs(k["top"] - ch["top"]) < 1 for k in kept):
            continue
        kept.append(ch)
    return kept


def text_lines(chars: list[Char], x_tolerance: float, y_tolerance: float) -> list[list[Char]]:
    """Group characters into lines (by vertical centre), each sorted left to right."""
    lines: list[list[Char]] = []
    centres: list[float] = []
    for ch in sorted(chars, key=lambda c: ((c["top"] + c["bottom"]) / 2, c["x0"])):
        mid = (ch["top"] + ch["bottom"]) / 2
        if lines and mid - centres[-1] <= y_tolerance:
            lines[-1].append(ch)
            continue
        lines.append([ch])
        centres.append(mid)
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]


def cell_text(chars: list[Char], settings: PdfSettings = DEFAULT_SETTINGS) -> str:
    """The text of one cell's characters: lines top to bottom, gaps as spaces, then ``clean_pdf_text``."""
    return text_of_words(word_texts(chars, settings))


def word_texts(chars: list[Char], settings: PdfSettings = DEFAULT_SETTINGS) -> list[list[str]]:
    """The texts of the words of each line of a cell's characters (painted twice: once), as
    ``word_lines`` splits them, without their boxes: what the printed text alone can tell."""
    if not chars:
        return []
    lines: list[list[str]] = []
    tolerance = settings.text_x_tolerance
    for line in text_lines(dedupe(chars), tolerance, settings.text_y_tolerance):
        words: list[str] = []
        parts: list[str] = []
        last_x1: float | None = None
        for ch in line:
            if last_x1 is not None and ch["x0"] > last_x1 + tolerance:
                words.append("".join(parts))
                parts = []
            parts.append(ch["text"])
            last_x1 = ch["x1"]
        words.append("".join(parts))
        lines.append(words)
    return lines


def text_of_words(lines: list[list[str]]) -> str:
    """A cell's text from its ``word_texts``: lines top to bottom, gaps as spaces, then ``clean_pdf_text``."""
    if not lines:
        return ""
    return clean_pdf_text("\n".join(" ".join(words) for words in lines))


def words_of(chars: list[Char], settings: PdfSettings = DEFAULT_SETTINGS) -> list[Char]:
    """Words: runs of characters on one line with gaps under ``text_x_tolerance``."""
    return [word for line in word_lines(chars, settings) for word in line]


def word_lines(chars: list[Char], settings: PdfSettings = DEFAULT_SETTINGS) -> list[list[Char]]:
    """The words of each text line, top to bottom, each line left to right."""
    lines: list[list[Char]] = []
    for line in text_lines(chars, settings.text_x_tolerance, settings.text_y_tolerance):
        words: list[Char] = []
        current: list[Char] = []
        for ch in line:
            if current and ch["x0"] > current[-1]["x1"] + settings.text_x_tolerance:
                words.append(_word(current))
                current = []
            current.append(ch)
        if current:
            words.append(_word(current))
        lines.append(words)
    return lines


def _word(chars: list[Char]) -> Char:
    return {
        "text": "".join(c["text"] for c in chars),
        "x0": min(c["x0"] for c in chars),
        "x1": max(c["x1"] for c in chars),
        "top": min(c["top"] for c in chars),
        "bottom": max(c["bottom"] for c in chars),
        "size": max(c["size"] for c in chars),
    }
