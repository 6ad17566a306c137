"""Interop checks with python-9p (PyPI), a strict 9P2000 client on plan9port's C codec.

    client-python-9p.py PORT SHARE

PORT is a 9P server on 127.0.0.1, SHARE the host directory it serves (scripts/interop put
hello.txt and sub/inner.txt there). Every operation goes through the server; SHARE is only read
to confirm that what the client did landed on the host. The library rejects any malformed reply,
so a PASS here also says the server's bytes are well formed.
"""

import getpass
import os
import sys

import py9p
from py9p import Client, RemoteError

from report import HELLO, INNER, Report, expect, sha256

ROOT = 0  # the attach fid; each check clones it into fresh fids


class Session:
    def __init__(self, port):
        self.client = Client.connect_tcp("127.0.0.1", port, timeout=30)
        self.next_fid = 1

    def fid(self):
        self.next_fid += 1
        return self.next_fid

    def walk(self, names):
        fid = self.fid()
        qids = self.client.walk(ROOT, fid, names)
        expect(len(qids) == len(names), f"walk {names} returned {len(qids)} qids")
        return fid

    def chunk(self, iounit):
        """The most one Tread or Twrite may carry: the iounit, else what msize leaves."""
        room = self.client.msize - py9p.IOHDRSZ
        return min(iounit, room) if iounit else room

    def read_all(self, names):
        fid = self.walk(names)
        _, iounit = self.client.open(fid, py9p.OREAD)
        data = b""
        while True:
            piece = self.client.read(fid, self.chunk(iounit), len(data))
            if not piece:
                break
            data += piece
        self.client.clunk(fid)
        return data

    def write_all(self, fid, iounit, data):
        offset = 0
        while offset < len(data):
            count = self.client.write(fid, data[offset : offset + self.chunk(iounit)], offset)
            expect(count > 0, f"Rwrite count 0 at offset {offset}")
            offset += count

    def create(self, parent, name, perm, mode, data=b""):
        fid = self.walk(parent)
        _, iounit = self.client.create(fid, name, perm, mode)
        self.write_all(fid, iounit, data)
        self.client.clunk(fid)


def main():
    port, share = int(sys.argv[1]), sys.argv[2]
    report = Report()
    session = Session(port)
    client = session.client

    def version():
        reply = client.negotiate()
        expect(reply.version == "9P2000", f"Rversion {reply.version!r}")
        return f"Rversion msize={reply.msize} version={reply.version}"

    def attach():
        qid = client.attach(ROOT, uname=getpass.getuser())
        expect(qid.type & py9p.QTDIR, f"the root's qid {qid} is not a directory")
        return f"root qid type={qid.type:#x} path={qid.path:#x}"

    def listing():
        raw = session.read_all([])
        entries = {}
        while raw:
            size = int.from_bytes(raw[:2], "little")
            entry = py9p.decode_dir(raw[: 2 + size])
            entries[entry.name] = entry
            raw = raw[2 + size :]
        hello, sub = entries.get("hello.txt"), entries.get("sub")
        expect(hello and not hello.mode & py9p.DMDIR, f"no file hello.txt in {sorted(entries)}")
        expect(hello.length == len(HELLO), f"hello.txt has length {hello.length}")
        expect(sub and sub.mode & py9p.DMDIR and sub.qid.type & py9p.QTDIR, "sub is no directory")
        return f"{len(entries)} entries: {' '.join(sorted(entries))}"

    def read():
        expect(session.read_all(["hello.txt"]) == HELLO, "hello.txt does not read as written")
        expect(session.read_all(["sub", "inner.txt"]) == INNER, "sub/inner.txt differs")
        return "hello.txt and sub/inner.txt (a walk of two names)"

    def write():
        text = b"rewritten by python-9p\n"
        fid = session.walk(["hello.txt"])
        _, iounit = client.open(fid, py9p.OWRITE | py9p.OTRUNC)
        session.write_all(fid, iounit, text)
        client.clunk(fid)
        expect(session.read_all(["hello.txt"]) == text, "hello.txt does not read back")
        with open(os.path.join(share, "hello.txt"), "rb") as host:
            expect(host.read() == text, "hello.txt on the host differs")
        return "hello.txt opened OWRITE|OTRUNC, rewritten, read back, same on the host"

    def create():
        data = os.urandom(100_000)  # many Twrites at any msize
        session.create([], "created.bin", 0o644, py9p.OWRITE, data)
        back = session.read_all(["created.bin"])
        expect(back == data, f"read back {len(back)} bytes that differ")
        with open(os.path.join(share, "created.bin"), "rb") as host:
            expect(sha256(host.read()) == sha256(data), "created.bin on the host differs")
        return f"created.bin, 100000 bytes, sha256 {sha256(data)[:16]}... same on the host"

    def mkdir():
        session.create([], "newdir", py9p.DMDIR | 0o755, py9p.OREAD)
        session.create(["newdir"], "inside.txt", 0o644, py9p.OWRITE, b"inside\n")
        expect(os.path.isdir(os.path.join(share, "newdir")), "newdir is no directory on the host")
        expect(os.path.isfile(os.path.join(share, "newdir", "inside.txt")), "no newdir/inside.txt")
        return "newdir/ and newdir/inside.txt created, both on the host"

    def remove():
        for names in (["newdir", "inside.txt"], ["newdir"], ["created.bin"]):
            client.remove(session.walk(names))  # Tremove clunks the fid
        left = [n for n in ("newdir", "created.bin") if os.path.exists(os.path.join(share, n))]
        expect(not left, f"still on the host: {left}")
        return "newdir/inside.txt, newdir/ and created.bin removed, gone from the host"

    def missing():
        try:
            client.walk(ROOT, session.fid(), ["missing"])
        except RemoteError as error:
            return f"walk to missing: Rerror {str(error)!r}"
        raise AssertionError("a walk to a missing name succeeded")

    def walk_partial():
        # 9P2000's walk(5): a walk that fails after its first name answers Rwalk with the qids
        # of the names it got through, not Rerror (and leaves newfid unused).
        qids = client.walk(ROOT, session.fid(), ["sub", "missing"])
        expect(len(qids) == 1, f"walk sub/missing returned {len(qids)} qids, not 1")
        return "walk sub/missing: Rwalk with 1 qid"

    for name, check in [("version", version), ("attach", attach), ("ls", listing),
                        ("read", read), ("write", write), ("create", create),
                        ("mkdir", mkdir), ("remove", remove), ("missing", missing),
                        ("walk-partial", walk_partial)]:
        if not report.check(name, check) and name in ("version", "attach"):
            break  # nothing else can work without a session
    client.close()
    return report.end()


if __name__ == "__main__":
    sys.exit(main())
