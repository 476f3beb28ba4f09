from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml

from registre.domain.errors import InvalidInput, UnsafeModel
from registre.packaging import PyfuncModel, load_model, save_model

MODEL_SOURCE = """
from pathlib import Path


class Scaler:
    def load_context(self, artifacts_dir: Path) -> None:
        factor = artifacts_dir / "factor.txt"
        self.factor = float(factor.read_text()) if factor.exists() else 1.0

    def predict(self, model_input, params=None):
        offset = (params or {}).get("offset", 0.0)
        return model_input["x"].to_numpy() * self.factor + offset
"""


@pytest.fixture
def model_module(tmp_path):
    """A freshly written module holding the model class, importable while the test runs."""
    name = f"scaler_{uuid.uuid4().hex[:8]}"
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    (source_dir / f"{name}.py").write_text(textwrap.dedent(MODEL_SOURCE))
    sys.path.insert(0, str(source_dir))
    module = importlib.import_module(name)
    yield module, source_dir / f"{name}.py"
    sys.modules.pop(name, None)
    sys.path[:] = [p for p in sys.path if not p.startswith(str(tmp_path))]


def _forget(module, source: Path) -> None:
    """Make the module importable only from the model's code/ directory."""
    sys.modules.pop(module.__name__)
    sys.path.remove(str(source.parent))
    source.unlink()


def test_pyfunc_with_shipped_code_needs_trust_code(model_module, tmp_path):
    module, source = model_module
    factor = tmp_path / "factor.txt"
    factor.write_text("3")
    spec = PyfuncModel(module.Scaler, code_paths=[source], artifacts={"factor.txt": factor})

    info = save_model(spec, tmp_path / "m")
    _forget(module, source)

    conf = info.flavors["registre_pyfunc"]
    assert conf["entry_point"] == f"{module.__name__}:Scaler"
    assert (tmp_path / "m" / "code" / source.name).is_file()
    assert (tmp_path / "m" / "artifacts" / "factor.txt").read_text() == "3"
    with pytest.raises(UnsafeModel, match="trust_code=True"):
        load_model(tmp_path / "m")
    predictor = load_model(tmp_path / "m", trust_code=True)
    assert predictor.flavor == "registre_pyfunc"
    assert list(predictor.predict(pd.DataFrame({"x": [1.0, 2.0]}))) == [3.0, 6.0]
    assert list(predictor.predict([{"x": 1.0}], params={"offset": 1.0})) == [4.0]
    assert Path(sys.modules[module.__name__].__file__).parent == tmp_path / "m" / "code"


def test_pyfunc_signature_is_inferred_by_running_the_class(model_module, tmp_path):
    module, source = model_module

    info = save_model(
        PyfuncModel(module.Scaler, code_paths=[source]),
        tmp_path / "m",
        input_example={"x": [1.0, 2.0]},
    )

    assert info.signature.inputs.to_json() == '[{"type": "double", "name": "x", "required": true}]'
    assert info.signature.outputs.to_json() == '[{"type": "double", "required": true}]'
    with pytest.raises(InvalidInput, match="missing required column 'x'"):
        load_model(tmp_path / "m", trust_code=True).predict({"y": [1.0]})


def test_pyfunc_without_shipped_code_loads_an_installed_class(model_module, tmp_path):
    module, _ = model_module

    info = save_model(module.Scaler, tmp_path / "m")

    assert "code" not in info.flavors["registre_pyfunc"]
    assert "python_function" not in info.flavors
    predictor = load_model(tmp_path / "m")
    assert list(predictor.predict({"x": [2.0]})) == [2.0]


def test_pyfunc_entry_point_must_be_a_class_with_predict(model_module, tmp_path):
    module, _ = model_module
    save_model(module.Scaler, tmp_path / "m")
    mlmodel = tmp_path / "m" / "MLmodel"
    raw = yaml.safe_load(mlmodel.read_text())
    raw["flavors"]["registre_pyfunc"]["entry_point"] = "os:system"
    mlmodel.write_text(yaml.safe_dump(raw))

    with pytest.raises(InvalidInput, match="not a class with predict"):
        load_model(tmp_path / "m", trust_code=True)


def test_pyfunc_class_that_cannot_be_imported_by_name_is_refused(tmp_path):
    class Local:
        def predict(self, model_input, params=None):
            return model_input

    with pytest.raises(InvalidInput, match="cannot be imported back"):
        save_model(Local, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_missing_code_path_is_refused(model_module, tmp_path):
    module, _ = model_module

    with pytest.raises(InvalidInput, match="does not exist"):
        save_model(PyfuncModel(module.Scaler, code_paths=[tmp_path / "nope.py"]), tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
