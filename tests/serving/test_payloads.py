"""The scoring-payload parser shared by ``registre serve`` and ``registre predict``."""

from __future__ import annotations

import pandas as pd
import pytest

from registre.domain.errors import InvalidInput
from registre.packaging.inputs import MalformedPayload, parse_scoring_payload
from registre.serving.container import detect


def test_each_format_keeps_its_data_and_params() -> None:
    split = parse_scoring_payload(
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}, "params": {"k": 1}}
    )
    assert split.format == "dataframe_split"
    assert split.params == {"k": 1}
    frame = split.model_input()
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict(orient="records") == [{"a": 1, "b": 2}]
    assert parse_scoring_payload({"dataframe_records": [{"a": 1}]}).model_input() == [{"a": 1}]
    assert parse_scoring_payload({"instances": [[1, 2]]}).data == [[1, 2]]
    assert parse_scoring_payload({"inputs": {"x": [1, 2]}}).data == {"x": [1, 2]}


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ([{"a": 1}], "the body is a list"),
        ("text", "a JSON str"),
        ({}, "found none"),
        ({"inputs": [1], "instances": [1]}, "found instances and inputs"),
        ({"inputs": [1], "rows": 1}, "unknown keys ['rows']"),
        ({"dataframe_split": [[1]]}, "must be an object"),
        ({"dataframe_split": {"data": [[1]], "columns": "a"}}, "list of column names"),
        ({"dataframe_split": {"data": [[1]], "typo": 1}}, "unknown keys ['typo']"),
        ({"dataframe_split": {"data": [1, 2]}}, "data[0] is not a list"),
        ({"dataframe_split": {"data": [[1]], "index": [1, 2]}}, "index must be a list as long"),
        ({"dataframe_records": {"a": 1}}, "list of records"),
        ({"instances": {"a": 1}}, "'instances' must be a list"),
        ({"inputs": 3}, "'inputs' must be a list or an object"),
        ({"inputs": [1], "params": "x"}, "'params' must be an object"),
    ],
)
def test_malformed_payloads_are_bad_requests(payload: object, words: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_scoring_payload(payload)
    assert words in caught.value.message
    assert caught.value.code == "BAD_REQUEST"
    assert isinstance(caught.value, InvalidInput)  # the CLI maps it to exit code 2


def test_the_cli_also_takes_a_bare_list() -> None:
    assert parse_scoring_payload([{"a": 1}], allow_list=True).format == "dataframe_records"
    assert parse_scoring_payload([[1, 2]], allow_list=True).format == "instances"


@pytest.mark.parametrize(
    ("env", "argv", "platform", "port"),
    [
        ({}, ["serve"], "sagemaker", 8080),
        ({"SAGEMAKER_BIND_TO_PORT": "9000"}, [], "sagemaker", 9000),
        ({"AIP_HTTP_PORT": "7080", "AIP_PREDICT_ROUTE": "/p"}, [], "vertexai", 7080),
        ({"AZUREML_MODEL_DIR": "/m"}, [], "azureml", 5001),
        ({}, [], "generic", 8080),
    ],
)
def test_the_container_recognises_its_platform(
    env: dict[str, str], argv: list[str], platform: str, port: int
) -> None:
    found = detect(env, argv)
    assert (found.name, found.port) == (platform, port)
