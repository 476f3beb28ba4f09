"""The ``docker`` target: the model's image, built and run by the local Docker engine.

``create`` writes the build context (see :mod:`registre.deploy.image`); when a Docker engine
answers it also builds the image and runs it (``-C port=8080``), otherwise it prints the
commands. Config: ``tag``, ``port`` (8080), ``base_image``, ``output``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from registre.deploy.base import default_image, int_option, option
from registre.deploy.image import CONTAINER_PORT, docker_available, write_build_context
from registre.deploy.written import Rendered, WrittenTarget
from registre.domain.entities import ModelVersion


class DockerTarget(WrittenTarget):
    name = "docker"

    def render(
        self, name: str, version: ModelVersion, uri: str, config: Mapping[str, str], out: Path
    ) -> Rendered:
        tag = option(config, "tag", default_image(version))
        port = int_option(config, "port", CONTAINER_PORT)
        context = out / "context"
        if context.exists():
            import shutil

            shutil.rmtree(context)
        built = write_build_context(
            self.context.client, uri, context, tag=tag, base_image=config.get("base_image")
        )
        container = f"registre-{name}"
        commands = [
            " ".join(built.build_command()),
            f"docker rm -f {container} 2>/dev/null; docker run -d --name {container} "
            f"-p {port}:{CONTAINER_PORT} {tag}",
        ]
        status = "written"
        if docker_available():
            for command in commands:
                subprocess.run(command, shell=True, check=True)
            status = "running"
            commands = []
        return Rendered(
            files={},
            commands=commands,
            delete_commands=[f"docker rm -f {container}"],
            details={
                "status": status,
                "image": tag,
                "context": str(context),
                "endpoint": f"http://127.0.0.1:{port}/invocations",
            },
        )

    def delete(self, name: str, config: Mapping[str, str]) -> list[str]:
        commands = super().delete(name, config)
        if docker_available():
            subprocess.run(["docker", "rm", "-f", f"registre-{name}"], check=False)
            return []
        return commands
