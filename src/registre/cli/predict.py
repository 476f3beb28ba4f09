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
    {"dataframe_records": [...]}, a list of records, or {"inputs": ...}.
    """
    from registre.packaging.inputs import to_jsonable

    path = Path(input)
    fmt = format or (InputFormat.CSV if path.suffix.lower() == ".csv" else InputFormat.JSON)
    data = _read(path, fmt)
    model = client(ctx).load_model(uri, trust_pickle=trust_pickle)
    print_json({"predictions": to_jsonable(_plain(model.predict(data)))})


def _read(path: Path, fmt: InputFormat) -> Any:
    import pandas as pd

    stdin = sys.stdin if str(path) == "-" else None
    try:
        if fmt is InputFormat.CSV:
            return pd.read_csv(stdin or path)
        payload = json.loads(stdin.read() if stdin else path.read_text())
    except ValueError as exc:  # pandas' parser errors and JSONDecodeError are ValueErrors
        raise InvalidInput(f"cannot read {path} as {fmt.value.upper()}: {exc}") from None
    return _from_payload(payload)


def _from_payload(payload: Any) -> Any:
    """MLflow's scoring payloads, as the predictor takes them."""
    import pandas as pd

    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if isinstance(payload.get("dataframe_split"), dict):
            split = payload["dataframe_split"]
            return pd.DataFrame(
                split.get("data"), columns=split.get("columns"), index=split.get("index")
            )
        for key in ("dataframe_records", "inputs", "instances"):
            if key in payload:
                return payload[key]
    raise InvalidInput(
        'unrecognised JSON input: expected {"dataframe_split": ...}, '
        '{"dataframe_records": [...]}, {"inputs": ...} or a list of records'
    )


def _plain(predictions: Any) -> Any:
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.tolist()
    return predictions
