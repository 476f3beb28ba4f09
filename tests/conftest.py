"""Shared test configuration: real services (PostgreSQL, S3, Registre server) as fixtures."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.s3",
    "tests.fixtures.server",
]
