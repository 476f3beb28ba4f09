"""``registre serve``: a scoring server for registered models that follows the registry."""

from __future__ import annotations

from typing import Annotated

import typer

from registre.cli._common import client, pairs

SHARE_HELP = "URI=PERCENT, e.g. models:/Iris@challenger=10"


def serve(
    ctx: typer.Context,
    uri: Annotated[
        str | None,
        typer.Argument(help="The default model (at /invocations): models:/NAME/<ref> or @ALIAS."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 5001,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="A Registre server URL (default: --url / REGISTRE_URL, "
            "else the embedded registry on --home).",
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="NAME=URI: also serve URI at /models/NAME/invocations."),
    ] = None,
    all_with_stage: Annotated[
        str | None,
        typer.Option("--all-with-stage", help="Serve every model with a version in this stage."),
    ] = None,
    all_with_alias: Annotated[
        str | None,
        typer.Option("--all-with-alias", help="Serve every model that has this alias."),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option("--split", help=f"Answer a share with a second model: {SHARE_HELP}."),
    ] = None,
    shadow: Annotated[
        str | None,
        typer.Option("--shadow", help=f"Mirror a share to a second model: {SHARE_HELP}."),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow/--no-follow", help="Swap in new versions of stages and aliases."),
    ] = True,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", help="Seconds between registry polls.")
    ] = 2.0,
    batching: Annotated[
        bool,
        typer.Option(
            "--batching/--no-batching",
            help="Micro-batch concurrent requests (row-wise flavors: sklearn, onnx).",
        ),
    ] = True,
    max_batch: Annotated[int, typer.Option("--max-batch", help="Most requests per batch.")] = 64,
    max_wait_ms: Annotated[
        float, typer.Option("--max-wait-ms", help="Longest a request waits for company.")
    ] = 2.0,
    trust_pickle: Annotated[
        bool, typer.Option("--trust-pickle", help="Allow loading pickled models (runs code).")
    ] = False,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="One JSON line per request.")
    ] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="Server log level.")] = "info",
) -> None:
    """Serve models over MLflow's scoring protocol and the Open Inference Protocol (v2).

    POST /invocations (JSON or CSV) for the default model, /models/NAME/invocations for the
    others, /v2/models/NAME/infer for v2 clients; GET /ping, /-/state, /metrics.
    """
    from registre.client.client import Client
    from registre.serving.app import ServerOptions
    from registre.serving.endpoints import BatchingConfig
    from registre.serving.server import ServeConfig
    from registre.serving.server import serve as run

    config = ServeConfig(
        uri=uri,
        models=pairs(model, "--model"),
        all_with_stage=all_with_stage,
        all_with_alias=all_with_alias,
        split=_share(split, "--split"),
        shadow=_share(shadow, "--shadow"),
        follow=follow,
        poll_interval=poll_interval,
        batching=BatchingConfig(batching, max_batch, max_wait_ms),
        trust_pickle=trust_pickle,
        options=ServerOptions(access_log=access_log),
    )
    registry_client = Client(registry) if registry else client(ctx)
    run(registry_client, config, host=host, port=port, log_level=log_level)


def _share(value: str | None, option: str) -> tuple[str, float] | None:
    if value is None:
        return None
    uri, sep, percent = value.rpartition("=")
    try:
        share = float(percent) / 100
    except ValueError:
        share = -1.0
    if not sep or not uri or not 0 <= share <= 1:
        raise typer.BadParameter(f"expected {SHARE_HELP}, got {value!r}", param_hint=option)
    return uri, share
