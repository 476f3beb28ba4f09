from __future__ import annotations

import pytest

from registre.domain.entities import Stage
from registre.domain.errors import InvalidInput
from registre.domain.names import (
    check_alias,
    check_artifact_path,
    check_model_name,
    check_version,
)
from registre.service.uris import ModelRef, parse_model_uri


@pytest.mark.parametrize(
    ("given", "expected"),
    [("model/MLmodel", "model/MLmodel"), ("a//b/./c", "a/b/c"), ("plots/cm.png", "plots/cm.png")],
)
def test_artifact_paths_normalise(given: str, expected: str) -> None:
    assert check_artifact_path(given) == expected


@pytest.mark.parametrize(
    "path",
    [
        "",
        ".",
        "..",
        "../x",
        "a/../../x",
        "/abs",
        "\\\\server\\share",
        "a\\b",
        "a\x00b",
        "C:/x",
        "file:///etc/passwd",
        "s3://bucket/key",
    ],
)
def test_artifact_paths_that_could_escape_are_rejected(path: str) -> None:
    with pytest.raises(InvalidInput):
        check_artifact_path(path)


def test_model_names() -> None:
    assert check_model_name("Iris Classifier-2.0") == "Iris Classifier-2.0"
    for bad in ("", "a/b", "a\\b", "x" * 257, "bell\x07", " lead"):
        with pytest.raises(InvalidInput):
            check_model_name(bad)


def test_versions_are_positive_integers() -> None:
    assert check_version("3") == 3 and check_version(3) == 3
    for bad in ("abc", "0", -1, "1.5", True, None, "99999999999"):
        with pytest.raises(InvalidInput):
            check_version(bad)


def test_aliases() -> None:
    assert check_alias("champion") == "champion"
    for bad in ("latest", "v3", "1abc", "has space", ""):
        with pytest.raises(InvalidInput):
            check_alias(bad)


def test_stage_parsing_is_case_insensitive_with_canonical_output() -> None:
    assert Stage.parse("production") is Stage.PRODUCTION
    assert Stage.parse(" STAGING ") is Stage.STAGING
    assert Stage.parse("none").value == "None"
    with pytest.raises(InvalidInput, match="None, Staging, Production, Archived"):
        Stage.parse("prod")


@pytest.mark.parametrize(
    ("uri", "ref"),
    [
        ("models:/Iris/Production", ModelRef("Iris", "stage", "Production")),
        ("models:/Iris/staging", ModelRef("Iris", "stage", "Staging")),
        ("models:/Iris/3", ModelRef("Iris", "version", "3")),
        ("models:/Iris/latest", ModelRef("Iris", "latest", "latest")),
        ("models:/Iris@champion", ModelRef("Iris", "alias", "champion")),
        ("models:/My%20Model/1", ModelRef("My Model", "version", "1")),
    ],
)
def test_model_uris(uri: str, ref: ModelRef) -> None:
    assert parse_model_uri(uri) == ref


@pytest.mark.parametrize("uri", ["runs:/x/model", "models:/", "models:/Iris", "models:/Iris/Prod"])
def test_bad_model_uris(uri: str) -> None:
    with pytest.raises(InvalidInput):
        parse_model_uri(uri)
