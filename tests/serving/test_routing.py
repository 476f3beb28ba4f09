"""Several models at once, discovered by stage or alias, and traffic split or mirrored."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from registre import Client
from tests.serving.support import ScoringServer, constant, rows, split_body

BODY = split_body(rows())


def _predict(server: ScoringServer, path: str = "/invocations") -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=BODY, timeout=10)


def test_all_with_stage_serves_each_model_in_it_and_picks_up_new_ones(
    tmp_path: Path, serve: Callable[..., ScoringServer]
) -> None:
    home = tmp_path / "home"
    with Client(home) as client:
        for name, label, stage in (("A", 0, "Production"), ("B", 1, "Production"),
                                   ("C", 2, "Staging")):  # fmt: skip
            version = client.log_model(constant(label), name, input_example=rows().head(1))
            client.transition_stage(name, version.version, stage)
        server = serve(["--all-with-stage", "production", "--poll-interval", "0.1"], home=home)
        assert _predict(server, "/models/A/invocations").json() == {"predictions": [0, 0, 0]}
        assert _predict(server, "/models/B/invocations").json() == {"predictions": [1, 1, 1]}
        assert _predict(server, "/models/C/invocations").status_code == 404
        ambiguous = _predict(server)
        assert ambiguous.status_code == 404
        assert "/models/A/invocations" in ambiguous.json()["message"]

        client.transition_stage("C", 1, "Production")
        deadline = time.monotonic() + 30
        while (response := _predict(server, "/models/C/invocations")).status_code == 404:
            assert time.monotonic() < deadline, server.state()
            time.sleep(0.05)
        assert response.json() == {"predictions": [2, 2, 2]}
        assert response.headers["X-Model-Name"] == "C"


def test_all_with_alias_serves_the_aliased_versions(
    tmp_path: Path, serve: Callable[..., ScoringServer]
) -> None:
    home = tmp_path / "home"
    with Client(home) as client:
        client.log_model(constant(0), "A", input_example=rows().head(1))
        client.log_model(constant(1), "A", input_example=rows().head(1))
        client.set_alias("A", "champion", 2)
        client.log_model(constant(2), "B", input_example=rows().head(1))
    server = serve(["--all-with-alias", "champion"], home=home)
    response = _predict(server)  # the only model served is the default one
    assert response.json() == {"predictions": [1, 1, 1]}
    assert response.headers["X-Model-Version"] == "2"
    assert [m["uri"] for m in server.state()["models"]] == ["models:/A@champion"]


def test_a_split_answers_a_share_and_a_shadow_sees_a_copy(
    tmp_path: Path, serve: Callable[..., ScoringServer]
) -> None:
    home = tmp_path / "home"
    with Client(home) as client:
        client.log_model(constant(0), "Iris", input_example=rows().head(1))
        client.transition_stage("Iris", 1, "Production")
        client.log_model(constant(1), "Iris", input_example=rows().head(1))
        client.set_alias("Iris", "challenger", 2)
        client.log_model(constant(2), "Iris", input_example=rows().head(1))
        client.set_alias("Iris", "shadow", 3)
    server = serve(
        ["models:/Iris/Production", "--split", "models:/Iris@challenger=30",
         "--shadow", "models:/Iris@shadow=100"],
        home=home,
    )  # fmt: skip
    routes: dict[str, int] = {}
    with httpx.Client(timeout=10) as http:
        for _ in range(200):
            response = http.post(f"{server.url}/invocations", json=BODY)
            route = response.headers["X-Model-Route"]
            routes[route] = routes.get(route, 0) + 1
            expected = {"primary": ("1", 0), "split": ("2", 1)}[route]
            assert response.headers["X-Model-Version"] == expected[0]
            assert response.json() == {"predictions": [expected[1]] * 3}
    assert 30 <= routes["split"] <= 100, routes
    state = server.served()
    assert state["split"]["share"] == 0.3
    assert state["shadow"]["version"] == "3"
    # Every request was mirrored to the shadow, whose answers were only counted and logged.
    deadline = time.monotonic() + 10
    while True:
        logged = [json.loads(x) for x in server.log().splitlines() if x.startswith("{")]
        shadowed = [x for x in logged if x.get("route") == "shadow"]
        if len(shadowed) == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(shadowed) == 200
    assert {(x["version"], x["status"]) for x in shadowed} == {("3", 200)}
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'registre_serving_requests_total{model="Iris",status="200",version="3"} 200.0' in metrics
