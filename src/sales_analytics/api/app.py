"""The FastAPI application factory.

``create_app()`` builds one app over one database (opened in the lifespan, ``DATABASE_URL`` by
default) and one models folder (``SA_MODELS_DIR``, default ``data/models``), both from
:func:`sales_analytics.config.get_settings`. Every ``/v1`` endpoint needs the API key in the
``X-API-Key`` header (``SA_API_KEY``, or the content of the file ``SA_API_KEY_FILE``, by default; at
least 32 characters); ``/health`` and the docs (``/docs``, ``/redoc``, ``/openapi.json``) are open.
An app without authentication is refused unless it listens on loopback only. Run it with ``sales-analytics serve`` or
``uvicorn --factory sales_analytics.api:create_app``.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from sales_analytics.api import cache
from sales_analytics.api.params import reject_unknown_query
from sales_analytics.api.routes import customers, metrics, models
from sales_analytics.api.schemas import Error, Health
from sales_analytics.api.service import POOL_SIZE, ModelMissing, ModelUnusable, Service
from sales_analytics.config import Settings, get_settings
from sales_analytics.storage import StorageError

#: Names of the environment variables behind ``Settings.api_key`` / ``Settings.models_dir``.
API_KEY_ENV = "SA_API_KEY"
MODELS_DIR_ENV = "SA_MODELS_DIR"
API_KEY_HEADER = "X-API-Key"
API_KEY_FILE_ENV = "SA_API_KEY_FILE"
#: Shortest API key accepted (``secrets.token_urlsafe(32)`` gives 43 characters).
MIN_API_KEY_LENGTH = 32
#: How to make a good key (in every message about a bad one).
MAKE_A_KEY = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'

try:
    __version__ = version("sales-analytics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


class MissingApiKeyError(ValueError):
    """No API key configured and authentication not explicitly disabled."""


class InsecureBindError(ValueError):
    """No authentication and an address other than loopback."""


class WeakApiKeyError(ValueError):
    """An API key shorter than :data:`MIN_API_KEY_LENGTH` characters."""


class ApiKeyFileError(ValueError):
    """The API key file is missing, unreadable or empty (one-line message)."""


def default_models_dir() -> Path:
    return get_settings().models_dir


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1`` (brackets allowed: ``[::1]``)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, *, require_auth: bool, settings: Settings | None = None) -> None:
    """Refuse (:class:`InsecureBindError`) to serve ``/v1`` without a key off loopback, in every
    environment: anyone who can reach the address could read the shop's data. (``settings`` is
    accepted for compatibility; the rule no longer depends on ``ENVIRONMENT``.)"""
    if not require_auth and not is_loopback(host):
        raise InsecureBindError(
            f"refusing to serve without authentication on {host}: anyone who can reach that "
            "address could read the shop's data; listen on 127.0.0.1, ::1 or localhost, "
            "or require an API key"
        )


def check_api_key(key: str) -> str:
    """``key`` unchanged, or :class:`WeakApiKeyError` when it is shorter than
    :data:`MIN_API_KEY_LENGTH` characters (a short key can be guessed)."""
    if len(key) < MIN_API_KEY_LENGTH:
        raise WeakApiKeyError(
            f"the API key has {len(key)} characters, at least {MIN_API_KEY_LENGTH} are needed; "
            + MAKE_A_KEY
        )
    return key


def read_api_key_file(path: str | Path) -> str:
    """The key in the file at ``path``, stripped (:class:`ApiKeyFileError` when missing,
    unreadable or empty)."""
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise ApiKeyFileError(f"cannot read the API key file {path}: {reason}") from None
    if not key:
        raise ApiKeyFileError(f"the API key file {path} is empty; {MAKE_A_KEY}")
    return key


def configured_api_key(settings: Settings | None = None) -> str | None:
    """The key from the environment: ``SA_API_KEY``, or the file ``SA_API_KEY_FILE`` (not both)."""
    settings = settings or get_settings()
    if settings.api_key_file is not None:
        if settings.api_key_value is not None:
            raise ApiKeyFileError(f"set either {API_KEY_ENV} or {API_KEY_FILE_ENV}, not both")
        return read_api_key_file(settings.api_key_file)
    return settings.api_key_value


def api_key_dependency(expected: str):
    """A dependency that accepts a request only with ``X-API-Key: <expected>`` (401 otherwise)."""
    scheme = APIKeyHeader(
        name=API_KEY_HEADER,
        auto_error=False,
        description="The key given to `sales-analytics serve --api-key` (or SA_API_KEY)",
    )
    wanted = expected.encode()

    def check_api_key(key: str | None = Security(scheme)) -> None:
        if not key:
            raise HTTPException(401, f"missing API key: send it in the {API_KEY_HEADER} header")
        if not hmac.compare_digest(key.encode(), wanted):
            raise HTTPException(401, "invalid API key")

    return check_api_key


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(
    database_url: str | None = None,
    api_key: str | None = None,
    *,
    models_dir: str | Path | None = None,
    require_auth: bool = True,
    host: str | None = None,
    pool_size: int = POOL_SIZE,
) -> FastAPI:
    """Build the API.

    Parameters
    ----------
    database_url
        Default ``DATABASE_URL`` (or the embedded DuckDB file). The connection is opened when the
        app starts; if that fails the app still starts and ``/v1`` answers 503 until it works.
    api_key
        The key clients send in ``X-API-Key``; default ``SA_API_KEY`` or the content of the file
        ``SA_API_KEY_FILE``. Shorter than 32 characters: :class:`WeakApiKeyError`.
    models_dir
        Folder of saved models; default ``SA_MODELS_DIR`` or ``data/models``.
    require_auth
        ``False`` serves ``/v1`` without a key (``serve --no-auth``). With ``True`` (default) and
        no key configured, :class:`MissingApiKeyError` is raised: the API never runs open by
        accident.
    host
        The address the app will listen on, when known (``serve --host``): with
        ``require_auth=False`` anything but loopback raises :class:`InsecureBindError`.
    pool_size
        Database connections (PostgreSQL) or cursors (DuckDB) serving requests at once. Every
        statement is cancelled after ``SA_STATEMENT_TIMEOUT`` seconds (503).
    """
    settings = get_settings()
    if host is not None:
        check_exposure(host, require_auth=require_auth, settings=settings)
    url = database_url or settings.database_url
    key = api_key if api_key is not None else configured_api_key(settings) if require_auth else None
    if require_auth and not key:
        raise MissingApiKeyError(
            f"no API key: pass api_key / --api-key, set {API_KEY_ENV} or {API_KEY_FILE_ENV}, "
            f"or disable authentication explicitly (--no-auth); {MAKE_A_KEY}"
        )
    if require_auth and key:
        check_api_key(key)
    service = Service(
        url,
        models_dir if models_dir is not None else settings.models_dir,
        pool_size=pool_size,
        statement_timeout=settings.statement_timeout,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.open()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="sales-analytics API",
        version=__version__,
        summary="Read-only metrics, RFM segments, forecasts and customer scores of a shop.",
        description=(
            "All `/v1` endpoints need the header `X-API-Key`. `/v1/metrics` lists the metric "
            "catalogue; each metric is served at `/v1/metrics/{name}` as "
            "`{metric, label, filters, params, total, limit, offset, items}` in its declared "
            "order, every column's unit in the schema (`x-unit`). Money is a number, "
            "timestamps are ISO 8601 (shop local time, no offset), missing values are null. "
            "Bad parameters are a 422 (`start` after `end`, an unknown country), unknown ids a "
            "404. See docs/api.md."
        ),
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.auth = require_auth
    app.state.cache = cache.ResponseCache()

    deps = [Depends(api_key_dependency(key))] if require_auth and key else []
    deps.append(Depends(reject_unknown_query))
    v1 = APIRouter(prefix="/v1", dependencies=deps)
    # one route per catalogue metric, as it is now; answers cached by data version (api/cache.py)
    v1.include_router(metrics.build_router(), dependencies=[Depends(cache.lookup)])
    v1.include_router(customers.build_router())
    v1.include_router(models.router)
    app.include_router(v1)

    @app.get(
        "/health",
        response_model=Health,
        tags=["service"],
        responses={503: {"model": Health, "description": "The database is slow or unreachable"}},
        summary="Liveness and database check (no API key)",
    )
    def health() -> JSONResponse:
        """Reads every table and the data version within 2 s: `ok` (200), else `degraded` (no
        answer in time: a table lock, overload) or `unavailable` (unreachable, corrupt, no
        schema), both 503."""
        report = service.health()
        body = Health(
            status=report.status,
            database=report.database,
            version=__version__,
            data_version=report.data_version,
            data_as_of=report.data_as_of,
            detail=report.detail,
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if report.ok else 503)

    @app.exception_handler(StorageError)
    async def storage_error(_request: Request, exc: StorageError) -> JSONResponse:
        return _error(503, str(exc))

    @app.exception_handler(ModelMissing)
    async def model_missing(_request: Request, exc: ModelMissing) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ModelUnusable)
    async def model_unusable(_request: Request, exc: ModelUnusable) -> JSONResponse:
        return _error(409, str(exc))

    app.add_exception_handler(cache.CacheHit, cache.cache_hit_handler)
    app.add_middleware(cache.CacheMiddleware, get_state=lambda: (service, app.state.cache))
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # SA_CORS_ORIGINS: the browser origins allowed to call the API
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET"],
            allow_headers=[API_KEY_HEADER, "If-None-Match"],
            expose_headers=["ETag", "X-Data-Version", "X-Data-As-Of"],
        )
    return app


__all__ = [
    "API_KEY_ENV",
    "API_KEY_FILE_ENV",
    "API_KEY_HEADER",
    "MIN_API_KEY_LENGTH",
    "MODELS_DIR_ENV",
    "ApiKeyFileError",
    "Error",
    "InsecureBindError",
    "MissingApiKeyError",
    "WeakApiKeyError",
    "check_api_key",
    "check_exposure",
    "configured_api_key",
    "create_app",
    "is_loopback",
    "read_api_key_file",
]
