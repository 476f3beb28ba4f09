"""The Registre walkthrough: train, register, promote, alias, load, roll back, download, search.

    python examples/iris_walkthrough.py                          # embedded (./registre-data)
    python examples/iris_walkthrough.py --url http://127.0.0.1:5000
    REGISTRE_URL=http://127.0.0.1:5000 python examples/iris_walkthrough.py

Each step prints what it did; the script exits non-zero if any expectation fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score
from sklearn.model_selection import train_test_split

import registre

MODEL = "IrisClassifierModel"


def train(model: object, x_train: pd.DataFrame, y_train: pd.Series) -> object:
    model.fit(x_train, y_train)  # type: ignore[attr-defined]
    return model


def extra_artifacts(model: object, x_test: pd.DataFrame, y_test: pd.Series, out: Path) -> dict:
    """A confusion-matrix PNG and a config file, registered beside the model."""
    out.mkdir(parents=True, exist_ok=True)
    display = ConfusionMatrixDisplay.from_estimator(model, x_test, y_test)
    display.figure_.savefig(out / "confusion_matrix.png")
    plt.close(display.figure_)
    (out / "config.json").write_text(json.dumps(model.get_params(), default=str, indent=2))  # type: ignore[attr-defined]
    return {
        "plots/confusion_matrix.png": out / "confusion_matrix.png",
        "config/config.json": out / "config.json",
    }


def main(url: str | None) -> None:
    target = url or os.environ.get("REGISTRE_URL") or None
    client = registre.Client(target)
    home = os.environ.get("REGISTRE_HOME", "registre-data")
    print(f"registry: {target or f'embedded ({home})'}")
    data = load_iris(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=42, stratify=data.target
    )
    # A fresh model name per run keeps the walkthrough repeatable on a shared registry.
    if any(m.name == MODEL for m in client.search_models(f"name = '{MODEL}'").items):
        client.delete_model(MODEL)

    # 1-2. Train two models and register each with params, metrics and extra files.
    candidates = [
        ("logreg", LogisticRegression(max_iter=200, C=0.02)),
        ("forest", RandomForestClassifier(n_estimators=50, random_state=0)),
    ]
    versions = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, estimator in candidates:
            model = train(estimator, x_train, y_train)
            predicted = model.predict(x_test)  # type: ignore[attr-defined]
            metrics = {
                "accuracy": accuracy_score(y_test, predicted),
                "f1": f1_score(y_test, predicted, average="macro"),
            }
            version = client.log_model(
                model,
                MODEL,
                artifacts=extra_artifacts(model, x_test, y_test, Path(tmp) / label),
                input_example=x_train.head(3),
                metrics=metrics,
                params={k: v for k, v in model.get_params().items() if v is not None},  # type: ignore[attr-defined]
                tags={"algorithm": label},
                description=f"{label} trained on Iris",
            )
            versions.append(version)
            print(f"registered {MODEL} v{version.version}: {label} {metrics}")
    assert [v.version for v in versions] == [1, 2], versions
    for v in client.list_versions(MODEL):
        accuracy, f1 = v.metrics["accuracy"], v.metrics["f1"]
        print(f"  v{v.version} stage={v.stage} accuracy={accuracy:.3f} f1={f1:.3f}")

    # 3. Promote: v1 → Staging → Production; v2 → Production archiving v1 in the same step.
    client.transition_stage(MODEL, 1, "staging")
    client.transition_stage(MODEL, 1, "production")
    client.transition_stage(MODEL, 2, "Production", archive_existing=True)
    stages = {v.version: v.stage.value for v in client.list_versions(MODEL)}
    print(f"stages: {stages}")
    assert stages == {1: "Archived", 2: "Production"}, stages

    # 4. Alias and load by stage, number, alias and latest; predict on DataFrame and numpy.
    client.set_alias(MODEL, "champion", 2)
    rows = x_test.head(5)
    for uri in (f"models:/{MODEL}/Production", f"models:/{MODEL}/2", f"models:/{MODEL}@champion",
                f"models:/{MODEL}/latest"):  # fmt: skip
        predictor = client.load_model(uri)
        from_frame = np.asarray(predictor.predict(rows))
        from_numpy = np.asarray(predictor.predict(rows.to_numpy()))
        assert list(from_frame) == list(from_numpy), uri
        print(f"{uri} → {from_frame.tolist()}")

    # 5. Roll back: v1 returns to Production (v2 archived); history shows every move.
    restored = client.rollback(MODEL)
    print(f"rolled back to v{restored.version} ({restored.stage})")
    assert restored.version == 1
    for event in client.history(MODEL).items:
        if event.action in ("transition_stage", "rollback", "set_alias"):
            when = datetime.fromtimestamp(event.at / 1000).isoformat(timespec="seconds")
            print(f"  {when} {event.actor:>8} {event.action:<17} v{event.version} "
                  f"{event.before} → {event.after}")  # fmt: skip

    # 6. Download one file and all files; digests match what was registered.
    with tempfile.TemporaryDirectory() as tmp:
        one = client.download(MODEL, 2, Path(tmp) / "one", path="plots/confusion_matrix.png")
        everything = client.download(MODEL, 2, Path(tmp) / "all")
        recorded = {f.path: f.digest for f in client.list_files(MODEL, 2)}
        for path in everything:
            rel = path.relative_to(Path(tmp) / "all").as_posix()
            assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[rel], rel
        print(f"downloaded {len(one)} + {len(everything)} files; sha256 digests match")

    # 7. Annotate and search.
    client.update_model(MODEL, "Iris species classifier")
    client.set_model_tag(MODEL, "team", "botany")
    client.update_version(MODEL, 2, "Random forest, 50 trees")
    client.set_version_tag(MODEL, 2, "validated", "true")
    in_production = client.search_versions(
        f"name = '{MODEL}' and metrics.accuracy > 0.85 and stage = 'Production'"
    )
    print(f"Production with accuracy > 0.85: {[v.version for v in in_production.items]}")
    assert [v.version for v in in_production.items] == [1]
    best = client.search_versions(
        f"name = '{MODEL}' and metrics.f1 > 0.5",
        order_by=["metrics.accuracy DESC"],
        max_results=1,
    )
    print(f"most accurate: v{best.items[0].version} (more pages: {bool(best.next_page_token)})")
    assert best.items[0].version == 2 and best.next_page_token
    tagged = client.search_versions("tags.validated = 'true' and alias = 'champion'")
    assert [v.version for v in tagged.items if v.name == MODEL] == [2]
    client.close()
    print("walkthrough complete")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="Registre server URL (default: REGISTRE_URL, else embedded)")
    main(parser.parse_args().url)
