"""Interop checks with p9fs (PyPI), an fsspec filesystem speaking 9P2000 (also .u and .L).

    client-p9fs.py PORT SHARE

PORT is a 9P server on 127.0.0.1, SHARE the host directory it serves (scripts/interop put
hello.txt and sub/inner.txt there). This is how a Python program would use a 9P server through
fsspec; SHARE is only read to confirm that what the client did landed on the host.

Known quirks of p9fs 0.0.4 that these checks step around (they are the client's, not the
server's): info(), exists(), isdir() and isfile() recognise a missing file only by the Rerror
string "file not found" (the py9p server's), so with a server speaking the classic "file does
not exist" they raise RpcError instead of answering False, and touch(truncate=False) goes
through exists(); a file whose last write chunk is one byte long loses that byte.
"""

import getpass
import os
import sys

from p9fs import P9FileSystem

from report import HELLO, INNER, Report, expect, sha256


def main():
    port, share = int(sys.argv[1]), sys.argv[2]
    report = Report()
    fs = None

    def connect():
        nonlocal fs
        # Tversion 9P2000, Tauth (refused is fine: no authentication), Tattach.
        fs = P9FileSystem("127.0.0.1", port, getpass.getuser(), version="9P2000")
        return f"9P2000 session, msize {fs.client.msize}"

    def listing():
        entries = {os.path.basename(e["name"].rstrip("/")): e for e in fs.ls("", detail=True)}
        expect(entries.get("hello.txt", {}).get("type") == "file", f"no file hello.txt in {entries}")
        expect(entries["hello.txt"]["size"] == len(HELLO), "hello.txt has the wrong size")
        expect(entries.get("sub", {}).get("type") == "directory", "sub is no directory")
        return f"{len(entries)} entries: {' '.join(sorted(entries))}"

    def read():
        expect(fs.cat_file("hello.txt") == HELLO, "hello.txt does not read as written")
        expect(fs.cat_file("sub/inner.txt") == INNER, "sub/inner.txt differs")
        return "cat_file hello.txt and sub/inner.txt"

    def write():
        data = os.urandom(100_000)  # many Twrites; 100000 leaves no one-byte tail at any msize
        with fs.open("written.bin", "wb") as out:
            out.write(data)
        expect(fs.cat_file("written.bin") == data, "written.bin does not read back")
        with open(os.path.join(share, "written.bin"), "rb") as host:
            expect(sha256(host.read()) == sha256(data), "written.bin on the host differs")
        return f"written.bin, 100000 bytes, sha256 {sha256(data)[:16]}... same on the host"

    def create():
        fs.touch("empty.txt")  # truncate=True: Tcreate without asking exists() first
        expect(fs.info("empty.txt")["size"] == 0, "empty.txt is not empty")
        fs.mkdir("newdir", create_parents=False)
        expect(fs.isdir("newdir"), "newdir is no directory")
        for name, test in (("empty.txt", os.path.isfile), ("newdir", os.path.isdir)):
            expect(test(os.path.join(share, name)), f"{name} is not on the host")
        return "empty.txt and newdir/ created, both on the host"

    def remove():
        fs.rm_file("empty.txt")
        fs.rm_file("written.bin")
        fs.rmdir("newdir")
        names = set(os.listdir(share))
        expect(not names & {"empty.txt", "written.bin", "newdir"}, f"still on the host: {names}")
        return "empty.txt, written.bin and newdir/ removed, gone from the host"

    def missing():
        try:
            fs.cat_file("missing")
        except Exception as error:  # p9fs raises its own or py9p's errors, see above
            return f"{type(error).__name__}: {error}"
        raise AssertionError("reading a missing file succeeded")

    if report.check("connect", connect):
        for name, check in [("ls", listing), ("read", read), ("write", write),
                            ("create", create), ("remove", remove), ("missing", missing)]:
            report.check(name, check)
    return report.end()


if __name__ == "__main__":
    sys.exit(main())
