from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from registre.domain.errors import InvalidInput
from registre.packaging import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_signature,
    load_model,
    save_model,
)
from registre.packaging.enforcement import enforce_input

SCHEMA = Schema((ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c", False)))


def test_columns_are_inferred_with_mlflow_types():
    frame = pd.DataFrame({"f": [1.5], "i": [1], "s": ["x"], "b": [True], "f32": np.float32([1])})

    signature = infer_signature(frame, np.array([0]))

    assert json.loads(signature.to_dict()["inputs"]) == [
        {"type": "double", "name": "f", "required": True},
        {"type": "long", "name": "i", "required": True},
        {"type": "string", "name": "s", "required": True},
        {"type": "boolean", "name": "b", "required": True},
        {"type": "float", "name": "f32", "required": True},
    ]
    assert signature.to_dict()["outputs"] == '[{"type": "long", "required": true}]'


def test_arrays_are_inferred_as_tensors():
    signature = infer_signature(np.zeros((3, 4)), np.zeros(3, dtype=np.int64))

    assert signature.to_dict() == {
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
        "params": None,
    }


def test_signature_json_round_trips():
    signature = ModelSignature(
        SCHEMA,
        Schema((TensorSpec("int64", (-1,), "out"),)),
        [{"name": "k", "type": "long", "default": 1, "shape": None}],
    )

    assert ModelSignature.from_dict(signature.to_dict()) == signature


def test_signature_inferred_on_save_from_the_example_and_prediction(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)

    info = save_model(model, tmp_path / "m", input_example=features.head(3))

    assert info.signature == infer_signature(features, model.predict(features))


def test_missing_required_column_is_named():
    with pytest.raises(InvalidInput, match="missing required column 'b'"):
        enforce_input(pd.DataFrame({"a": [1.0]}), SCHEMA)


def test_wrong_type_is_named():
    with pytest.raises(InvalidInput, match=r"column 'a' has string values.*double"):
        enforce_input(pd.DataFrame({"a": ["x"], "b": [1]}), SCHEMA)
    with pytest.raises(InvalidInput, match=r"column 'b' has floating values.*long"):
        enforce_input(pd.DataFrame({"a": [1.0], "b": [1.5]}), SCHEMA)


def test_castable_columns_are_cast_ordered_and_extras_dropped():
    frame = pd.DataFrame({"extra": [0], "b": [2.0], "a": [1]})

    checked = enforce_input(frame, SCHEMA)

    assert list(checked.columns) == ["a", "b"]
    assert checked.dtypes.tolist() == [np.float64, np.int64]


def test_positional_rows_take_the_signature_names():
    schema = Schema((ColSpec("double", "a"), ColSpec("double", "b")))

    checked = enforce_input(np.array([[1.0, 2.0]]), schema)

    assert list(checked.columns) == ["a", "b"]


def test_tensor_of_the_wrong_kind_is_refused():
    schema = Schema((TensorSpec("int64", (-1, 2)),))

    with pytest.raises(InvalidInput, match="cannot be cast to int64"):
        enforce_input(np.zeros((1, 2)), schema)
    with pytest.raises(InvalidInput, match="shape"):
        enforce_input(np.zeros((1, 3), dtype=np.int64), schema)
    assert enforce_input(np.zeros((1, 2), dtype=np.int32), schema).dtype == np.int64


def test_predict_enforces_the_saved_signature(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)
    save_model(model, tmp_path / "m", input_example=features.head(3))
    predictor = load_model(tmp_path / "m")

    with pytest.raises(InvalidInput, match="missing required column 'petal width \\(cm\\)'"):
        predictor.predict(features.drop(columns="petal width (cm)"))
    wrong = features.astype({"sepal width (cm)": str})
    wrong["sepal width (cm)"] = "wide"
    with pytest.raises(InvalidInput, match="column 'sepal width \\(cm\\)'"):
        predictor.predict(wrong)
    records = features.head(2).to_dict(orient="records")
    np.testing.assert_array_equal(predictor.predict(records), model.predict(features.head(2)))
    columns = features.head(2).to_dict(orient="list")
    np.testing.assert_array_equal(predictor.predict(columns), model.predict(features.head(2)))
