"""Listening sockets for several workers: one per worker, all on the same port, each connection unstalled.

A socket shared by every worker lets whichever worker wakes first accept, and under keep-alive one
worker usually takes every connection (16:0 measured), so two workers served like one. With
SO_REUSEPORT each worker listens on a socket of its own and the kernel spreads new connections across
them by their addresses.

uvicorn's own shared socket is created with `proto=0`, so asyncio, which only sets TCP_NODELAY on
sockets whose proto is TCP, left Nagle's algorithm on: it met the client's delayed ACK and every
request on a reused connection waited about 40 ms. These sockets say IPPROTO_TCP, so every connection
accepted from them gets TCP_NODELAY, as in single-worker mode.
"""

from __future__ import annotations

import socket

from cds.errors import CdsError


class PortInUse(CdsError, OSError):
    """The address is taken by another process; the message names it."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """Raises PortInUse. SO_REUSEPORT would otherwise let a second service on the port share its traffic."""
    with socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise PortInUse(f"cannot listen on {host}:{port}: {error.strerror}") from None


def worker_socket(host: str, port: int) -> socket.socket:
    """A bound socket for one worker, which starts listening on it; the port is shared with the others."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    sock.set_inheritable(True)
    return sock
