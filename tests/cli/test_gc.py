"""``registre db gc``: counts, then deletes, old blobs nothing references."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.cli.conftest import Cli, as_json


def test_db_gc_dry_run_then_delete(cli: Cli, home: Path, tmp_path: Path) -> None:
    kept, orphan = tmp_path / "kept.bin", tmp_path / "orphan.bin"
    kept.write_bytes(b"registered bytes")
    orphan.write_bytes(b"orphan bytes")
    cli("versions", "register", "Gc", str(kept))
    put = as_json(cli("artifacts", "put", str(orphan), "--json"))
    digest = put[0]["digest"] if isinstance(put, list) else put["digest"]
    blob = home / "artifacts" / "sha256" / digest[:2] / digest
    old = time.time() - 48 * 3600
    os.utime(blob, (old, old))

    report = as_json(cli("db", "gc", "--dry-run", "--json"))
    assert report == {
        "examined": 2, "referenced": 1, "too_young": 0, "deleted": 1,
        "freed_bytes": len(b"orphan bytes"), "dry_run": True,
    }  # fmt: skip
    assert blob.exists()
    out = cli("db", "gc").stdout
    assert "deleted 1" in out and not blob.exists()
    assert "registered bytes" not in out
    assert as_json(cli("versions", "show", "Gc", "1", "--json"))["files"][0]["size"] == 16
