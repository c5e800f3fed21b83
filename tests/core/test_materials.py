"""What a meeting material may be, how it is named and when participants see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cohort.core import materials as rules
from tests.fixtures import materials as files


@pytest.mark.parametrize("name, data, kind", [
    ("Slides.pdf", files.PDF, "pdf"), ("deck.PPTX", files.PPTX, "pptx"),
    ("notes.docx", files.DOCX, "docx"), ("photo.png", files.PNG, "png"),
    ("photo.jpg", files.JPEG, "jpeg"), ("photo.JPEG", files.JPEG, "jpeg"),
])
def test_the_accepted_kinds_pass_by_their_content(name, data, kind):
    assert rules.check_upload(name, data, 10_000).key == kind


@pytest.mark.parametrize("name, data, code", [
    ("setup.pdf", files.EXE, rules.CONTENT_MISMATCH),  # a program renamed .pdf
    ("page.png", files.HTML, rules.CONTENT_MISMATCH),  # a web page named .png
    ("notes.docx", files.plain_zip(), rules.CONTENT_MISMATCH),  # any zip renamed .docx
    ("deck.pptx", files.DOCX, rules.CONTENT_MISMATCH),  # a Word file named .pptx
    ("slides.pdf", files.PNG, rules.CONTENT_MISMATCH),
    ("page.html", files.HTML, rules.UNKNOWN_EXTENSION),
    ("setup.exe", files.EXE, rules.UNKNOWN_EXTENSION),
    ("slides", files.PDF, rules.UNKNOWN_EXTENSION),
    ("slides.pdf", b"", rules.EMPTY),
])
def test_uploads_are_refused_by_content_and_name(name, data, code):
    with pytest.raises(rules.MaterialProblem) as refused:
        rules.check_upload(name, data, 10_000)
    assert refused.value.code == code


def test_the_size_limit_is_inclusive():
    assert rules.check_upload("a.pdf", files.PDF, len(files.PDF)).key == "pdf"
    with pytest.raises(rules.MaterialProblem) as refused:
        rules.check_upload("a.pdf", files.PDF, len(files.PDF) - 1)
    assert refused.value.code == rules.TOO_BIG


def test_a_broken_zip_is_no_office_file():
    assert rules.sniff(b"PK\x03\x04 not really a zip") is None


@pytest.mark.parametrize("uploaded, kind, offered", [
    ("Æblegrød.pdf", "pdf", "Æblegrød.pdf"),
    ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
    ("C:\\Users\\anne\\Slides.PDF", "pdf", "Slides.pdf"),
    ('a"b;c\r\nSet-Cookie: x.docx', "docx", "a_b_c__Set-Cookie_ x.docx"),
    ("photo.jpeg", "jpeg", "photo.jpeg"),
    ("slides", "pdf", "slides.pdf"),
    (".pdf", "pdf", "material.pdf"),
    ("x" * 300 + ".pdf", "pdf", "x" * 146 + ".pdf"),
])
def test_download_names_are_cleaned(uploaded, kind, offered):
    assert rules.download_name(uploaded, rules.FILE_TYPES[kind]) == offered


def test_content_disposition_carries_non_ascii_names_by_rfc_5987():
    assert rules.content_disposition("Æblegrød.pdf", False) == (
        "inline; filename=\"AEblegrod.pdf\"; filename*=UTF-8''%C3%86blegr%C3%B8d.pdf")
    assert rules.content_disposition("Plan 2025.docx", True) == (
        'attachment; filename="Plan 2025.docx"')


def test_office_files_are_attachments_pdfs_and_images_are_not():
    assert {key for key, t in rules.FILE_TYPES.items() if t.attachment} == {"docx", "pptx"}


def test_after_the_meeting_means_from_its_end():
    ends = datetime(2025, 4, 8, 12, 0, tzinfo=UTC)
    assert rules.visible(False, ends, ends - timedelta(days=30))
    assert not rules.visible(True, ends, ends - timedelta(seconds=1))
    assert rules.visible(True, ends, ends)
