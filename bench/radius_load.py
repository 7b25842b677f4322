"""An open-loop RADIUS load: Access-Requests sent at a fixed rate, each answer's latency.

radclient -p 64 measures throughput (64 requests always in flight), but with a queue that
deep every request waits for the 63 before it, so its latency says how deep the queue is,
not how fast an answer comes (Little's law). A NAS sends requests as subscribers arrive,
independently of the answers: this sends them on a fixed schedule whatever comes back and
times each answer from the moment it was due.

The packets are RFC 2865 Access-Requests with PAP (User-Password hidden with the shared
secret and the Request Authenticator) and a Message-Authenticator (RFC 3579: FreeRADIUS
3.2 insists on one from a client that has ever sent one).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
USER_NAME, USER_PASSWORD, NAS_IP_ADDRESS, MESSAGE_AUTHENTICATOR = 1, 2, 4, 80


def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!BB", kind, len(value) + 2) + value


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """RFC 2865 §5.2: the password padded to 16 bytes, XORed block by block with
    MD5(secret + previous block)."""
    padded = password + b"\0" * (-len(password) % 16 or (16 if not password else 0))
    out, previous = b"", authenticator
    for start in range(0, len(padded), 16):
        key = hashlib.md5(secret + previous).digest()  # noqa: S324 - RADIUS is MD5
        block = bytes(a ^ b for a, b in zip(padded[start:start + 16], key, strict=True))
        out += block
        previous = block
    return out


def access_request(identifier: int, user: str, password: str, nas_ip: str,
                   secret: bytes) -> bytes:
    authenticator = os.urandom(16)
    attributes = (
        _attribute(USER_NAME, user.encode())
        + _attribute(USER_PASSWORD, hide_password(password.encode(), secret, authenticator))
        + _attribute(NAS_IP_ADDRESS, socket.inet_aton(nas_ip))
    )
    blank = _attribute(MESSAGE_AUTHENTICATOR, b"\0" * 16)
    length = 20 + len(attributes) + len(blank)
    header = struct.pack("!BBH", ACCESS_REQUEST, identifier, length) + authenticator
    signature = hmac.new(secret, header + attributes + blank, hashlib.md5).digest()
    return header + attributes + _attribute(MESSAGE_AUTHENTICATOR, signature)


@dataclass
class PacedResult:
    sent: int = 0
    accepts: int = 0
    rejects: int = 0
    lost: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def paced(*, port: int, secret: str, users: list[tuple[str, str]], nas_ip: str,
          rate: float, seconds: float, sockets: int = 16, timeout: float = 2.0) -> PacedResult:
    """Send ``rate`` Access-Requests a second for ``seconds`` to 127.0.0.1:``port``,
    cycling through ``users`` (name, password); latency from each request's due time."""
    key = secret.encode()
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(sockets)]
    for sock in socks:
        sock.connect(("127.0.0.1", port))
    pending: dict[tuple[int, int], float] = {}
    lock = threading.Lock()
    result = PacedResult()
    total = int(rate * seconds)
    done = threading.Event()

    def receive() -> None:
        by_fd = {sock.fileno(): index for index, sock in enumerate(socks)}
        while not done.is_set() or pending:
            ready, _w, _x = select.select(socks, [], [], 0.05)
            now = time.perf_counter()
            for sock in ready:
                data = sock.recv(4096)
                code, identifier = data[0], data[1]
                with lock:
                    due = pending.pop((by_fd[sock.fileno()], identifier), None)
                if due is None:
                    continue
                result.latencies_ms.append((now - due) * 1000)
                if code == ACCESS_ACCEPT:
                    result.accepts += 1
                elif code == ACCESS_REJECT:
                    result.rejects += 1
            if done.is_set():
                with lock:
                    expired = [k for k, due in pending.items() if now - due > timeout]
                    for k in expired:
                        del pending[k]
                    result.lost += len(expired)

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        index, identifier = i % sockets, (i // sockets) % 256
        user, password = users[i % len(users)]
        packet = access_request(identifier, user, password, nas_ip, key)
        with lock:
            if (index, identifier) in pending:  # the id is still out after 256 turns
                result.lost += 1
            pending[(index, identifier)] = due
        socks[index].send(packet)
        result.sent += 1
    done.set()
    receiver.join(timeout + 5)
    for sock in socks:
        sock.close()
    return result
