"""``registre predict`` on a scikit-learn model logged with ``Client.log_model``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, as_json

pytest.importorskip("registre.packaging.saving", reason="registre.packaging not available yet")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
linear_model = pytest.importorskip("sklearn.linear_model")


@pytest.fixture
def logged(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """An iris LogisticRegression as "Iris" version 1; returns its predictions on 5 rows."""
    from registre import Client

    monkeypatch.setenv("REGISTRE_CACHE_DIR", str(tmp_path / "cache"))
    frame = sklearn_datasets.load_iris(as_frame=True).frame
    features = frame.drop(columns="target")
    model = linear_model.LogisticRegression(max_iter=500).fit(features, frame["target"])
    with Client(home) as client:
        client.log_model(model, "Iris", input_example=features.head(3))
    rows = features.iloc[[0, 50, 100, 1, 51]]
    rows.to_csv(tmp_path / "rows.csv", index=False)
    split = {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}
    (tmp_path / "split.json").write_text(json.dumps({"dataframe_split": split}))
    (tmp_path / "records.json").write_text(rows.to_json(orient="records"))
    return [int(p) for p in model.predict(rows)]


@pytest.mark.parametrize("input_file", ["rows.csv", "split.json", "records.json"])
def test_predict_prints_the_models_predictions(
    cli: Cli, logged: list[int], tmp_path: Path, input_file: str
) -> None:
    result = cli("predict", "models:/Iris/latest", str(tmp_path / input_file))
    assert as_json(result) == {"predictions": logged}
    assert logged == [0, 1, 2, 0, 1]


def test_predict_reads_stdin(cli: Cli, logged: list[int], tmp_path: Path) -> None:
    rows = (tmp_path / "rows.csv").read_text()
    result = cli("predict", "models:/Iris/1", "-", "--format", "csv", input=rows)
    assert as_json(result) == {"predictions": logged}


def test_predict_rejects_an_unknown_json_shape(cli: Cli, logged: list[int], tmp_path: Path) -> None:
    (tmp_path / "odd.json").write_text('{"rows": []}')
    result = cli("predict", "models:/Iris/1", str(tmp_path / "odd.json"), code=2)
    assert result.stderr.startswith("error: unrecognised JSON input")


def test_predict_on_a_missing_model_exits_4(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    cli("predict", "models:/Nope/latest", str(tmp_path / "rows.csv"), code=4)
