"""Runs the service under uvicorn, in one process or with a parent supervising several workers.

Workers start from a fresh interpreter (spawn), so the parent passes its resolved settings through the
environment. uvicorn's own parent answers SIGHUP by replacing every worker; this service instead
forwards SIGHUP to each worker, which reloads its rules in place and keeps the old ones if the new
ones do not load (a replacement worker could not start on broken rules at all).
"""

from __future__ import annotations

import os
import signal
from types import FrameType

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from cds.service import metrics
from cds.service.app import SETTINGS_ENV
from cds.service.connections import LimitedConfig, connection_limits
from cds.service.logging import get_logger, logging_config
from cds.service.pidfile import PidFile
from cds.service.settings import Settings
from cds.service.sockets import check_port_free, worker_socket

STARTUP_FAILURE = 3

log = get_logger("server")


class _Stopped(Exception):
    """uvicorn re-raises the SIGTERM or SIGINT that stopped it; this turns that into a normal return."""


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, giving each worker it starts or restarts a listening socket of its own
    (`cds.service.sockets`), and forwarding SIGHUP instead of replacing the workers."""

    def _start_worker(self) -> Process:
        sock = worker_socket(self.config.host, self.config.port)
        process = Process(self.config, [sock])
        process.start()
        sock.close()  # the worker has its copy; one kept here would queue connections nobody accepts
        return process

    def init_processes(self) -> None:
        self.processes = [self._start_worker() for _ in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
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


SERVICE_APP = "cds.service.app:app_from_environment"


def serve(settings: Settings, app: str = SERVICE_APP) -> int:
    """Blocks until the service stops; returns the process exit status. `app` is a uvicorn app factory:
    the benchmark serves its floor app through here, so that only the app differs from the service."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with PidFile(settings.pid_file):
        if settings.workers > 1:
            metrics.prepare_multiprocess(settings.metrics_dir)
        os.environ[SETTINGS_ENV] = settings.model_dump_json(exclude={"config_file"})
        config = LimitedConfig(
            app,
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
        supervisor = _Supervisor(config, sockets=[])
        supervisor.run()
        failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
        return STARTUP_FAILURE if failed else 0
