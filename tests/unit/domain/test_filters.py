from __future__ import annotations

import pytest

from registre.domain import tracking_filters
from registre.domain.errors import InvalidInput
from registre.domain.filters import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_TERMS,
    BoolOp,
    Compare,
    Field,
    OrderBy,
    parse_filter,
    parse_order_by,
)


def test_blank_filter_is_no_filter() -> None:
    assert parse_filter(None) is None
    assert parse_filter("   ") is None


def test_and_of_metric_and_stage() -> None:
    node = parse_filter("metrics.accuracy > 0.9 and stage = 'Production'")
    assert node == BoolOp(
        "AND",
        (
            Compare(Field("metric", "accuracy"), ">", 0.9),
            Compare(Field("attr", "stage"), "=", "Production"),
        ),
    )


def test_or_binds_looser_than_and_and_parentheses_group() -> None:
    node = parse_filter("name = 'a' or name = 'b' and version = 2")
    assert isinstance(node, BoolOp) and node.op == "OR"
    assert isinstance(node.items[1], BoolOp) and node.items[1].op == "AND"
    grouped = parse_filter("(name = 'a' or name = 'b') and version = 2")
    assert isinstance(grouped, BoolOp) and grouped.op == "AND"


def test_mlflow_spellings_are_accepted() -> None:
    assert parse_filter("version_number >= 3") == Compare(Field("attr", "version"), ">=", 3)
    assert parse_filter("run_id IN ('a', 'b')") == Compare(
        Field("attr", "run_id"), "IN", ("a", "b")
    )
    assert parse_filter("tags.`mlflow.prompt.is_prompt` != 'true'") == Compare(
        Field("tag", "mlflow.prompt.is_prompt"), "!=", "true"
    )
    assert parse_filter('tags."my key" = "v"') == Compare(Field("tag", "my key"), "=", "v")
    assert parse_filter("name ILIKE '%iris%'") == Compare(Field("attr", "name"), "ILIKE", "%iris%")
    assert parse_filter("tags.a.b.c = 'x'") == Compare(Field("tag", "a.b.c"), "=", "x")


def test_quotes_escape() -> None:
    assert parse_filter("name = 'it''s'") == Compare(Field("attr", "name"), "=", "it's")


@pytest.mark.parametrize(
    "text",
    [
        "name",
        "name =",
        "= 'x'",
        "unknown = 1",
        "metrics.acc > 'high'",
        "metrics.acc LIKE '1%'",
        "tags.k > 'v'",
        "name = 'a' and",
        "(name = 'a'",
        "name NOT = 'a'",
        "name = 'a' extra",
        "bogus.k = 'v'",
    ],
)
def test_invalid_filters_say_so(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_filter(text)


def test_order_by() -> None:
    assert parse_order_by(["metrics.accuracy DESC", "version_number"]) == [
        OrderBy(Field("metric", "accuracy"), True),
        OrderBy(Field("attr", "version"), False),
    ]
    assert parse_order_by("name ASC, created_at desc") == [
        OrderBy(Field("attr", "name"), False),
        OrderBy(Field("attr", "created_at"), True),
    ]
    with pytest.raises(InvalidInput):
        parse_order_by(["name sideways"])


def test_filters_are_bounded_in_comparisons_and_nesting() -> None:
    term = "name = 'a'"
    assert parse_filter(" or ".join([term] * MAX_FILTER_TERMS)) is not None
    with pytest.raises(InvalidInput, match=f"more than {MAX_FILTER_TERMS} comparisons"):
        parse_filter(" or ".join([term] * (MAX_FILTER_TERMS + 1)))
    depth = MAX_FILTER_DEPTH
    assert parse_filter("(" * depth + term + ")" * depth) is not None
    with pytest.raises(InvalidInput, match=f"nested more than {MAX_FILTER_DEPTH} deep"):
        parse_filter("(" * (depth + 1) + term + ")" * (depth + 1))
    with pytest.raises(InvalidInput, match="comparisons"):  # runs and logged models too
        tracking_filters.parse(" and ".join(["params.a = 'x'"] * (MAX_FILTER_TERMS + 1)))
    assert (
        len(tracking_filters.parse(" and ".join(["params.a = 'x'"] * MAX_FILTER_TERMS)))
        == MAX_FILTER_TERMS
    )
