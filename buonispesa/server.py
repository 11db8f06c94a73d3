"""The one aiohttp application `buonispesa serve` runs (routes listed in the README): the
composition root, which wires the core, the channel adapters (sms/, bot/) and the outbox
(outbox/) together.

Routes: the channel plugins' webhooks (SMS: /sms/twilio, /sms/twilio/status;
Telegram: /telegram/webhook), GET /healthz, GET /metrics, and the office's back-office
under /office/ (office/). Background work: one
outbox worker per channel that has a sender.

Start-up and shutdown live in a cleanup context: plugins start, then the
workers; on shutdown aiohttp first stops accepting requests and lets the
handlers in flight finish, then the workers finish the batch in hand, then the
plugins stop (closing their HTTP clients).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client.aiohttp import make_aiohttp_handler

from buonispesa.adapters import sms_config as build_sms_config
from buonispesa.adapters import telegram_plugin
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.inbound import InboundHandler
from core.metrics import METRICS_DIR_VARIABLE, DatabaseFigures, Metrics, scrape_registry
from core.storage.engine import ping
from office.app import build_office
from office.keys import OfficeConfig
from outbox.channels import ChannelPlugin
from outbox.worker import OutboxWorker, WorkerConfig
from sms.plugin import DEVELOPMENT_BESIDE_A_BOT, SmsChannel, SmsConfig
from sms.sender import ConsoleSender

log = logging.getLogger(__name__)

CORE = web.AppKey("core", Core)
METRICS = web.AppKey("metrics", Metrics)
SMS_CONFIG = web.AppKey("sms_config", SmsConfig)
PLUGINS = web.AppKey("plugins", list[ChannelPlugin])
WORKERS = web.AppKey("workers", dict[str, OutboxWorker])
# What `serve` reads of any request body (aiohttp's own default, said here): see build_app.
WEBHOOK_MAX_BYTES = 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def build_app(
    core: Core,
    settings: Settings,
    *,
    host: str,
    port: int,
    engine: InboundHandler | None = None,
    worker_config: WorkerConfig | None = None,
    console: Callable[[str], None] = print,
    with_telegram: bool = True,
    deliver: bool = True,
    office_config: OfficeConfig | None = None,
) -> web.Application:
    """`deliver=False`: no outbox workers here (`serve --workers N` elects one process).
    `office_config`: the office's, else from the settings (tests set the session rules)."""
    metrics = Metrics()
    dialogue: InboundHandler = engine or DialogueEngine(
        core, payments=bool(settings.telegram_payment_provider_token)
    )
    workers: dict[str, OutboxWorker] = {}

    def wake(*, payments: bool = True) -> None:
        """Handed to the adapters: rows were written, every channel's worker looks now."""
        for worker in workers.values():
            worker.wake(payments=payments)

    sms_config = build_sms_config(settings, host, port)
    if sms_config.mode == "development" and sms_config.mask_codes and deliver:
        log.warning("%s", DEVELOPMENT_BESIDE_A_BOT)
    plugins: list[ChannelPlugin] = [
        SmsChannel(
            core=core,
            engine=dialogue,
            config=sms_config,
            metrics=metrics,
            on_outbox=wake,
            console=console,
        )
    ]
    if with_telegram:
        telegram = telegram_plugin(core, settings, dialogue, wake)
        if telegram is not None:
            plugins.append(telegram)

    # The webhooks' limit: an SMS or a Telegram update is a few kilobytes, and a forged
    # sender must not make the server read a huge body before its signature or secret is
    # checked. Their senders are machines: aiohttp's bare 413 is their answer. The office's
    # forms, read by people, keep their own limits and say them in the operator's language
    # (office.security.body_limit): client_max_size is per application, and this root one
    # is what aiohttp reads every body with.
    app = web.Application(middlewares=[_observe(metrics)], client_max_size=WEBHOOK_MAX_BYTES)
    app[CORE] = core
    app[METRICS] = metrics
    app[SMS_CONFIG] = sms_config
    app[PLUGINS] = plugins
    app[WORKERS] = workers
    for plugin in plugins:
        app.add_routes(plugin.routes())
    app.router.add_get("/office", _to_office)
    app.add_subapp(
        "/office/",
        build_office(
            core,
            office_config
            or OfficeConfig(
                secure_cookies=(settings.public_base_url or "").startswith("https://"),
                idle_minutes=settings.office_idle_minutes,
            ),
        ),
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    config = worker_config or WorkerConfig(lease_seconds=settings.outbox_lease_seconds)
    app.cleanup_ctx.append(_lifecycle(config, deliver))
    return app


async def freeze_startup_heap(_: web.Application) -> None:
    """`serve` calls this once its start is done. What the start built (modules, mappers,
    statement caches, catalogues, templates: about 270,000 objects the garbage collector
    tracks) lives as long as the process. A full collection walked them all each time,
    150–220 ms on a 2-core machine, and every request in flight waited, a till's payment
    code included. Frozen, they are out of the collector's sight, and a full collection
    walks only what requests made since (gc.freeze, Python 3.7+)."""
    gc.collect()
    gc.freeze()


def _lifecycle(
    config: WorkerConfig, deliver: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        core, metrics, workers = app[CORE], app[METRICS], app[WORKERS]
        started: list[ChannelPlugin] = []
        try:
            for plugin in app[PLUGINS]:
                await plugin.start()
                started.append(plugin)
            for plugin in started if deliver else []:
                sender = plugin.sender()
                if sender is None:
                    continue
                batch = getattr(sender, "batch_size", config.batch_size)
                own = dataclasses.replace(config, batch_size=batch)
                if isinstance(sender, ConsoleSender):
                    console = await _console_config(core, sender, own)
                    if console is None:
                        continue
                    own = console
                worker = OutboxWorker(
                    core,
                    sender,
                    own,
                    on_result=lambda channel, status: metrics.outbound.labels(
                        channel=channel, result=status.value
                    ).inc(),
                )
                workers[sender.channel] = worker
                worker.start()
            yield
        finally:
            await asyncio.gather(*(worker.stop() for worker in workers.values()))
            workers.clear()
            for plugin in reversed(started):
                try:
                    await plugin.stop()
                except Exception:
                    log.exception("plugin %s did not stop cleanly", plugin.name)

    return lifecycle


async def _console_config(
    core: Core, sender: ConsoleSender, config: WorkerConfig
) -> WorkerConfig | None:
    """The development console sender "sends" by printing and marks the row sent: given
    a production database (a server started without its .env), it would throw away the
    payment codes and notices a real provider was meant to send. So it claims only the
    rows queued since this process started (the replies to the curl it prints, enforced
    in the outbox's claim query), and not even those when SMS queued before the start
    wait: then the database is a real one, and replies the office's commands or another
    server queue from now on are real too. Returns None: no SMS delivery in this process,
    every row stays as it is (status, attempts) for a server with Twilio."""
    started = core.now()
    async with core.uow() as uow:
        waiting = await uow.outbox.waiting_before(sender.channel, started)
    if waiting:
        log.warning(
            "SMS development mode: %d SMS queued before this start wait for a real provider "
            "(set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER): they stay "
            "queued, and this server prints no SMS.",
            waiting,
        )
        return None
    return dataclasses.replace(config, created_since=started)


def _observe(metrics: Metrics) -> Middleware:
    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            # The route's pattern, not the raw path: label values stay few.
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            method = request.method
            metrics.series(metrics.latency, route, method).observe(time.perf_counter() - started)
            metrics.series(metrics.requests, route, method, str(status)).inc()

    return observe


async def _to_office(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/office/")


async def healthz(request: web.Request) -> web.Response:
    core = request.app[CORE]
    try:
        async with asyncio.timeout(3):
            await ping(core.engine)
    except Exception as exc:
        log.warning("health check: database unavailable: %r", exc)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def metrics_endpoint(request: web.Request) -> web.StreamResponse:
    """The process's series and the database's figures, in the format the scraper asks for."""
    core, metrics = request.app[CORE], request.app[METRICS]
    async with core.uow() as uow:
        counts = await uow.read.state_counts()
    figures = DatabaseFigures(
        outbox=counts.outbox, charges=counts.charges, confirmed_payments=counts.confirmed_payments
    )
    group = os.environ.get(METRICS_DIR_VARIABLE) or None
    return await make_aiohttp_handler(scrape_registry(metrics, figures, group))(request)
