from __future__ import annotations

import pytest

from registre.domain import tracking_filters as tf
from registre.domain.errors import InvalidInput


def _check(text: str, values: dict[tuple[str, str], tf.Scalar | None]) -> bool:
    return tf.matches(tf.parse(text), lambda c: values.get((c.kind, c.key)))


def test_conditions_join_with_and_over_all_kinds() -> None:
    values = {("metric", "acc"): 0.93, ("param", "alpha"): "0.1", ("tag", "mlflow.user"): "ada",
              ("attr", "status"): "FINISHED"}  # fmt: skip
    assert _check("metrics.acc > 0.9 and params.alpha = '0.1'", values)
    assert _check(
        "tags.mlflow.user = 'ada' AND attributes.status IN ('FINISHED', 'FAILED')", values
    )
    assert _check("tags.`mlflow.user` LIKE 'a%'", values)
    assert not _check("metrics.acc < 0.9", values)
    assert _check("tags.missing != 'x'", values)  # a missing value is "not equal"
    assert not _check("tags.missing = 'x'", values)


@pytest.mark.parametrize("text", ["a = 1 OR b = 2", "a =", "= 1", "a IN (", "a NOT = 1", "a ~ 1"])
def test_invalid_filters(text: str) -> None:
    with pytest.raises(InvalidInput):
        tf.parse(text)
