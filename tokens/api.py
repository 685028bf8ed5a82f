"""JSON API of the tokens app: the user's personal API tokens (session only).

A token cannot make or revoke tokens (a leaked token must not be able to mint its own
successors): these operations take the session alone, and a bearer request is a 403.
"""

# No `from __future__ import annotations`: ninja reads these views' annotations at import.

from django.http import HttpRequest
from ninja import Router, Status

from bambi.api import SessionAuth
from bambi.schemas import Data, JsonBody, Success, cleaned, errors, owned
from tokens.auth import NoTokens
from tokens.forms import ApiTokenForm
from tokens.schemas import TokenCreate, TokenCreatedOut, TokenOut, created_row
from tokens.selectors import api_token_get, api_tokens_for
from tokens.services import api_token_create, api_token_revoke

router = Router(tags=["tokens"], auth=[NoTokens(), SessionAuth()])

OwnToken = owned(api_token_get)


@router.get(
    "/tokens/",
    response={200: Data[list[TokenOut]], **errors(403)},
    summary="The user's API tokens (not revoked), newest first",
)
def tokens(request: HttpRequest):
    return {"data": list(api_tokens_for(user=request.auth))}


@router.post(
    "/tokens/",
    response={201: Data[TokenCreatedOut], **errors(403)},
    summary="Make an API token; its secret is in this answer only",
)
def token_create(request: HttpRequest, payload: TokenCreate = JsonBody(...)):
    """Free: 1 working token, Premium: 20 (revoked and expired tokens do not count); over the
    limit: 403. `token` in the answer is the secret: store it now, it is never shown again."""
    data = cleaned(ApiTokenForm(payload.form_data()))
    created = api_token_create(
        user=request.auth,
        name=data["name"],
        expires_at=data["expires_at"],
        allowed_models=data["allowed_models"],
        request=request,
    )
    return Status(201, {"data": created_row(created)})


@router.delete(
    "/tokens/{uuid:id}/",
    response={200: Data[Success], **errors(403, 404)},
    summary="Revoke it: its next request is refused",
)
def token_revoke(request: HttpRequest, id: OwnToken):
    api_token_revoke(token=id, request=request)
    return {"data": {"success": True}}
