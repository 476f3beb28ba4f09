# The same commands the README shows.
.PHONY: run test lint format bench bench-mlflow bench-serving clean

run:  ## set up and start the server on embedded defaults (SQLite + ./registre-data)
	scripts/bootstrap
	.venv/bin/registre server

test:  ## set up (virtualenvs, PostgreSQL binaries) and run the whole test suite
	scripts/bootstrap test
	scripts/install-services
	.venv/bin/ruff check src tests bench examples
	.venv/bin/ruff format --check src tests bench examples
	.venv/bin/mypy
	REGISTRE_MLFLOW2_PYTHON=$${REGISTRE_MLFLOW2_PYTHON:-$(CURDIR)/.venv-mlflow2/bin/python} \
	  .venv/bin/python -m pytest -q -p no:cacheprovider

lint:  ## ruff (lint + format) and mypy, as `make test` runs them
	.venv/bin/ruff check src tests bench examples
	.venv/bin/ruff format --check src tests bench examples
	.venv/bin/mypy

format:
	.venv/bin/ruff format src tests bench examples
	.venv/bin/ruff check --fix src tests bench examples

bench:  ## the native API under load (see bench/RESULTS.md; needs wrk)
	.venv/bin/python -m bench.native

bench-mlflow:  ## the same MLflow-REST workload against mlflow server and Registre
	.venv/bin/python -m bench.mlflow_compare

bench-serving:  ## mlflow models serve vs registre serve
	.venv/bin/python -m bench.serving

clean:
	rm -rf .venv .venv-mlflow2 registre-data .pytest_cache
