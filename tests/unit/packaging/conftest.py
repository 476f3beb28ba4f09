from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_iris


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, target
