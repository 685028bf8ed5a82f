"""The OpenAPI document at /api/openapi.json describes every /api/ and /v1/ route, and only those.

It is generated from the routers and schemas that serve the API (bambi/api.py); these tests
hold it to the URLs Django really serves and to what every operation must say."""

from __future__ import annotations

import json
import re

import schemathesis
from django.urls import URLPattern, URLResolver, get_resolver

from bambi.urls import merged_document

# The document as served (JSON: status codes are strings).
OPENAPI = json.loads(json.dumps(merged_document()))
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _api_routes() -> set[str]:
    """Every URL pattern under /api/ and /v1/, written the OpenAPI way (`<uuid:id>` -> `{id}`)."""
    found: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            # "api/" itself is ninja's root, which only ever answers 404 (and "v1/" too).
            elif (
                isinstance(pattern, URLPattern)
                and route.startswith(("api/", "v1/"))
                and route not in ("api/", "v1/")
            ):
                found.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_document_is_served_as_json_to_anyone(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.1")
    assert response.json()["paths"].keys() == OPENAPI["paths"].keys()


def test_every_api_route_is_described_and_nothing_else():
    described = set(OPENAPI["paths"]) | {"/api/openapi.json"}
    assert _api_routes() == described


def test_every_operation_says_its_error_answers_and_how_it_is_authenticated():
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS or path.startswith("/v1/"):
                continue
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            assert "405" in responses, (method, path)
            requirements = operation["security"]
            session = [r for r in requirements if "sessionCookie" in r]
            assert len(session) == 1, (method, path)
            if method != "get":
                # Unsafe methods need the CSRF header with the session, and a wrong one is a 403.
                assert "403" in responses, (method, path)
                assert "csrfHeader" in session[0], (method, path)
            # A personal token works wherever the session does, except on the tokens themselves.
            takes_token = {"bearerToken": []} in requirements
            assert takes_token == (not path.startswith("/api/tokens/")), (method, path)


def test_the_document_is_a_valid_openapi_3_description():
    schema = schemathesis.openapi.from_dict(OPENAPI)
    # Loading validates lazily; walking every operation resolves every $ref.
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(
        1 for item in OPENAPI["paths"].values() for m in item if m in HTTP_METHODS
    )


def test_the_rules_a_request_body_states_are_the_forms_own():
    # The page and the API share the forms; the document reads their rules from them.
    from byok.forms import API_KEY_MAX_LENGTH, ApiConfigurationCreateForm

    schemas = OPENAPI["components"]["schemas"]
    create = schemas["ConfigurationCreate"]
    name_field = ApiConfigurationCreateForm.base_fields["name"]
    assert create["required"] == ["name", "providerId", "apiKey"]
    assert create["properties"]["name"]["maxLength"] == name_field.max_length
    assert create["properties"]["apiKey"]["maxLength"] == API_KEY_MAX_LENGTH
    assert create["properties"]["providerId"]["format"] == "uuid"
    generation = schemas["GenerationCreate"]
    assert generation["required"] == ["configId", "prompt", "parameters"]
    assert schemas["GenerationParameters"]["required"] == ["modelId"]
    assert schemas["GenerationParameters"]["additionalProperties"] is False


def test_every_unsafe_operation_with_a_body_documents_its_413():
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)
                assert "400" in operation["responses"], (method, path)


def test_the_openai_compatible_operations_take_a_token_and_answer_openais_errors():
    v1 = {path: item for path, item in OPENAPI["paths"].items() if path.startswith("/v1/")}
    assert set(v1) == {
        "/v1/models",
        "/v1/models/{model}",
        "/v1/images/generations",
        "/v1/images/edits",
    }
    for path, item in v1.items():
        for method, operation in item.items():
            assert operation["tags"] == ["openai"], (method, path)
            assert operation["security"] == [{"bearerToken": []}], (method, path)
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/OpenAIErrorOut"}, status
    schemes = OPENAPI["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    generate = v1["/v1/images/generations"]["post"]
    assert {"400", "401", "403", "404", "429", "502", "504"} <= set(generate["responses"])
    assert [p["name"] for p in generate["parameters"]] == ["X-Bambi-Key"]
    edit = v1["/v1/images/edits"]["post"]
    assert {"400", "401", "403", "404", "413", "429", "502", "504"} <= set(edit["responses"])
    assert [p["name"] for p in edit["parameters"]] == ["X-Bambi-Key"]
    form = edit["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(form["required"]) == {"image", "prompt", "model"}
    assert form["properties"]["image"]["format"] == "binary"
    assert form["properties"]["image[]"]["items"]["format"] == "binary"
    assert form["properties"]["mask"]["format"] == "binary"
