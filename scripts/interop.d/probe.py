"""Asks a 9P server for Tversion and prints its Rversion, before any client is let loose on it.

A server that does not answer (not built yet, crashing, speaking another dialect) would
otherwise show up as a guest or a client hanging until its timeout; this turns it into one
clear line. Standard library only, so it runs before any venv exists.

    probe.py tcp PORT [VERSION]      connect to 127.0.0.1:PORT, retrying while it starts
    probe.py exec COMMAND [VERSION]  run COMMAND (no shell) with 9P on its stdin/stdout
"""

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TVERSION, RVERSION, RERROR = 100, 101, 107
RLERROR = 7  # 9P2000.L's numeric error, as diod answers a Tversion it does not support
NOTAG = 0xFFFF
DEADLINE = 20.0  # seconds; a cold start of a server under a loaded CI machine


def tversion(version):
    body = struct.pack("<BHIH", TVERSION, NOTAG, 8192, len(version)) + version.encode()
    return struct.pack("<I", 4 + len(body)) + body


def read_exact(read, n):
    data = b""
    while len(data) < n:
        chunk = read(n - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def rversion(read):
    size = struct.unpack("<I", read_exact(read, 4))[0]
    if not 7 <= size <= 65536:
        raise ValueError(f"implausible message size {size}")
    body = read_exact(read, size - 4)
    kind, tag = struct.unpack("<BH", body[:3])
    if kind == RERROR:
        (n,) = struct.unpack("<H", body[3:5])
        raise ValueError(f"Rerror {body[5:5 + n].decode(errors='replace')!r}")
    if kind == RLERROR:
        raise ValueError(f"Rlerror errno {struct.unpack('<I', body[3:7])[0]} (a 9P2000.L-only server?)")
    if kind != RVERSION or tag != NOTAG:
        raise ValueError(f"expected Rversion with NOTAG, got type {kind} tag {tag}")
    msize, n = struct.unpack("<IH", body[3:9])
    return msize, body[9:9 + n].decode(errors="replace")


def over_tcp(port, version):
    start = time.monotonic()
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", int(port)), timeout=DEADLINE)
            break
        except OSError:
            if time.monotonic() - start > DEADLINE:
                raise
            time.sleep(0.1)
    with sock:
        sock.sendall(tversion(version))
        return rversion(sock.recv)


def over_pipes(command, version):
    # Its own session, so that the whole server (a shell and its children, say) can be killed
    # when it does not answer in time.
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + DEADLINE

    def read(n):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([proc.stdout], [], [], remaining)[0]:
            raise TimeoutError(f"no answer within {DEADLINE:.0f} s")
        return os.read(proc.stdout.fileno(), n)

    try:
        proc.stdin.write(tversion(version))
        proc.stdin.flush()
        return rversion(read)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main():
    mode, target = sys.argv[1], sys.argv[2]
    version = sys.argv[3] if len(sys.argv) > 3 else "9P2000"
    try:
        if mode == "tcp":
            msize, answer = over_tcp(target, version)
        else:
            msize, answer = over_pipes([target], version)
    except Exception as error:  # any failure is the one thing this reports
        print(f"no Rversion to Tversion {version}: {error}")
        return 1
    print(f"Rversion msize={msize} version={answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
