"""web/common.py: the programme library is kept between requests and read again when a
template file changes."""

from __future__ import annotations

import shutil

import pytest

from cohort.web import common
from tests.fixtures.paths import PROGRAMMES


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_library_is_parsed_again_only_when_a_template_file_changes(app, tmp_path,
                                                                         monkeypatch):
    folder = tmp_path / "programmes"
    shutil.copytree(PROGRAMMES, folder)
    app.config["PROGRAMMES_DIR"] = str(folder)
    parsed = []
    load = common.load_library
    monkeypatch.setattr(common, "load_library", lambda d: parsed.append(d) or load(d))
    with app.app_context():
        first = common.library()
        assert common.library() is first and len(parsed) == 1
        # A template written: its new title, at once.
        template = folder / "digital-lederskab.yaml"
        template.write_text(template.read_text(encoding="utf-8").replace(
            "title: Kompetencer til Digitalt Lederskab", "title: Nyt navn"), encoding="utf-8")
        edited = common.library()
        assert edited.programmes["digital-lederskab"].title == "Nyt navn" and len(parsed) == 2
        assert common.library() is edited
        # A file added (a broken one, listed) and removed again.
        broken = folder / "broken.yaml"
        broken.write_text("id: broken\n", encoding="utf-8")
        assert "programmes/broken.yaml" in common.library().broken
        broken.unlink()
        assert common.library().broken == {} and len(parsed) == 4
        # Another folder.
        app.config["PROGRAMMES_DIR"] = str(PROGRAMMES)
        shipped = common.library()
        assert shipped.programmes["digital-lederskab"].title != "Nyt navn"
        assert len(parsed) == 5
