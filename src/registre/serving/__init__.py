"""The scoring server: registered models over MLflow's scoring protocol and the Open Inference
Protocol (v2), following the registry and micro-batching concurrent requests.

>>> from registre import Client
>>> from registre.serving import ServeConfig, serve
>>> serve(Client("./registre-data"), ServeConfig(uri="models:/Iris/Production"),
...       host="127.0.0.1", port=5001)
"""

from registre.serving.app import ServerOptions, create_app
from registre.serving.endpoints import BatchingConfig
from registre.serving.server import ServeConfig, build_server, serve

__all__ = ["BatchingConfig", "ServeConfig", "ServerOptions", "build_server", "create_app", "serve"]
