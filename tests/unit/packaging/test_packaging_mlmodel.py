from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
import sklearn
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from registre.domain.errors import InvalidInput, NotFound, UnsafeModel
from registre.packaging import (
    InputExampleInfo,
    ModelInfo,
    load_model,
    read_mlmodel,
    save_model,
    write_mlmodel,
)

# An MLmodel laid out the way mlflow.sklearn.log_model writes it in MLflow 3.x.
MLFLOW_MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: {sklearn_version}
    skops_trusted_types:
    - sklearn.tree._tree.Tree
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-0123456789abcdef0123456789abcdef
model_size_bytes: 16209
model_uuid: 47c17ff52da24f38a6473cc707020c23
prompts: null
run_id: 5f1a2b3c4d5e6f708192a3b4c5d6e7f8
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{{"type": "double", "name": "sepal length (cm)", "required": true}}, {{"type":
    "double", "name": "sepal width (cm)", "required": true}}, {{"type": "double", "name":
    "petal length (cm)", "required": true}}, {{"type": "double", "name": "petal width
    (cm)", "required": true}}]'
  outputs: '[{{"type": "long", "required": true}}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-25 07:26:42.276728'
"""


@pytest.fixture
def mlflow_dir(iris, tmp_path):
    features, target = iris
    model = DecisionTreeClassifier(random_state=0).fit(features, target)
    directory = tmp_path / "mlflow_model"
    directory.mkdir()
    sio.dump(model, directory / "model.skops")
    (directory / "MLmodel").write_text(MLFLOW_MLMODEL.format(sklearn_version=sklearn.__version__))
    head = features.head(3)
    split = {"columns": list(head.columns), "data": head.to_numpy().tolist()}
    (directory / "input_example.json").write_text(json.dumps(split))
    (directory / "serving_input_example.json").write_text(json.dumps({"dataframe_split": split}))
    (directory / "requirements.txt").write_text("mlflow==3.17.2\nscikit-learn\nskops\n")
    (directory / "python_env.yaml").write_text(
        textwrap.dedent("""\
        python: 3.11.7
        build_dependencies:
        - pip==23.2.1
        dependencies:
        - -r requirements.txt
        """)
    )
    (directory / "conda.yaml").write_text("name: mlflow-env\ndependencies: [python=3.11.7]\n")
    return directory, model


def test_directory_written_like_mlflow_3_loads_and_predicts(iris, mlflow_dir):
    features, _ = iris
    directory, model = mlflow_dir

    predictor = load_model(directory)

    assert predictor.flavor == "sklearn"
    np.testing.assert_array_equal(predictor.predict(features), model.predict(features))
    info = predictor.metadata
    assert info.run_id == "5f1a2b3c4d5e6f708192a3b4c5d6e7f8"
    assert info.model_id == "m-0123456789abcdef0123456789abcdef"
    assert info.artifact_path == "model" and info.mlflow_version == "3.17.2"
    assert info.model_uuid == "47c17ff52da24f38a6473cc707020c23"
    assert info.utc_time_created == "2026-11-25 07:26:42.276728"
    assert info.saved_input_example_info == InputExampleInfo(
        "input_example.json", "dataframe", "split", "serving_input_example.json"
    )
    assert info.signature.inputs.names[0] == "sepal length (cm)"
    assert info.extra == {
        "is_signature_from_type_hint": False,
        "prompts": None,
        "type_hint_from_example": False,
    }
    pd.testing.assert_frame_equal(predictor.input_example(), features.head(3))


def test_rewriting_an_mlmodel_keeps_keys_registre_does_not_model(mlflow_dir, tmp_path):
    directory, _ = mlflow_dir
    info = read_mlmodel(directory)
    (tmp_path / "copy").mkdir()

    write_mlmodel(tmp_path / "copy", info)

    assert read_mlmodel(tmp_path / "copy") == info


def test_directory_without_mlmodel_is_not_a_model(tmp_path):
    with pytest.raises(InvalidInput, match="is not a model directory: no MLmodel file"):
        load_model(tmp_path)
    with pytest.raises(NotFound):
        read_mlmodel(tmp_path / "missing")


def test_mlflow_only_python_function_flavor_is_refused(tmp_path):
    write_mlmodel(
        tmp_path,
        ModelInfo(
            flavors={
                "python_function": {
                    "loader_module": "mlflow.pyfunc.model",
                    "python_model": "python_model.pkl",
                }
            }
        ),
    )

    with pytest.raises(UnsafeModel, match=r"mlflow\.pyfunc\.model"):
        load_model(tmp_path)


def test_unknown_flavor_is_refused(tmp_path):
    write_mlmodel(tmp_path, ModelInfo(flavors={"pytorch": {"model_data": "data"}}))

    with pytest.raises(InvalidInput, match="pytorch"):
        load_model(tmp_path)


def test_malformed_mlmodel_is_invalid_input(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors: [not, a, mapping]\n")

    with pytest.raises(InvalidInput, match="flavors"):
        read_mlmodel(tmp_path)


def test_input_example_round_trips_with_serving_payload(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)
    records = features.head(2).to_dict(orient="records")

    info = save_model(model, tmp_path / "m", input_example=records)

    assert info.saved_input_example_info == InputExampleInfo(
        "input_example.json", "dataframe", "split", "serving_input_example.json"
    )
    stored = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert stored == {
        "columns": list(features.columns),
        "data": features.head(2).to_numpy().tolist(),
    }
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving == {"dataframe_split": stored}
    pd.testing.assert_frame_equal(load_model(tmp_path / "m").input_example(), features.head(2))


def test_array_input_example_round_trips(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features.to_numpy(), target)

    info = save_model(model, tmp_path / "m", input_example=features.to_numpy()[:2])

    assert info.saved_input_example_info.type == "ndarray"
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving == {"inputs": features.to_numpy()[:2].tolist()}
    np.testing.assert_array_equal(
        load_model(tmp_path / "m").input_example(), features.to_numpy()[:2]
    )


def test_model_without_example_has_none(iris, tmp_path):
    features, target = iris
    save_model(
        LogisticRegression(max_iter=500).fit(features, target),
        tmp_path / "m",
        metadata={"team": "fraud"},
    )

    predictor = load_model(tmp_path / "m")

    assert predictor.input_example() is None
    assert predictor.metadata.signature is None
    assert predictor.metadata.metadata == {"team": "fraud"}
