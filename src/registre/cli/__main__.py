"""``python -m registre.cli``: the same as the ``registre`` console script."""

from registre.cli.main import app

app(prog_name="registre")
