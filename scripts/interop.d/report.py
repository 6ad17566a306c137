"""Result lines shared by the Python client checks, in the guest's format.

Each check prints one line, "@@ PASS name detail" or "@@ FAIL name detail", and the run ends
with "@@ END"; scripts/interop parses these lines and nothing else, so a client that crashes
half-way shows up as the checks it did not get to, never as a silent pass.
"""

import hashlib
import sys
import traceback

# What scripts/interop puts in the exported directory before each client runs.
HELLO = b"hello from the host\n"
INNER = b"inner\n"


def say(*words):
    print("@@", *words, flush=True)


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, name, function):
        """Runs function(); its return value is the detail of a PASS, an exception is a FAIL."""
        try:
            detail = function()
        except Exception as error:  # a check's failure is what this reports
            self.failed += 1
            say("FAIL", name, f"{type(error).__name__}: {error}")
            traceback.print_exc(file=sys.stdout)
            return False
        say("PASS", name, detail or "")
        return True

    def end(self):
        say("END")
        return 1 if self.failed else 0


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def sha256(data):
    return hashlib.sha256(data).hexdigest()
