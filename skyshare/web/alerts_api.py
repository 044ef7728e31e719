"""Logging in and the alerts API: what duty officers read and do.

Routes
------
``POST /api/login``   ``{"user", "password"}`` -> who you are; sets the session cookie
                      (HttpOnly, SameSite=Strict) and returns the token for scripts
                      (``Authorization: Bearer TOKEN``)
``POST /api/logout``  ends the session
``GET  /api/me``      the logged-in user (``{"user": null}`` when anonymous)
``GET  /api/alerts[?all=1][&resolved=0]``  the cases routed to your partner (``all``:
                      every case); anonymous readers see every case, with no actions
``GET  /api/alerts/{id}``  one case with its history
``POST /api/alerts/{id}/{action}``  ``acknowledge``, ``resolve`` (``{"comment"}``),
                      ``hand_over`` (``{"to"}``), ``accept``, ``decline``
                      (``{"reason"}``), ``reopen`` (``{"reason"}``, supervisors)

A case raised by a partner's node (``origin`` names that partner; null for this node's
own cases) is a read-only mirror: an action on it is checked here, recorded and
forwarded to the origin, and answered with 202 and the case with ``pending`` (the
action sent); the list shows the origin's answer once it arrives (``pending`` null
again, ``refused`` saying why when the origin refused the action).

Errors are ``{"error": text}`` with 400 (bad request), 401 (log in), 403 (not your
partner's, or read-only), 404, 409 (not in a state that allows it), 429 (too many
failed logins).  Actions need a JSON body (``{}`` when empty): a cross-site form cannot
send one, which with the SameSite cookie keeps other sites from acting for you.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from skyshare.alerts.rules import RULE_LABELS, Rule
from skyshare.alerts.service import ACTIONS, AlertService
from skyshare.alerts.workflow import Case, WorkflowError, allowed
from skyshare.auth import Actor, Sessions
from skyshare.errors import AuthError
from skyshare.store.audit import AuditError

COOKIE = "skyshare_session"
_STATUS = {"not_found": 404, "forbidden": 403, "conflict": 409, "invalid": 400}
_TEXT_FIELD = {"resolve": "comment", "hand_over": "to", "decline": "reason", "reopen": "reason"}


class AlertsNode(Protocol):
    """What these routes need from a running node."""

    @property
    def alerts(self) -> AlertService | None: ...
    @property
    def sessions(self) -> Sessions | None: ...
    @property
    def anonymous_read(self) -> bool: ...


def _error(status: int, text: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status, headers=headers or None)


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(COOKIE)


def actor_of(node: AlertsNode, request: Request) -> Actor | None:
    return node.sessions.actor(_token(request)) if node.sessions is not None else None


def _number(value: Any) -> float | None:
    return float(value) if math.isfinite(value) else None


def case_json(case: Case, actor: Actor | None, service: AlertService, *,
              history: bool = False) -> dict[str, Any]:
    alert, latest = case.alert, case.alert.latest
    out: dict[str, Any] = {
        "id": case.id, "rule": Rule(alert.rule).name.lower(),
        "label": RULE_LABELS[Rule(alert.rule)], "track_id": alert.track_id,
        "icao24": f"{int(latest['icao24']):06x}",
        "callsign": bytes(latest["callsign"]).decode("ascii", "replace").strip(),
        "squawk": int(latest["squawk"]),
        "volume": case.note.volume if case.note else service.volume_name(alert.volume),
        "value": _number(alert.value), "verified": alert.verified,
        "exercise": alert.exercise, "raised_at": alert.raised_at,
        "condition_active": case.condition_active, "cleared_at": alert.cleared_at,
        "lat": _number(latest["lat"]), "lon": _number(latest["lon"]),
        "alt": _number(latest["alt"]), "state": case.state.value, "partner": case.partner,
        "offered_to": case.offered_to, "escalation": case.escalation,
        "acknowledged_by": case.acknowledged_by, "acknowledged_at": case.acknowledged_at,
        "resolved_by": case.resolved_by, "resolved_at": case.resolved_at,
        "comment": case.comment, "updated_at": case.updated_at, "origin": case.origin,
        "sensor": alert.sensor, "detail": alert.detail or None,
        "pending": case.pending.action if case.pending else None,
        "refused": case.refused or None,
        "mine": actor is not None and case.routed_to(actor.partner),
        "can": allowed(case, actor),
    }
    if history:
        out["history"] = [{"kind": e.kind, "actor": e.actor, "time": e.time, "data": e.data}
                          for e in case.history]
    return out


def me_json(actor: Actor | None) -> dict[str, Any]:
    if actor is None:
        return {"user": None, "partner": None, "role": None}
    return {"user": actor.user, "partner": actor.partner, "role": actor.role.value}


def alerts_routes(node: AlertsNode) -> list[BaseRoute]:
    """The routes above, reading and acting through ``node``."""

    async def login(request: Request) -> Response:
        if node.sessions is None:
            return _error(503, "the node is starting; try again in a moment")
        body = await _json_body(request)
        if not isinstance(body, dict) or not all(
                isinstance(body.get(k), str) for k in ("user", "password")):
            return _error(400, 'send {"user": NAME, "password": PASSWORD} as JSON')
        try:
            token, actor = await asyncio.to_thread(node.sessions.login, body["user"],
                                                   body["password"])
        except AuthError as exc:
            if exc.reason == "throttled":
                wait = math.ceil(exc.retry_after_s or 60)
                return _error(429, exc.message, **{"Retry-After": str(wait)})
            return _error(401, exc.message)
        response = JSONResponse({**me_json(actor), "token": token})
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    async def logout(request: Request) -> Response:
        token = _token(request)
        if node.sessions is not None and token:
            node.sessions.logout(token)
        response = JSONResponse({"user": None})
        response.delete_cookie(COOKIE, path="/")
        return response

    async def me(request: Request) -> Response:
        return JSONResponse(me_json(actor_of(node, request)))

    def reader(request: Request) -> tuple[AlertService, Actor | None] | Response:
        service = node.alerts
        if service is None:
            return _error(503, "the node is starting; try again in a moment")
        actor = actor_of(node, request)
        if actor is None and not node.anonymous_read:
            return _error(401, "log in to see alerts")
        return service, actor

    async def list_alerts(request: Request) -> Response:
        got = reader(request)
        if isinstance(got, Response):
            return got
        service, actor = got
        every = actor is None or request.query_params.get("all") == "1"
        resolved = request.query_params.get("resolved", "1") != "0"
        cases = service.workflow.cases(partner=None if every else actor.partner,  # type: ignore[union-attr]
                                       include_resolved=resolved)
        return JSONResponse({
            "me": me_json(actor), "partners": list(service.workflow.partners),
            "alerts": [case_json(c, actor, service) for c in cases]})

    async def one_alert(request: Request) -> Response:
        got = reader(request)
        if isinstance(got, Response):
            return got
        service, actor = got
        try:
            case = service.workflow.get(request.path_params["alert_id"])
        except WorkflowError as exc:
            return _error(_STATUS[exc.problem], str(exc))
        return JSONResponse(case_json(case, actor, service, history=True))

    async def act(request: Request) -> Response:
        service = node.alerts
        if service is None:
            return _error(503, "the node is starting; try again in a moment")
        action = request.path_params["action"]
        if action not in ACTIONS:
            return _error(404, f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        actor = actor_of(node, request)
        if actor is None:
            return _error(401, "log in to act on alerts")
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _error(400, "send the action's fields as a JSON object ({} when none)")
        field = _TEXT_FIELD.get(action)
        text = body.get(field, "") if field else ""
        if not isinstance(text, str):
            return _error(400, f"{field} must be text")
        try:
            case = await asyncio.to_thread(service.act, action, request.path_params["alert_id"],
                                           actor, text=text)
        except WorkflowError as exc:
            return _error(_STATUS[exc.problem], str(exc))
        except AuditError as exc:  # not recorded, so not done: the workflow was rolled back
            return _error(503, f"the audit log refused the action, so it was not taken: {exc}")
        return JSONResponse(case_json(case, actor, service, history=True),
                            status_code=202 if case.pending is not None else 200)

    return [
        Route("/api/login", login, methods=["POST"]),
        Route("/api/logout", logout, methods=["POST"]),
        Route("/api/me", me),
        Route("/api/alerts", list_alerts),
        Route("/api/alerts/{alert_id}", one_alert),
        Route("/api/alerts/{alert_id}/{action}", act, methods=["POST"]),
    ]


async def _json_body(request: Request) -> object:
    """The request's JSON body, or None when it is not JSON."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
