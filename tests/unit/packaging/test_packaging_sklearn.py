from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from registre.domain.errors import AlreadyExists, InvalidInput, UnsafeModel
from registre.packaging import load_model, read_mlmodel, save_model

ESTIMATORS = {
    "logistic_regression": lambda: LogisticRegression(max_iter=500),
    "random_forest": lambda: RandomForestClassifier(n_estimators=10, random_state=0),
    "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
    "decision_tree": lambda: DecisionTreeClassifier(random_state=0),
}


class MeanPredictor(BaseEstimator):
    """A custom estimator: skops does not know its type."""

    def fit(self, features: pd.DataFrame, target: pd.Series) -> MeanPredictor:
        self.mean_ = float(np.mean(target))
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return np.full(len(features), self.mean_)


def _edit_mlmodel(directory: Path, edit: dict) -> None:
    file = directory / "MLmodel"
    raw = yaml.safe_load(file.read_text())
    raw["flavors"]["sklearn"].update(edit)
    file.write_text(yaml.safe_dump(raw))


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_skops_round_trip_predicts_like_the_original(iris, tmp_path, kind):
    features, target = iris
    model = ESTIMATORS[kind]().fit(features, target)

    save_model(model, tmp_path / "m")
    predictor = load_model(tmp_path / "m")

    assert type(predictor.raw_model) is type(model)
    assert predictor.flavor == "sklearn"
    np.testing.assert_array_equal(predictor.predict(features), model.predict(features))


def test_skops_directory_has_mlflow_layout(iris, tmp_path):
    features, target = iris
    model = DecisionTreeClassifier(random_state=0).fit(features, target)

    info = save_model(model, tmp_path / "m")

    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "MLmodel",
        "conda.yaml",
        "model.skops",
        "python_env.yaml",
        "requirements.txt",
    ]
    sklearn_conf = info.flavors["sklearn"]
    assert sklearn_conf["pickled_model"] == "model.skops"
    assert sklearn_conf["serialization_format"] == "skops"
    assert sklearn_conf["skops_trusted_types"] == ["sklearn.tree._tree.Tree"]
    pyfunc_conf = info.flavors["python_function"]
    assert pyfunc_conf["loader_module"] == "mlflow.sklearn"
    assert pyfunc_conf["model_path"] == "model.skops"
    assert pyfunc_conf["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert len(info.model_uuid or "") == 32 and info.model_size_bytes
    assert read_mlmodel(tmp_path / "m") == info
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("skops==") for r in requirements)
    assert not any(r.startswith("mlflow") for r in requirements)


def test_pickle_needs_an_explicit_trust_flag(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)

    info = save_model(model, tmp_path / "m", serialization="pickle")

    assert info.flavors["sklearn"]["pickled_model"] == "model.pkl"
    with pytest.raises(UnsafeModel, match="trust_pickle=True"):
        load_model(tmp_path / "m")
    predictor = load_model(tmp_path / "m", trust_pickle=True)
    np.testing.assert_array_equal(predictor.predict(features), model.predict(features))


def test_cloudpickle_round_trip_with_trust(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)

    info = save_model(model, tmp_path / "m", serialization="cloudpickle")

    assert info.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    with pytest.raises(UnsafeModel):
        load_model(tmp_path / "m")
    np.testing.assert_array_equal(
        load_model(tmp_path / "m", trust_pickle=True).predict(features), model.predict(features)
    )


def test_unknown_serialization_is_refused_and_leaves_nothing(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)

    with pytest.raises(InvalidInput, match="serialization"):
        save_model(model, tmp_path / "m", serialization="joblib")

    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_non_empty_directory_is_refused(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)
    save_model(model, tmp_path / "m")

    with pytest.raises(AlreadyExists):
        save_model(model, tmp_path / "m")


def test_saving_into_an_existing_empty_directory_works(iris, tmp_path):
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)
    (tmp_path / "m").mkdir()

    save_model(model, tmp_path / "m")

    assert (tmp_path / "m" / "MLmodel").is_file()


def test_skops_type_missing_from_mlmodel_is_refused(iris, tmp_path):
    features, target = iris
    save_model(DecisionTreeClassifier().fit(features, target), tmp_path / "m")
    _edit_mlmodel(tmp_path / "m", {"skops_trusted_types": None})

    with pytest.raises(UnsafeModel, match=r"sklearn\.tree\._tree\.Tree"):
        load_model(tmp_path / "m")
    assert load_model(tmp_path / "m", trust_pickle=True).predict(features.head(2)).shape == (2,)


def test_recorded_custom_type_is_not_trusted_without_trust_pickle(iris, tmp_path):
    features, target = iris
    model = MeanPredictor().fit(features, target)

    info = save_model(model, tmp_path / "m")

    assert info.flavors["sklearn"]["skops_trusted_types"] == [
        f"{MeanPredictor.__module__}.MeanPredictor"
    ]
    with pytest.raises(UnsafeModel, match="MeanPredictor"):
        load_model(tmp_path / "m")
    predicted = load_model(tmp_path / "m", trust_pickle=True).predict(features)
    np.testing.assert_array_equal(predicted, model.predict(features))


def test_recorded_function_is_not_trusted_without_trust_pickle(iris, tmp_path):
    features, target = iris
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression(max_iter=500))
    model.fit(features.to_numpy(), target)

    save_model(model, tmp_path / "m")

    with pytest.raises(UnsafeModel, match=r"_operator\.neg"):
        load_model(tmp_path / "m")


def test_mlmodel_path_outside_the_directory_is_refused(iris, tmp_path):
    features, target = iris
    save_model(LogisticRegression(max_iter=500).fit(features, target), tmp_path / "m")
    _edit_mlmodel(tmp_path / "m", {"pickled_model": "../../elsewhere/model.skops"})

    with pytest.raises(InvalidInput, match="leaves the model directory"):
        load_model(tmp_path / "m")
