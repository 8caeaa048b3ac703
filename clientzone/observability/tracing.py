"""Optional OpenTelemetry tracing, off by default.

It is on when the standard variables ask for it: OTEL_TRACES_EXPORTER
(`otlp`, `console`) or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED=true. The
exporter reads its own OTEL_EXPORTER_OTLP_* settings; OTEL_SERVICE_NAME names
the service (`clientzone` by default). Needs the `otel` extra
(`pip install clientzone[otel]`).

What is traced: every HTTP request (the ASGI instrumentation), every SQL
statement (the SQLAlchemy instrumentation), and one span per GraphQL
operation, named after it (`graphql query FirstScreen`), with its cost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from starlette.middleware import Middleware

logger = logging.getLogger("clientzone.app")

_tracer: Any = None


def wanted() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup(engine: Any, exporter: Any = None) -> list[Middleware]:
    """Start tracing when asked (or when a test hands an `exporter`); the
    middleware to put first on the app. Nothing at all otherwise."""
    global _tracer
    if exporter is None and not wanted():
        return []
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
    except ImportError:
        logger.warning("OTEL_* asks for tracing, but the `otel` extra is not installed")
        return []
    name = os.environ.get("OTEL_SERVICE_NAME", "clientzone")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Its declared range stops short of SQLAlchemy 2.1, which it traces all
    # the same (the tracing test checks the statements' spans).
    SQLAlchemyInstrumentor().instrument(
        engine=engine, tracer_provider=provider, skip_dep_check=True
    )
    _tracer = trace.get_tracer("clientzone", tracer_provider=provider)
    return [Middleware(OpenTelemetryMiddleware, tracer_provider=provider)]


@contextmanager
def operation_span(kind: str, name: str | None, cost: int) -> Iterator[None]:
    """A span around one GraphQL operation (nothing when tracing is off)."""
    if _tracer is None:
        with nullcontext():
            yield
        return
    label = f"graphql {kind} {name or 'anonymous'}"
    with _tracer.start_as_current_span(label) as span:
        span.set_attribute("graphql.operation.type", kind)
        span.set_attribute("graphql.operation.name", name or "")
        span.set_attribute("clientzone.cost", cost)
        yield
