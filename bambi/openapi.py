"""The OpenAPI 3 description of Bambi's JSON API, served at /api/openapi.json.

Hand-written against DESIGN.md ("JSON API") and the code in */api.py: when an API view
changes, change this document with it. tests/test_openapi.py checks that every /api/ route is
described, and tests/test_openapi_fuzz.py runs schemathesis against a live server to prove
that every answer matches what is written here.
"""

from __future__ import annotations

from typing import Any

UUID = {"type": "string", "format": "uuid"}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": "string", "format": "date-time", "nullable": True}
NULLABLE_INT = {"type": "integer", "nullable": True}
NULLABLE_STRING = {"type": "string", "nullable": True}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _data(schema: dict) -> dict:
    """The success envelope: `{"data": ...}`."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": schema},
    }


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _response_ref(description: str) -> dict:
    return {"$ref": "#/components/responses/" + description}


def _body(schema: dict, description: str = "") -> dict:
    return {
        "required": True,
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


# Every logged-in request carries the session cookie; unsafe methods also carry Django's CSRF
# cookie and the same value in the X-CSRFToken header.
READ_SECURITY = [{"sessionCookie": []}]
WRITE_SECURITY = [{"sessionCookie": [], "csrfCookie": [], "csrfHeader": []}]

# Answers every operation can give, by the plumbing of bambi/api.py.
COMMON_READ = {"401": _response_ref("NotLoggedIn"), "405": _response_ref("MethodNotAllowed")}
COMMON_WRITE = {
    **COMMON_READ,
    "400": _response_ref("BadRequest"),
    "403": _response_ref("Forbidden"),
}

PROVIDER_ERRORS = {
    "422": _response_ref("ProviderRefused"),
    "429": _response_ref("TooManyRequests"),
    "502": _response_ref("ProviderFailed"),
    "504": _response_ref("ProviderTimedOut"),
}

ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The row's id (a UUID). Another user's id answers 404.",
    "schema": UUID,
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "string",
                "minLength": 1,
                "description": "A sentence for a person, in the request's language.",
            }
        },
    },
    "Success": {
        "type": "object",
        "required": ["success"],
        "properties": {"success": {"type": "boolean", "enum": [True]}},
    },
    "ProviderRef": {
        "type": "object",
        "required": ["id", "name", "slug"],
        "properties": {"id": UUID, "name": {"type": "string"}, "slug": {"type": "string"}},
    },
    "Capabilities": {
        "type": "object",
        "description": (
            "What the model accepts (byok/catalogue.py): `sizes` or `aspect_ratios`, "
            "`qualities`, `styles`, `resolutions`, `output_formats`, `backgrounds` (lists of "
            "allowed values), `max_images`, `max_prompt_length`, `price_per_image` (USD, a "
            "string or {quality: string}), `defaults` ({option: value})."
        ),
        "additionalProperties": True,
    },
    "ImageModel": {
        "type": "object",
        "required": ["id", "name", "model_id", "description", "capabilities"],
        "properties": {
            "id": UUID,
            "name": {"type": "string"},
            "model_id": {"type": "string", "description": "The provider's own model id."},
            "description": {"type": "string"},
            "capabilities": _ref("Capabilities"),
        },
    },
    "Provider": {
        "type": "object",
        "required": ["id", "name", "slug", "description", "website_url", "models"],
        "properties": {
            "id": UUID,
            "name": {"type": "string"},
            "slug": {"type": "string"},
            "description": {"type": "string"},
            "website_url": {"type": "string"},
            "models": {"type": "array", "items": _ref("ImageModel")},
        },
    },
    "Configuration": {
        "type": "object",
        "description": "A stored provider key. The key itself is never returned.",
        "required": [
            "id",
            "name",
            "provider",
            "key_hint",
            "is_valid",
            "last_validated_at",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "id": UUID,
            "name": {"type": "string"},
            "provider": _ref("ProviderRef"),
            "key_hint": {"type": "string", "description": "e.g. `sk-…x7Qa`"},
            "is_valid": {"type": "boolean"},
            "last_validated_at": NULLABLE_DATETIME,
            "created_at": DATETIME,
            "updated_at": DATETIME,
        },
    },
    "ConfigurationCreate": {
        "type": "object",
        "required": ["name", "providerId", "apiKey"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
            "providerId": {**UUID, "description": "The id of an active provider."},
            "apiKey": _ref("ApiKey"),
        },
    },
    "ConfigurationUpdate": {
        "type": "object",
        "description": "A new name, a new key, or both. A new key is checked with the provider.",
        "minProperties": 1,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
            "apiKey": _ref("ApiKey"),
        },
    },
    "ApiKey": {
        "type": "string",
        "description": "A provider key: printable ASCII, no spaces. Write-only.",
        "minLength": 1,
        "maxLength": 512,
        "pattern": "^[!-~]+$",
        "writeOnly": True,
    },
    "KeyCheck": {
        "oneOf": [
            {
                "type": "object",
                "title": "Check a key without storing it",
                "required": ["providerId", "apiKey"],
                "properties": {"providerId": UUID, "apiKey": _ref("ApiKey")},
            },
            {
                "type": "object",
                "title": "Check a stored configuration again",
                "required": ["configId"],
                "properties": {"configId": UUID},
            },
        ]
    },
    "KeyCheckResult": {
        "type": "object",
        "required": ["isValid", "error"],
        "properties": {
            "isValid": {"type": "boolean"},
            "error": {**NULLABLE_STRING, "description": "The provider's reason when refused."},
            "configuration": {
                **_ref("Configuration"),
                "description": "Only when a stored configuration was checked (`configId`).",
            },
        },
    },
    "GenerationParameters": {
        "type": "object",
        "description": (
            "The model and the options it supports (see its `capabilities`); an option the "
            "model does not have, or a value it does not offer, is a 400 naming it."
        ),
        "required": ["modelId"],
        "additionalProperties": False,
        "properties": {
            "modelId": {
                "type": "string",
                "description": "A model's id (UUID) or the provider's model id (`dall-e-3`).",
            },
            "count": {"type": "integer", "minimum": 1, "description": "Images to make."},
            "size": {"type": "string", "example": "1024x1024"},
            "aspectRatio": {"type": "string", "example": "16:9"},
            "quality": {"type": "string"},
            "style": {"type": "string"},
            "resolution": {"type": "string"},
            "outputFormat": {"type": "string"},
            "background": {"type": "string"},
        },
    },
    "GenerationCreate": {
        "type": "object",
        "required": ["configId", "prompt", "parameters"],
        "properties": {
            "configId": {**UUID, "description": "One of the user's valid configurations."},
            "prompt": {"type": "string", "minLength": 1, "pattern": r"\S"},
            "parameters": _ref("GenerationParameters"),
        },
    },
    "Image": {
        "type": "object",
        "required": ["id", "url", "thumbnail_url", "width", "height", "format"],
        "properties": {
            "id": UUID,
            "url": {"type": "string", "description": "A Bambi URL that answers only the owner."},
            "thumbnail_url": {"type": "string", "description": "A WebP thumbnail."},
            "download_url": {"type": "string", "description": "The file as an attachment."},
            "width": NULLABLE_INT,
            "height": NULLABLE_INT,
            "format": {"type": "string", "example": "png"},
            "bytes": NULLABLE_INT,
            "revised_prompt": NULLABLE_STRING,
        },
    },
    "Generation": {
        "type": "object",
        "required": [
            "id",
            "status",
            "prompt",
            "parameters",
            "model",
            "configuration_id",
            "error_message",
            "created_at",
            "images",
        ],
        "properties": {
            "id": UUID,
            "status": {"type": "string", "enum": ["pending", "completed", "failed"]},
            "prompt": {"type": "string"},
            "parameters": {
                "type": "object",
                "additionalProperties": True,
                "description": "`model_id` and the options used (defaults filled in).",
            },
            "model": {
                "type": "object",
                "nullable": True,
                "required": ["id", "name", "model_id"],
                "properties": {
                    "id": UUID,
                    "name": {"type": "string"},
                    "model_id": {"type": "string"},
                },
            },
            "provider": {**_ref("ProviderRef"), "nullable": True},
            "configuration_id": {**UUID, "nullable": True},
            "error_message": NULLABLE_STRING,
            "cost_estimate": {
                "type": "string",
                "nullable": True,
                "description": "USD, as a decimal string.",
            },
            "duration_ms": NULLABLE_INT,
            "created_at": DATETIME,
            "images_filtered": {
                "type": "integer",
                "minimum": 0,
                "description": "Images asked for that the provider's safety filter withheld "
                "(not charged; `cost_estimate` counts the images returned).",
            },
            "notice": {
                **NULLABLE_STRING,
                "description": "A sentence about withheld images, e.g. “1 of 2 images was "
                "blocked by Google’s safety filter; blocked images are not charged.”",
            },
            "images": {"type": "array", "items": _ref("Image")},
        },
    },
    "Pagination": {
        "type": "object",
        "required": ["page", "pages", "count", "page_size"],
        "properties": {
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "count": {"type": "integer", "minimum": 0},
            "page_size": {"type": "integer", "minimum": 1},
        },
    },
    "Usage": {
        "type": "object",
        "required": [
            "plan",
            "usage_count",
            "usage_limit",
            "config_count",
            "config_limit",
            "reset_date",
        ],
        "properties": {
            "plan": {"type": "string", "enum": ["free", "premium"]},
            "plan_name": {"type": "string"},
            "usage_count": {"type": "integer", "minimum": 0},
            "usage_limit": {**NULLABLE_INT, "description": "null = unlimited"},
            "remaining": {**NULLABLE_INT, "description": "null = unlimited"},
            "config_count": {"type": "integer", "minimum": 0},
            "config_limit": {**NULLABLE_INT, "description": "null = unlimited"},
            "reset_date": {**DATETIME, "description": "When the monthly count starts again."},
        },
    },
    "CheckoutSession": {
        "type": "object",
        "required": ["sessionId", "url"],
        "properties": {"sessionId": {"type": "string"}, "url": {"type": "string"}},
    },
    "PortalSession": {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string"}},
    },
}

ERROR_JSON = {"application/json": {"schema": _ref("Error")}}

RESPONSES = {
    name: {"description": description, "content": ERROR_JSON}
    for name, description in {
        "BadRequest": (
            "Bad input (including JSON nested too deeply and text that is not valid Unicode, "
            "such as an unpaired surrogate); the sentence says what to change. Nothing was "
            "written."
        ),
        "PayloadTooLarge": "The body is larger than the server accepts (2.5 MB by default).",
        "NotLoggedIn": "Not logged in.",
        "Forbidden": (
            "The plan's limit is reached (the sentence offers Premium), or the CSRF token is "
            "missing or wrong."
        ),
        "NotFound": "Missing, or not the user's.",
        "MethodNotAllowed": "This method is not allowed here (see the Allow header).",
        "ProviderRefused": "The provider refused the prompt; the sentence carries its reason.",
        "ProviderFailed": "The provider failed or could not be reached.",
        "ProviderTimedOut": "The provider did not answer in time.",
        "BillingUnavailable": "Billing is not configured on this server, or Stripe failed.",
    }.items()
}
RESPONSES["TooManyRequests"] = {
    "description": (
        "Bambi's own rate limit refused the request before any provider call (key checks: 10 "
        "a minute and 100 a day per user, 30 a minute per address; generations: 30 a minute "
        "per user; see README), with Retry-After; or the provider rate-limits the key or its "
        "account is out of credit."
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait; sent when Bambi's own limit refused the request.",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": ERROR_JSON,
}


def _op(
    summary: str,
    ok_status: str,
    ok_schema: dict,
    *,
    write: bool = False,
    body: dict | None = None,
    extra: dict | None = None,
    description: str = "",
    tag: str,
    parameters: list | None = None,
) -> dict:
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "security": WRITE_SECURITY if write else READ_SECURITY,
        "responses": {
            ok_status: _json(ok_schema, summary),
            **(COMMON_WRITE if write else COMMON_READ),
            **(extra or {}),
        },
    }
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = body
        operation["responses"]["413"] = _response_ref("PayloadTooLarge")
    if parameters:
        operation["parameters"] = parameters
    return operation


NOT_FOUND = {"404": _response_ref("NotFound")}
BILLING_ERRORS = {
    "502": _response_ref("BillingUnavailable"),
    "503": _response_ref("BillingUnavailable"),
}
BAD_REQUEST = {"400": _response_ref("BadRequest")}

PATHS: dict[str, Any] = {
    "/api/providers/": {
        "get": _op(
            "Active providers, each with its active models",
            "200",
            _data({"type": "array", "items": _ref("Provider")}),
            tag="keys",
        )
    },
    "/api/api-configurations/": {
        "get": _op(
            "The user's configurations, newest first",
            "200",
            _data({"type": "array", "items": _ref("Configuration")}),
            tag="keys",
        ),
        "post": _op(
            "Store a new key (checked with its provider first)",
            "201",
            _data(_ref("Configuration")),
            write=True,
            body=_body(_ref("ConfigurationCreate")),
            description=(
                "The key is checked with the provider before anything is stored: a refused "
                "key is a 400 with the provider's reason. Over the plan's number of keys "
                "(Free: 1) the answer is a 403 offering Premium."
            ),
            extra={**PROVIDER_ERRORS, "404": _response_ref("NotFound")},
            tag="keys",
        ),
    },
    "/api/api-configurations/{id}/": {
        "parameters": [ID_PARAMETER],
        "get": _op(
            "One configuration",
            "200",
            _data(_ref("Configuration")),
            extra=NOT_FOUND,
            tag="keys",
        ),
        "patch": _op(
            "Rename it and/or replace its key",
            "200",
            _data(_ref("Configuration")),
            write=True,
            body=_body(_ref("ConfigurationUpdate")),
            extra={**NOT_FOUND, **PROVIDER_ERRORS},
            tag="keys",
        ),
        "delete": _op(
            "Delete it (its generations stay in the gallery)",
            "200",
            _data(_ref("Success")),
            write=True,
            extra=NOT_FOUND,
            tag="keys",
        ),
    },
    "/api/validate-api-key/": {
        "post": _op(
            "Check a key with its provider",
            "200",
            _data(_ref("KeyCheckResult")),
            write=True,
            body=_body(_ref("KeyCheck")),
            description=(
                "With `providerId` and `apiKey`: check a key without storing it. With "
                "`configId`: check a stored key again and record the answer on it. A refused "
                "key is a 200 with `isValid: false` and the provider's reason; a provider "
                "that cannot be reached is a 502/504. Checks are rate-limited per user and "
                "per address (429 with Retry-After; the provider is not asked)."
            ),
            extra={**NOT_FOUND, **PROVIDER_ERRORS},
            tag="keys",
        )
    },
    "/api/generations/": {
        "get": _op(
            "The user's generations, newest first, 20 a page",
            "200",
            {
                "type": "object",
                "required": ["data", "pagination"],
                "properties": {
                    "data": {"type": "array", "items": _ref("Generation")},
                    "pagination": _ref("Pagination"),
                },
            },
            parameters=[
                {
                    "name": "page",
                    "in": "query",
                    "required": False,
                    "description": "Page number, from 1. A page past the last answers 404.",
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                }
            ],
            extra={**BAD_REQUEST, **NOT_FOUND},
            tag="generations",
        ),
        "post": _op(
            "Generate images with one of the user's keys",
            "201",
            _data(_ref("Generation")),
            write=True,
            body=_body(_ref("GenerationCreate")),
            description=(
                "Synchronous: answers when the provider has answered and the images are "
                "stored. Counts once against the monthly quota, only when it succeeds. Over "
                "the quota: 403. The provider's refusal: 422 with its reason; its failures: "
                "429/502/504. A failed call is kept as a failed generation and not charged."
            ),
            extra={**NOT_FOUND, **PROVIDER_ERRORS},
            tag="generations",
        ),
    },
    "/api/generations/{id}/": {
        "parameters": [ID_PARAMETER],
        "get": _op(
            "One generation with its images",
            "200",
            _data(_ref("Generation")),
            extra=NOT_FOUND,
            tag="generations",
        ),
        "delete": _op(
            "Delete the generation, its images and their files",
            "200",
            _data(_ref("Success")),
            write=True,
            extra=NOT_FOUND,
            tag="generations",
        ),
    },
    "/api/usage/": {
        "get": _op(
            "The user's plan, usage this period and limits",
            "200",
            _data(_ref("Usage")),
            tag="generations",
        )
    },
    "/api/stripe/create-checkout-session/": {
        "post": _op(
            "Start a Stripe Checkout for Premium",
            "200",
            _data(_ref("CheckoutSession")),
            write=True,
            description="Send the browser to `url`. Already Premium: 400.",
            extra={
                "502": _response_ref("BillingUnavailable"),
                "503": _response_ref("BillingUnavailable"),
            },
            tag="billing",
        )
    },
    "/api/stripe/create-portal-session/": {
        "post": _op(
            "Open the Stripe Customer Portal (manage or cancel Premium)",
            "200",
            _data(_ref("PortalSession")),
            write=True,
            description="Send the browser to `url`. No Stripe customer yet: 400.",
            extra={
                "502": _response_ref("BillingUnavailable"),
                "503": _response_ref("BillingUnavailable"),
            },
            tag="billing",
        )
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Bambi AI JSON API",
        "version": "1.0.0",
        "description": (
            "Same powers as the dashboard, same-origin session auth: log in through "
            "/accounts/login/ (the `sessionid` cookie), then send Django's `csrftoken` cookie "
            "and the same value in `X-CSRFToken` with every POST, PATCH and DELETE. JSON in, "
            'JSON out. Success: `{"data": ...}`. Failure: `{"error": "<sentence>"}`. '
            "Requests are camelCase, rows snake_case. See docs/api.md for examples."
        ),
    },
    "servers": [{"url": "/"}],
    "tags": [
        {"name": "keys", "description": "Providers and the user's stored keys."},
        {"name": "generations", "description": "Generating images, the gallery, usage."},
        {"name": "billing", "description": "Premium through Stripe."},
    ],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": {
            "sessionCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "sessionid",
                "description": "Django's session cookie, set by logging in at /accounts/login/.",
            },
            "csrfCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "csrftoken",
                "description": "Django's CSRF cookie, set by any page with a form.",
            },
            "csrfHeader": {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRFToken",
                "description": "The value of the csrftoken cookie, on unsafe methods.",
            },
        },
    },
}
