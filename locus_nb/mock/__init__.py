"""A local mock of OCI Generative AI's `/openai/v1/responses` endpoint."""

from ._app import MockConfig, MockState, create_app
from ._server import MockServer, embedded_mock

__all__ = ["MockConfig", "MockServer", "MockState", "create_app", "embedded_mock"]
