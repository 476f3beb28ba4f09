"""The artifact proxy's own namespace: any safe relative path outside a run or logged model."""

from __future__ import annotations

import hashlib

import pytest

from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import PROXY_ROOT, ListedFile, parse_proxy_location
from registre.service.registry import Registry
from registre.service.tracking import Tracking


def test_paths_are_placed_by_their_layout() -> None:
    run = "a" * 32
    model = "m-" + "b" * 32
    assert parse_proxy_location(f"1/{run}/artifacts/x/y").root.kind == "run"
    assert parse_proxy_location(f"1/models/{model}/artifacts/x").root.kind == "model"
    for path in ("a.txt", "dir/b.txt", "1/x.txt", f"1/{run}/other/x", "x/models/y/artifacts/z",
                 f"1/models/{model}/x", "x/a:b", ""):  # fmt: skip
        location = parse_proxy_location(path)
        assert (location.root, location.path) == (PROXY_ROOT, path)


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../x", "%2e%2e/x", "a\\b", "/etc/passwd", "a#b", "a?b", "file:x/y",
     "file:///etc/passwd", "C:/x", "s3:bucket/key", "a\x00b", "a//b", "_registry/SXJpcw/1/MLmodel"],
)  # fmt: skip
def test_unsafe_or_reserved_paths_are_refused(tracking: Tracking, path: str) -> None:
    with pytest.raises(InvalidInput):
        tracking.artifacts.put(path, [b"x"])
    with pytest.raises(InvalidInput):
        tracking.artifacts.delete(path)


def test_files_anywhere_below_the_proxy_root(tracking: Tracking, registry: Registry) -> None:
    entry = tracking.artifacts.put("a.txt", [b"0"])
    assert entry.digest == hashlib.sha256(b"0").hexdigest()
    tracking.artifacts.put("dir/b.txt", [b"1"])
    tracking.artifacts.put("dir/empty.txt", [])
    _, chunks = tracking.artifacts.open("dir/b.txt")
    assert b"".join(chunks) == b"1"
    assert tracking.artifacts.list("") == [ListedFile("a.txt", False, 1), ListedFile("dir", True)]
    assert tracking.artifacts.list("dir") == [
        ListedFile("b.txt", False, 1), ListedFile("empty.txt", False, 0),
    ]  # fmt: skip
    assert tracking.artifacts.list("a.txt") == [] and tracking.artifacts.list("nope") == []
    tracking.artifacts.put("a.txt", [b"replaced"])
    assert b"".join(tracking.artifacts.open("a.txt")[1]) == b"replaced"
    assert tracking.artifacts.delete("dir") == 2
    with pytest.raises(NotFound):
        tracking.artifacts.open("dir/b.txt")
    with pytest.raises(InvalidInput):
        tracking.artifacts.delete("")  # the whole namespace: refused
    with registry.store.read() as conn:
        actions = [e.action for e in registry.store.events(conn, "mlflow-artifacts/", None, 99, 0)]
    assert sorted(set(actions)) == ["delete_artifacts", "put_artifact"]


def test_run_layout_paths_still_need_their_run(tracking: Tracking) -> None:
    with pytest.raises(NotFound):
        tracking.artifacts.put(f"0/{'a' * 32}/artifacts/x.txt", [b"x"])
    run = tracking.create_run("0")
    tracking.artifacts.put(f"0/{run.id}/artifacts/x.txt", [b"x"])
    tracking.artifacts.put(f"0/{run.id}/elsewhere.txt", [b"y"])  # not the run's layout
    assert tracking.artifacts.list(f"0/{run.id}") == [ListedFile("elsewhere.txt", False, 1)]
    assert tracking.artifacts.list(f"0/{run.id}/artifacts") == [ListedFile("x.txt", False, 1)]


def test_multipart_upload_into_the_proxy_namespace(tracking: Tracking) -> None:
    upload = tracking.artifacts.create_upload("shared/big", "/home/me/data.bin", 2)
    etags = [tracking.artifacts.put_part(upload, n, [bytes([n]) * 3]) for n in (1, 2)]
    tracking.artifacts.complete_upload("shared/big", "data.bin", upload,
                                       [(1, etags[0]), (2, etags[1])])  # fmt: skip
    assert b"".join(tracking.artifacts.open("shared/big/data.bin")[1]) == b"\x01" * 3 + b"\x02" * 3
    with pytest.raises(InvalidInput):
        tracking.artifacts.create_upload("file:x", "data.bin", 1)
