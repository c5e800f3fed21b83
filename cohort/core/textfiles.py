"""Reading uploaded spreadsheets saved as CSV: UTF-8, with or without Excel's byte-order mark."""

from __future__ import annotations

NOT_UTF8 = "the file is not UTF-8 text; in Excel choose 'CSV UTF-8' when saving"


class NotUtf8(ValueError):
    """The file is in another encoding; `line` is where the first undecodable byte is."""

    def __init__(self, line: int):
        super().__init__(NOT_UTF8)
        self.line = line


def decode_utf8(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data[: exc.start].count(b"\n") + 1) from None
