"""Runs the service under uvicorn, in one process or with a parent supervising several workers.

Workers are forked from the parent, which has imported the service and migrated the database: a fresh
interpreter per worker (uvicorn's spawn) imported everything again, about a second of CPU per worker,
which made start-up with two workers twice as slow as with one. Each worker still builds its app
itself (the factory runs in the worker), from the rules the parent loaded; the parent reloads them on
SIGHUP as the workers do, so a replacement worker starts on the rules its siblings run. The parent
passes its resolved settings through the environment.

uvicorn's own parent answers SIGHUP by replacing every worker; this service instead forwards SIGHUP to
each worker, which reloads its rules in place and keeps the old ones if the new ones do not load (a
replacement worker could not start on broken rules at all).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from socket import socket
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from uvicorn.importer import import_from_string
from uvicorn.supervisors.multiprocess import SIGNALS, Multiprocess, Process

from cds.rulebook import Rulebook
from cds.service import metrics
from cds.service.app import SETTINGS_ENV, create_app
from cds.service.connections import LimitedConfig, connection_limits
from cds.service.logging import get_logger, logging_config
from cds.service.pidfile import PidFile
from cds.service.reload import ActiveRules, RulesHolder, validate_then_build
from cds.service.settings import Settings
from cds.service.sockets import check_port_free, worker_socket

STARTUP_FAILURE = 3
STARTUP_GRACE_S = 60.0
"""How long a worker may take to start before a missed health ping counts against it."""

log = get_logger("server")


class _Stopped(Exception):
    """uvicorn re-raises the SIGTERM or SIGINT that stopped it; this turns that into a normal return."""


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


_FORK = multiprocessing.get_context("fork")


class _ForkedWorker(Process):
    """uvicorn's worker, forked instead of spawned. The parent is single-threaded when it forks (it runs
    no event loop, and its database connections are closed), so nothing is copied mid-operation."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket]) -> None:
        super().__init__(config, sockets)
        self.process = _FORK.Process(target=self._run, args=(sockets,))  # type: ignore[assignment]

    def _run(self, sockets: list[socket]) -> None:
        """The supervisor's signal handlers would only queue signals here; a worker starts with the
        defaults, as a spawned one did, and ignores SIGHUP until its app reloads on it."""
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.target(sockets)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, giving each worker it starts or restarts a listening socket of its own
    (`cds.service.sockets`), and forwarding SIGHUP instead of replacing the workers.

    A spawned worker answered uvicorn's health ping only once its interpreter had imported the
    service; on a busy machine that took longer than the ping timeout (5 s), and uvicorn killed such
    workers as hung and started others, which were slow for the same reason. Forked workers answer at
    once, but a worker that is running and still within its start-up grace is left alone all the same:
    a ping is answered from a thread, which a busy start can starve of the GIL.
    """

    def __init__(self, config: uvicorn.Config, on_hup: Callable[[], None]) -> None:
        super().__init__(config, sockets=[])
        self._started_at: dict[Process, float] = {}
        self._on_hup = on_hup

    def _start_worker(self) -> Process:
        sock = worker_socket(self.config.host, self.config.port)
        process = _ForkedWorker(self.config, [sock])
        process.start()
        self._started_at[process] = time.monotonic()
        sock.close()  # the worker has its copy; one kept here would queue connections nobody accepts
        return process

    def _starting(self, process: Process) -> bool:
        """Running, and started within the grace: not pinged, since a ping unanswered now is answered
        late, and the stale answers would then stand in for the next checks."""
        young = time.monotonic() - self._started_at.get(process, 0.0) < STARTUP_GRACE_S
        return young and process.process.is_alive()

    def init_processes(self) -> None:
        self.processes = [self._start_worker() for _ in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if self._starting(process) or process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            del self._started_at[process]
            process.kill()
            process.join()
            if process.pid is not None:
                metrics.worker_exiting(process.pid)
            if process.exitcode == STARTUP_FAILURE:
                log.error("a worker failed to start; stopping", extra={"fields": {"event": "worker_failed"}})
                self.should_exit.set()
                return
            log.info("a worker died; starting another", extra={"fields": {"event": "worker_restarted"}})
            self.processes[index] = self._start_worker()

    def handle_hup(self) -> None:
        log.info(
            "SIGHUP: asking every worker to reload its rules", extra={"fields": {"event": "reload_requested"}}
        )
        for process in self.processes:
            if process.pid is not None and process.process.is_alive():
                os.kill(process.pid, signal.SIGHUP)
        self._on_hup()


class _LoadedRules:
    """The service's app factory once `cds serve` has loaded the rules: a worker builds its engine from
    them instead of reading and checking the rule files again (a third of a second of CPU).

    The parent reloads them on SIGHUP as the workers do, so a worker that replaces a dead one starts
    on the rules the others run; rules that do not load leave the previous ones, as in the workers.
    """

    def __init__(self, settings: Settings, rulebook: Rulebook) -> None:
        self._settings = settings
        self._rulebook = rulebook

    def __call__(self) -> Starlette:
        # SIGHUP is ignored until the app reloads on it, as in app_from_environment
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        holder = RulesHolder(self._settings.rules_dir, ActiveRules.build(self._rulebook))
        return create_app(self._settings, holder)

    def reload(self) -> None:
        outcome = validate_then_build(self._settings.rules_dir, self._rulebook.version, lambda new: new)
        if isinstance(outcome, Rulebook):
            self._rulebook = outcome


SERVICE_APP = "cds.service.app:app_from_environment"


def serve(settings: Settings, app: str = SERVICE_APP, *, rulebook: Rulebook | None = None) -> int:
    """Blocks until the service stops; returns the process exit status. `app` is a uvicorn app factory:
    the benchmark serves its floor app through here, so that only the app differs from the service.
    `rulebook`: the service's rules, already loaded from `settings.rules_dir` (then `app` is not used)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    loaded = _LoadedRules(settings, rulebook) if rulebook is not None else None
    with PidFile(settings.pid_file):
        if settings.workers > 1:
            metrics.prepare_multiprocess(settings.metrics_dir)
        os.environ[SETTINGS_ENV] = settings.model_dump_json(exclude={"config_file"})
        config = LimitedConfig(
            loaded or app,
            limits=connection_limits(settings),
            factory=True,
            # uvloop measured no faster and no leaner than asyncio's loop on the benchmark's mix
            # (docs/bench.md#workers), so the standard loop is used.
            loop="asyncio",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=logging_config(settings.log_level),
            access_log=False,
            server_header=False,
            date_header=True,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=settings.shutdown_drain_seconds,
            ssl_certfile=settings.tls_certfile,
            ssl_keyfile=settings.tls_keyfile,
            proxy_headers=settings.proxy_headers,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
        if settings.workers == 1:
            server = uvicorn.Server(config)
            previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                server.run()
            except _Stopped:
                pass
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            return 0 if server.started else STARTUP_FAILURE
        check_port_free(settings.host, settings.port)
        import_from_string(loaded or app)  # imported once here, so that every forked worker has it
        # Frozen before the fork (Python's advice for pre-forking servers): a worker's own collection at
        # start then scans only what it builds, and leaves the pages it shares with the parent unwritten.
        gc.collect()
        gc.freeze()
        supervisor = _Supervisor(config, on_hup=loaded.reload if loaded else lambda: None)
        supervisor.run()
        failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
        return STARTUP_FAILURE if failed else 0
