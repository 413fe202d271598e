"""The API's error contract in its OpenAPI schema, written in one place.

Every route declares the problems it can answer (``application/problem+json``, RFC 9457, with the
``Problem`` schema; ``422`` with ``ValidationProblem``, which names each field) and, where the
change gate can defer the change, ``202`` with ``ApprovalPending``. Nothing of this is written per
route: ``declare_responses`` derives it from what the route is made of, when the schema is built:

- it authenticates (``current_principal`` among its dependencies): ``401`` and ``429`` (with
  ``Retry-After``); it checks a permission (``require``): ``403``;
- it has parameters or a body: ``422``; a path parameter (an object addressed by id or name), or a
  body field that references one (``..._id``): ``404``;
- it uses the process services (PostgreSQL, Redis, Temporal, NATS): ``503``;
- its handler reaches (through the functions of ``api`` it calls) the change gate: ``202``, ``403``
  (a policy's refusal) and ``409`` (over quota); a cluster's JetStream API: ``400`` (NATS refused),
  ``404``; a ``ProblemError`` / ``HTTPException`` with a status written in the code: that status.

A route may still declare a response itself (``responses=`` on the route) to say something
particular of it (a sentence, a body of its own): its description and body are kept; a problem's
content is made the shared schema.

``allowed_methods`` gives the ``Allow`` header of a ``405``: every method of the path, not only
those of the first route Starlette tried; a method the literal path does not have is a ``405``
even where a template with a parameter in its place has it (``DELETE /users/invitations`` is not
``DELETE /users/{user_id}`` with a malformed id).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import Match

PROBLEM = "application/problem+json"
PROBLEM_CODES = (400, 401, 403, 404, 409, 413, 422, 429, 503)
DESCRIPTIONS = {
    400: "NATS refused the request; the detail gives its reason.",
    401: "Not signed in, or the access token, session or API key is invalid or expired.",
    403: "Your role (or the API key's scopes) does not allow this, or a policy refused the change.",
    404: "No such object in your organization.",
    409: "The request conflicts with the current state (a name in use, a team quota that would "
    "be exceeded, an object in the wrong state).",
    413: "The request is larger than allowed.",
    422: "Invalid input: `errors` names each field with its message.",
    429: "Too many requests: retry after the number of seconds in `Retry-After`.",
    503: "A service the request needs (PostgreSQL, Redis, Temporal, NATS, ClickHouse) is "
    "unavailable; retry later.",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "description": "An RFC 9457 problem: a sentence a person can act on; further members may "
    "give details (a quota's usage and limit, the permission missing).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "additionalProperties": True,
}
VALIDATION_PROBLEM_SCHEMA = {
    "title": "ValidationProblem",
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                }
            },
        },
    ],
}
SSE_EVENT = {
    "type": "object",
    "title": "ServerSentEvent",
    "required": ["data"],
    "description": "One server-sent event: its name and its data (JSON text).",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "string"},
    }
}
# What reaching these (by name, in ``api``) tells of a route.
GATE = {"gate_change", "open_and_start", "judge_change"}
JETSTREAM = {"cluster_jetstream"}
RAISERS = {"ProblemError", "HTTPException", "problem", "deny", "validation_problem"}


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _calls(dependant: Dependant) -> set[Callable]:
    return {d.call for d in _dependencies(dependant) if d.call is not None}


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _reach(func: Any, seen: set[int] | None = None) -> tuple[set[str], set[int]]:
    """The names of ``api`` functions the handler calls (transitively), and the problem statuses
    written in them: an integer constant of ``PROBLEM_CODES`` in a function that raises or
    answers a problem."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None or id(code) in seen:
        return set(), set()
    seen.add(id(code))
    names: set[str] = set()
    statuses: set[int] = set()
    scope = getattr(func, "__globals__", {})
    for part in _code_objects(code):
        used = set(part.co_names) | set(part.co_freevars)
        names |= used
        if used & RAISERS:
            statuses |= {c for c in part.co_consts if type(c) is int and c in PROBLEM_CODES}
        for name in part.co_names:
            target = scope.get(name)
            if isinstance(target, types.ModuleType) and target.__name__.startswith("api."):
                for attr in part.co_names:  # ``module.function``
                    inner = getattr(target, attr, None)
                    if inspect.isfunction(inner):
                        more = _reach(inner, seen)
                        names |= more[0]
                        statuses |= more[1]
            elif inspect.isfunction(target) and target.__module__.startswith("api."):
                more = _reach(target, seen)
                names |= more[0]
                statuses |= more[1]
    return names, statuses


def _id_fields(schema: Any) -> bool:
    if isinstance(schema, dict):
        names = schema.get("properties", {})
        return any(n.endswith(("_id", "_ids")) for n in names) or any(
            _id_fields(v) for v in schema.values()
        )
    if isinstance(schema, list):
        return any(_id_fields(v) for v in schema)
    return False


def _references_objects(route: Any) -> bool:
    """Whether the body names another object by id (at any depth): a 404 when it is not one of
    the organization's."""
    body = route.body_field
    model = getattr(body, "type_", None) if body is not None else None
    if model is None:
        model = getattr(getattr(body, "field_info", None), "annotation", None)
    if inspect.isclass(model) and issubclass(model, BaseModel):
        return _id_fields(model.model_json_schema())
    return False


def derive(route: Any) -> tuple[set[int], bool]:
    """The problem statuses a route can answer, and whether the change gate may defer it (202)."""
    from api.deps import current_principal, get_services  # the request's dependencies

    calls = _calls(route.dependant)
    names, statuses = set(), set()
    for func in [route.endpoint, *calls]:
        found = _reach(func)
        names |= found[0]
        statuses |= found[1]
    codes = set(statuses)
    if current_principal in calls:
        codes |= {401, 429}
    if any(getattr(call, "permission", None) for call in calls) or "deny" in names:
        codes.add(403)
    dependant = route.dependant
    if (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or route.body_field is not None
    ):
        codes.add(422)
    if dependant.path_params or _references_objects(route):
        codes.add(404)
    if get_services in calls or current_principal in calls:
        codes.add(503)
    gated = bool(names & GATE)
    if gated:
        codes |= {403, 409}
    if names & JETSTREAM:
        codes |= {400, 404, 503}
    return codes, gated


def _problem_response(code: int, given: dict[str, Any] | None) -> dict[str, Any]:
    schema = "ValidationProblem" if code == 422 else "Problem"
    response: dict[str, Any] = {"description": DESCRIPTIONS.get(code, "A problem.")}
    if given and given.get("description") and given["description"] != "Validation Error":
        response["description"] = given["description"]
    content = {
        k: v
        for k, v in (given or {}).get("content", {}).items()
        if k not in (PROBLEM, "application/json")
    }
    response["content"] = {
        PROBLEM: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
        **content,
    }
    headers = dict((given or {}).get("headers", {}))
    if code == 429:
        headers.update(RETRY_AFTER)
    if headers:
        response["headers"] = headers
    return response


def declare_responses(schema: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Complete ``schema`` (FastAPI's) with the responses each route can give."""
    from api.change_gate import ApprovalPending

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    components["ServerSentEvent"] = SSE_EVENT
    components["ApprovalPending"] = ApprovalPending.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        codes, gated = derive(route)
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(c) for c in responses if c.isdigit() and int(c) >= 400}
            for code in sorted(codes | declared):
                responses[str(code)] = _problem_response(code, responses.get(str(code)))
            for response in responses.values():
                stream = response.get("content", {}).get("text/event-stream")
                if stream is not None:
                    stream["schema"] = {"$ref": "#/components/schemas/ServerSentEvent"}
            if gated:
                responses.setdefault(
                    "202",
                    {
                        "description": "Policy requires approval: a change request now waits at "
                        "/api/v1/approvals/{request_id}.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ApprovalPending"}
                            }
                        },
                    },
                )
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and f'/{unused}"' not in str(schema["paths"]).replace("'", '"'):
            components.pop(unused)
    return schema


def install(app: FastAPI) -> None:
    """Build the app's schema with the declared responses (once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = declare_responses(schema, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _literal_segments(path: str) -> int:
    return sum(1 for part in path.split("/") if part and "{" not in part)


def allowed_methods(app: Any, scope: dict[str, Any]) -> list[str]:
    """The methods of the path (the ``Allow`` of a ``405``): those of every route of the most
    specific template the path matches, so ``/users/invitations`` is not also ``/users/{id}``."""
    matching: list[tuple[int, set[str]]] = []
    for route in iter_route_contexts(getattr(app, "routes", ())):
        if not route.methods or not route.path:
            continue
        match, _ = route.matches({**scope, "method": "\x00"})
        if match is Match.PARTIAL:
            matching.append((_literal_segments(route.path), set(route.methods)))
    best = max((literal for literal, _ in matching), default=0)
    methods = set().union(*(m for literal, m in matching if literal == best))
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return sorted(methods, key=lambda m: order.index(m) if m in order else len(order))
