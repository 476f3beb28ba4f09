from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from registre.domain.errors import InvalidInput
from registre.packaging import TensorSpec, load_model, save_model

skl2onnx = pytest.importorskip("skl2onnx")


@pytest.fixture(scope="module")
def iris_onnx(iris):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features.to_numpy(np.float32), target)
    proto = skl2onnx.to_onnx(model, features.to_numpy(np.float32)[:1], options={"zipmap": False})
    return model, proto


def test_onnx_round_trip_predicts_like_the_sklearn_model(iris, iris_onnx, tmp_path):
    features, _ = iris
    model, proto = iris_onnx

    info = save_model(proto, tmp_path / "m")
    predictor = load_model(tmp_path / "m")

    assert predictor.flavor == "onnx"
    assert (tmp_path / "m" / "model.onnx").is_file()
    assert info.flavors["onnx"]["data"] == "model.onnx"
    assert info.flavors["onnx"]["providers"] == ["CPUExecutionProvider"]
    assert info.flavors["python_function"]["loader_module"] == "mlflow.onnx"
    expected = model.predict(features.to_numpy(np.float32))
    np.testing.assert_array_equal(predictor.predict(features.to_numpy()), expected)
    np.testing.assert_array_equal(predictor.predict(features), expected)


def test_onnx_saved_from_bytes_or_path(iris, iris_onnx, tmp_path):
    features, _ = iris
    model, proto = iris_onnx
    (tmp_path / "iris.onnx").write_bytes(proto.SerializeToString())

    save_model(proto.SerializeToString(), tmp_path / "from_bytes", flavor="onnx")
    save_model(tmp_path / "iris.onnx", tmp_path / "from_path")

    for name in ("from_bytes", "from_path"):
        predicted = load_model(tmp_path / name).predict(features.to_numpy())
        np.testing.assert_array_equal(predicted, model.predict(features.to_numpy(np.float32)))


def test_onnx_takes_a_dict_keyed_by_input_name_and_returns_all_outputs(iris, iris_onnx, tmp_path):
    features, _ = iris
    model, proto = iris_onnx
    save_model(proto, tmp_path / "m")
    predictor = load_model(tmp_path / "m")
    rows = features.to_numpy(np.float32)[:5]

    outputs = predictor.predict({"X": rows}, params={"output": "all"})

    assert set(outputs) == {"label", "probabilities"}
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(rows), rtol=1e-4)
    np.testing.assert_array_equal(predictor.predict({"X": rows}), model.predict(rows))


def test_onnx_signature_is_inferred_as_a_tensor(iris, iris_onnx, tmp_path):
    features, _ = iris
    _, proto = iris_onnx

    info = save_model(proto, tmp_path / "m", input_example=features.to_numpy(np.float32)[:3])

    assert info.signature is not None and info.signature.inputs is not None
    assert info.signature.inputs.specs == (TensorSpec("float32", (-1, 4)),)
    assert info.signature.outputs.specs == (TensorSpec("int64", (-1,)),)
    example = load_model(tmp_path / "m").input_example()
    assert example.dtype == np.float32 and example.shape == (3, 4)


def test_onnx_input_of_the_wrong_shape_is_refused(iris, iris_onnx, tmp_path):
    features, _ = iris
    _, proto = iris_onnx
    save_model(proto, tmp_path / "m", input_example=features.to_numpy(np.float32)[:3])

    with pytest.raises(InvalidInput, match="shape"):
        load_model(tmp_path / "m").predict(np.zeros((2, 3), dtype=np.float32))


def test_onnx_missing_named_input_is_refused(iris_onnx, tmp_path):
    _, proto = iris_onnx
    save_model(proto, tmp_path / "m")

    with pytest.raises(InvalidInput, match="missing model input"):
        load_model(tmp_path / "m").predict({"not_x": np.zeros((1, 4))})


def test_unknown_onnx_output_is_refused(iris, iris_onnx, tmp_path):
    _, proto = iris_onnx
    save_model(proto, tmp_path / "m")

    with pytest.raises(InvalidInput, match="unknown output"):
        load_model(tmp_path / "m").predict(pd.DataFrame(np.zeros((1, 4))), params={"output": "x"})
