"""What the client scripts that test clients at their defaults share: the harness's environment, a client
configuration left at its defaults, and the checks.

Environment (provided by the harness):
  CAIRN_ENDPOINT        http://127.0.0.1:PORT
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
  CAIRN_WORK            empty scratch directory
  CAIRN_BUCKET_PREFIX   every bucket created here starts with this
"""

import os
import secrets
import sys

ENDPOINT = os.environ["CAIRN_ENDPOINT"]
WORK = os.environ["CAIRN_WORK"]
PREFIX = f"{os.environ['CAIRN_BUCKET_PREFIX'].rstrip('-')}-{secrets.token_hex(3)}"

# The defaults: no AWS config file (so no signature_version), no region beyond what a fresh machine has.
os.environ["AWS_CONFIG_FILE"] = os.path.join(WORK, "no-aws-config")
os.environ.pop("AWS_DEFAULT_REGION", None)
os.environ.pop("AWS_REGION", None)


def fail(message):
    """Prints the failure and ends the script with status 1."""
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    """Fails with `message` unless `condition` holds; prints it as passed otherwise."""
    if not condition:
        fail(message)
    print(f"    ok: {message}")
