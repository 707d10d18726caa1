"""``GET runs/ID/preview/NAME`` and ``GET runs/ID/inline/NAME`` against a real jupyter_server:
previews, the sandbox header on HTML, and no byte from outside the store for any name."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_mlops as mlops
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

SECRET = "SECRET-outside-the-store"


async def test_text_preview_and_sizes(api, project) -> None:
    code, body = await api("runs", project.script[0], "preview", "notes.txt")
    assert code == 200
    assert (body["preview"], body["text"], body["size_text"]) == ("text", "artifact body", "14 B")
    code, body = await api("runs", project.script[0], "preview", "notes.txt", params={"rows": 0})
    assert code == 400 and "rows must be from 1 to 100" in body["error"]


async def test_html_report_is_sandboxed(
    http_server_client, jp_base_url, jp_auth_header, api, project
) -> None:
    run_id = project.pipeline[0]
    code, body = await api("runs", run_id, "preview", "gate-report.html")
    assert code == 200 and body["preview"] == "html" and body["media_type"] == "text/html"
    url = f"{jp_base_url}jupyter-mlops/api/runs/{run_id}/inline/gate-report.html"
    resp = await http_server_client.fetch(url, headers=jp_auth_header)
    policy = [p.strip() for p in resp.headers["Content-Security-Policy"].split(";")]
    assert policy[0] == "sandbox"  # no allow-scripts, no allow-same-origin
    assert not any("allow-" in p for p in policy) and "default-src 'none'" in policy
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "attachment" not in resp.headers.get("Content-Disposition", "")
    assert b"<table" in resp.body
    # A text file is not shown inline: a 400 saying where to download it.
    code, body = await api("runs", project.script[0], "inline", "notes.txt")
    assert code == 400 and "only images and HTML" in body["error"]


@pytest.mark.parametrize(
    "name",
    ["../notes.txt", "..%2Fnotes.txt", "%2Fetc%2Fpasswd", "..%2F..%2Fmlops.db", "nope.txt"],
)
async def test_bad_names_are_404(api, project, name: str) -> None:
    for route in ("preview", "inline"):
        code, body = await api("runs", project.script[0], route, urllib.parse.unquote(name))
        assert code == 404 and set(body) == {"error"}, (route, name, body)


async def test_a_blob_linked_out_of_the_store_is_404(
    api, project, tmp_path: Path, jp_root_dir: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    for run_id, name in (
        (project.script[0], "notes.txt"),
        (project.pipeline[0], "gate-report.html"),
    ):
        art = next(a for a in mlops.get_run(run_id).artifacts if a.name == name)
        blob = jp_root_dir / ".mlops" / art.uri
        blob.unlink()
        blob.symlink_to(secret)
        for route in ("preview", "inline"):
            code, body = await api("runs", run_id, route, name)
            assert code == 404 and SECRET not in json.dumps(body), (route, name)


# Names a client could send: traversal, encodings, control and odd characters, long ones.
NAMES = st.one_of(
    st.sampled_from(["notes.txt", "gate-report.html", "..", ".", "/", "%00", "a/../../b", "~"]),
    st.text(max_size=60),
    st.lists(st.sampled_from(["..", ".", "notes.txt", "", "%2e%2e", "\\"]), max_size=6).map(
        "/".join
    ),
    st.text(min_size=4000, max_size=5000, alphabet="ab/."),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=NAMES, route=st.sampled_from(["preview", "inline"]))
def test_any_name_is_a_4xx_or_the_logged_file(
    http_server_client, jp_base_url, jp_auth_header, project, jp_asyncio_loop, name, route
) -> None:
    run_id = project.pipeline[0]
    quoted = urllib.parse.quote(name, safe="/")
    url = f"{jp_base_url}jupyter-mlops/api/runs/{run_id}/{route}/{quoted}"
    fetch = http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)
    resp = jp_asyncio_loop.run_until_complete(fetch)
    assert resp.code < 500, (name, resp.body[:300])
    if resp.code >= 400:
        assert set(json.loads(resp.body)) == {"error"}
    else:
        assert name == "gate-report.html", name  # only the name the run logged resolves
    assert b"root:" not in resp.body
