"""``registre predict``: load a registered model and predict on a CSV or JSON file."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from registre.cli._common import client, print_json
from registre.domain.errors import InvalidInput


class InputFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"


def predict(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="models:/NAME/<version|stage|latest> or @ALIAS.")],
    input: Annotated[
        str,  # not Path: Typer 0.29 then fails to recognise "-"
        typer.Argument(
            exists=True, dir_okay=False, allow_dash=True, help="Input file, - for stdin."
        ),
    ],
    format: Annotated[
        InputFormat | None,
        typer.Option("--format", help="Input format (default: from the file's extension)."),
    ] = None,
    trust_pickle: Annotated[
        bool, typer.Option("--trust-pickle", help="Allow loading pickled models (runs code).")
    ] = False,
) -> None:
    """Load a model and print {"predictions": [...]} for INPUT.

    INPUT is a CSV file with a header row, or JSON: {"dataframe_split": ...},
    {"dataframe_records": [...]}, {"instances": ...}, {"inputs": ...} (each with optional
    "params"), or a list of records.
    """
    from registre.packaging.inputs import to_jsonable

    path = Path(input)
    fmt = format or (InputFormat.CSV if path.suffix.lower() == ".csv" else InputFormat.JSON)
    data, params = _read(path, fmt)
    model = client(ctx).load_model(uri, trust_pickle=trust_pickle)
    print_json({"predictions": to_jsonable(_plain(model.predict(data, params)))})


def _read(path: Path, fmt: InputFormat) -> tuple[Any, dict[str, Any] | None]:
    import pandas as pd

    from registre.packaging.inputs import parse_scoring_payload

    stdin = sys.stdin if str(path) == "-" else None
    try:
        if fmt is InputFormat.CSV:
            return pd.read_csv(stdin or path), None
        payload = json.loads(stdin.read() if stdin else path.read_text())
    except ValueError as exc:  # pandas' parser errors and JSONDecodeError are ValueErrors
        raise InvalidInput(f"cannot read {path} as {fmt.value.upper()}: {exc}") from None
    parsed = parse_scoring_payload(payload, allow_list=True)
    return parsed.model_input(), parsed.params


def _plain(predictions: Any) -> Any:
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.tolist()
    return predictions
