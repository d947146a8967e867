"""What operators poll: ``/healthz`` and ``/metrics``."""

import logging

import redis
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .. import drivers, protocol
from ..errors import UNAVAILABLE_MESSAGE
from ..realtime import get_realtime
from ..storage import get_storage

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 ``{"status": "ok"}``, or 503 with the first that applies of
    ``draining`` (shutting down), ``unavailable`` (Redis does not answer) and
    ``degraded`` (a background loop is past its deadline), with the reason."""
    realtime = get_realtime(current_app)
    if realtime.draining:
        return jsonify(status=protocol.HEALTH_DRAINING, reason="This server is shutting down."), 503
    try:
        get_storage(current_app).posts.ping()
    except redis.RedisError as exc:
        log.warning("healthz: Redis unavailable: %s", exc)
        current_app.extensions["wall.metrics"].redis_errors.labels("http").inc()
        return jsonify(status=protocol.HEALTH_UNAVAILABLE, reason=UNAVAILABLE_MESSAGE), 503
    reason = realtime.degraded()
    if reason is not None:
        return jsonify(status=protocol.HEALTH_DEGRADED, reason=reason), 503
    return jsonify(status=protocol.HEALTH_OK)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of this process."""
    registry = current_app.extensions["wall.metrics"]
    registry.observe(get_realtime(current_app), drivers.status())
    return Response(generate_latest(registry.registry), content_type=CONTENT_TYPE_LATEST)
