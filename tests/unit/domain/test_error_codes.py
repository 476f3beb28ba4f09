"""Every error the service raises keeps its class (and so its CLI exit code) over HTTP."""

from __future__ import annotations

import httpx
import pytest

from registre.domain import errors
from registre.domain.errors import RegistreError
from registre.server.responses import error_response

_SERVICE_ERRORS = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, RegistreError) and cls is not RegistreError
]


def test_the_service_errors_are_all_listed() -> None:
    names = {cls.__name__ for cls in _SERVICE_ERRORS}
    assert {"NotFound", "IntegrityError", "StorageFull", "Unavailable"} <= names
    # one code and one exit code per kind
    assert len({cls.code for cls in _SERVICE_ERRORS}) == len(_SERVICE_ERRORS)


@pytest.mark.parametrize("cls", _SERVICE_ERRORS, ids=lambda cls: cls.__name__)
def test_a_server_error_comes_back_as_its_own_class(cls: type[RegistreError]) -> None:
    from registre.client.remote import _error_from

    sent = error_response(cls.status, cls.code, "what happened")
    request = httpx.Request("POST", "http://registre/api/v1/blobs")
    received = httpx.Response(sent.status_code, content=sent.body, request=request)
    error = _error_from(received)
    assert type(error) is cls
    assert (error.message, error.exit_code) == ("what happened", cls.exit_code)
