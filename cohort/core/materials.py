"""Materials of a meeting: which uploaded files are accepted, how they are served, when shown.

A facilitator gives a meeting its slides, handouts and links. Uploaded files are served back
from our own site to every participant of the cohort, so what an upload may be is decided
here, by its content and not by what its name or the browser claims:
- only PDF, PowerPoint (.pptx), Word (.docx), PNG and JPEG; the first bytes (the "magic")
  must be those of the type the file's extension names, so an .exe renamed .pdf or an HTML
  page named .png is refused;
- .docx and .pptx are zip archives: they must hold the part that makes them a Word document
  or a presentation (`word/document.xml`, `ppt/presentation.xml`), so any other zip renamed
  .docx is refused too;
- the type served is the one decided here (an allow-list), never the upload's own.
Office files are sent as attachments (a browser never renders them on our origin); PDFs and
images are shown in the browser. The filename the browser saves is the uploaded one, cleaned
(`download_name`) and written in a Content-Disposition header with an RFC 5987 `filename*`
for names like "Æblegrød.pdf" (`content_disposition`).

A material can be meant for after the meeting (the slides, once it has been held): it is
shown from the meeting's end (`visible`).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from .text import CONTROL_CHARACTERS

PDF, PPTX, DOCX, PNG, JPEG = "pdf", "pptx", "docx", "png", "jpeg"
LINK, FILE = "link", "file"


@dataclass(frozen=True)
class FileType:
    key: str
    content_type: str
    extensions: tuple[str, ...]
    attachment: bool  # sent as a download, never shown on our origin


FILE_TYPES: dict[str, FileType] = {t.key: t for t in (
    FileType(PDF, "application/pdf", (".pdf",), False),
    FileType(PPTX, "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             (".pptx",), True),
    FileType(DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             (".docx",), True),
    FileType(PNG, "image/png", (".png",), False),
    FileType(JPEG, "image/jpeg", (".jpg", ".jpeg"), False),
)}
ACCEPTED_EXTENSIONS = tuple(ext for t in FILE_TYPES.values() for ext in t.extensions)

# Why an upload is refused (the web words them in the reader's language).
EMPTY = "empty"
TOO_BIG = "too_big"
UNKNOWN_EXTENSION = "unknown_extension"
CONTENT_MISMATCH = "content_mismatch"

_ZIP_PART = {DOCX: "word/document.xml", PPTX: "ppt/presentation.xml"}
MAX_NAME = 150  # characters of a download name
_UNSAFE_IN_NAME = re.compile(f'[{CONTROL_CHARACTERS}/\\\\:*?"<>|;]')


class MaterialProblem(ValueError):
    """An upload that is refused; `code` is one of the constants above."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


def type_for_name(filename: str) -> FileType | None:
    """The accepted type the file's extension names, or None."""
    lowered = filename.lower()
    return next((t for t in FILE_TYPES.values()
                 if any(lowered.endswith(ext) for ext in t.extensions)), None)


def sniff(data: bytes) -> str | None:
    """The accepted type the content is, by its first bytes (and a zip's parts), or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" not in names:
            return None
        return next((key for key, part in _ZIP_PART.items() if part in names), None)
    return None


def check_upload(filename: str, data: bytes, max_bytes: int) -> FileType:
    """The type an upload is served as; raises MaterialProblem when it is refused."""
    if not data:
        raise MaterialProblem(EMPTY, "the file is empty")
    if len(data) > max_bytes:
        raise MaterialProblem(TOO_BIG, f"the file is larger than {max_bytes} bytes")
    named = type_for_name(filename)
    if named is None:
        raise MaterialProblem(UNKNOWN_EXTENSION,
                              f"accepted are {', '.join(ACCEPTED_EXTENSIONS)}")
    if sniff(data) != named.key:
        raise MaterialProblem(CONTENT_MISMATCH,
                              f"the content is not a {named.key.upper()} file")
    return named


def download_name(filename: str, file_type: FileType) -> str:
    """The uploaded name made safe to offer as a download name: no folders, no control or
    reserved characters, NFC, at most MAX_NAME characters, ending in the type's extension."""
    base = re.split(r"[/\\]", filename)[-1]
    base = unicodedata.normalize("NFC", _UNSAFE_IN_NAME.sub("_", base)).strip(" ")
    stem = base
    if any(base.lower().endswith(ext) for ext in file_type.extensions):
        stem, extension = base[:base.rfind(".")], base[base.rfind("."):].lower()
    else:
        extension = file_type.extensions[0]
    stem = stem.strip(" .")[:MAX_NAME - len(extension)] or "material"
    return stem + extension


def content_disposition(filename: str, attachment: bool) -> str:
    """`attachment` or `inline`, with an ASCII `filename` for old clients and the exact name
    in `filename*` (RFC 5987/6266): 'Æblegrød.pdf' -> filename="AEblegrod.pdf";
    filename*=UTF-8''%C3%86blegr%C3%B8d.pdf."""
    ascii_name = _ascii(filename)
    header = f'{"attachment" if attachment else "inline"}; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


_TRANSLITERATE = str.maketrans({"Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Å": "A",
                                "å": "a", "ß": "ss"})


def _ascii(filename: str) -> str:
    decomposed = unicodedata.normalize("NFKD", filename.translate(_TRANSLITERATE))
    plain = "".join(c for c in decomposed if c.isascii() and c.isprintable())
    return re.sub(r'["\\%]', "_", plain).strip() or "material"


def visible(after_meeting: bool, meeting_ends_at: datetime, now: datetime) -> bool:
    """Whether participants see a material now: at once, or from the meeting's end."""
    return not after_meeting or now >= meeting_ends_at
