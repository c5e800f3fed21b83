"""Where `?next=` may send someone: only paths on this site, as the browser will read them."""

from __future__ import annotations

import pytest

from cohort.core.links import same_site_path

HOSTILE = [
    "//evil.example/x", "/\\evil.example/x", "\\\\evil.example", "/\t/evil.example/x",
    "\t//evil.example/x", " //evil.example", "/\n/evil.example", "/\r\n/evil.example",
    "\x00//evil.example", "/\x0b/evil.example", "https://evil.example/x",
    "http:evil.example", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
    "evil.example", "", None, "/" + "a" * 3000, "\u2028//evil.example",
]
SAME_SITE = [
    ("/programmes/", "/programmes/"), ("/cohorts/1?tab=people", "/cohorts/1?tab=people"),
    ("  /dashboard ", "/dashboard"), ("/dash\r\nboard", "/dashboard"),
    ("/x?next=//evil.example", "/x?next=//evil.example"),  # a query is no host
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target):
    assert same_site_path(target) is None


@pytest.mark.parametrize(("target", "path"), SAME_SITE)
def test_paths_on_this_site_pass(target, path):
    assert same_site_path(target) == path
