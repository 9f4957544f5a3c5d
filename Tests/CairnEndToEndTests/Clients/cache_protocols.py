#!/usr/bin/env python3
"""The build-cache protocols as their clients speak them (Gradle, Turborepo, Bazel's HTTP cache rules) and
Cairn's own cache API, with tokens: namespace-scoped and read-only.

Each section follows the client's source: Gradle HttpBuildCacheService (GET/PUT <root><key>, 404 miss, 413 not
stored, Basic auth, Expect: 100-continue), Turborepo's api client (PUT/GET/HEAD /v8/artifacts/<hash>?teamId=,
x-artifact-duration/x-artifact-tag, POST /v8/artifacts/events, GET /v8/artifacts/status, Bearer). sccache is
tested with the real client (CacheClientTests).
Environment: CAIRN_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, CAIRN_TOKEN_RW (namespace "team-a"),
CAIRN_TOKEN_RO (namespace "team-a", read-only), CAIRN_MAX_ENTRY (the server's max entry size).
"""
import base64
import hashlib
import http.client
import json
import os
import sqlite3
import sys
import time
import urllib.parse

ENDPOINT = os.environ["CAIRN_ENDPOINT"]
URL = urllib.parse.urlparse(ENDPOINT)
KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]
SECRET = os.environ["AWS_SECRET_ACCESS_KEY"]
TOKEN_RW = os.environ["CAIRN_TOKEN_RW"]
TOKEN_RO = os.environ["CAIRN_TOKEN_RO"]
MAX_ENTRY = int(os.environ["CAIRN_MAX_ENTRY"])


def step(text):
    print(f"--- {text}", flush=True)


def fail(text):
    print(f"FAIL: {text}", flush=True)
    sys.exit(1)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


ROOT = basic(KEY_ID, SECRET)


def call(method, path, body=None, headers=None, auth=ROOT):
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = auth
    if body is not None:
        headers.setdefault("Content-Length", str(len(body)))
    connection = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def expect(result, status, what):
    if result[0] != status:
        fail(f"{what}: expected {status}, got {result[0]} {result[2][:300]!r}")
    return result


def sha(data):
    return hashlib.sha256(data).hexdigest()


step("authentication: nothing without credentials, wrong passwords and unknown tokens are refused")
expect(call("GET", "/_cairn/gradle/team-a/abc", auth=None), 401, "no credentials")
expect(call("GET", "/_cairn/gradle/team-a/abc", auth=basic(KEY_ID, "wrong")), 401, "wrong password")
expect(call("GET", "/_cairn/gradle/team-a/abc", auth="Bearer cairn_nonsense"), 401, "unknown token")

step("Gradle: miss is 404, PUT then GET is a hit, Basic auth with a token as password, 413 over the limit")
key = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
gradle_type = "application/vnd.gradle.build-cache-artifact.v1"
expect(call("GET", f"/_cairn/gradle/team-a/{key}", headers={"Accept": f"{gradle_type}, */*"}), 404, "gradle miss")
entry = os.urandom(300_000)
expect(call("PUT", f"/_cairn/gradle/team-a/{key}", entry, {"Content-Type": gradle_type, "Expect": "100-continue"},
            auth=basic("gradle", TOKEN_RW)), 200, "gradle put with a token")
status, headers, data = expect(call("GET", f"/_cairn/gradle/team-a/{key}", auth=basic("anyone", TOKEN_RO)), 200,
                               "gradle hit with a read-only token")
if data != entry:
    fail("gradle hit returned other bytes")
too_big = b"x" * (MAX_ENTRY + 1)
status, _, data = call("PUT", f"/_cairn/gradle/team-a/too-big", too_big, {"Content-Type": gradle_type})
if status != 413:
    fail(f"gradle entry over the limit must be 413 (any other code disables Gradle's cache), got {status}")
expect(call("GET", "/_cairn/gradle/team-a/too-big"), 404, "the oversized entry was not stored")

step("tokens: a read-only token cannot write; a team-a token cannot touch team-b")
expect(call("PUT", f"/_cairn/gradle/team-a/ro-write", b"data", auth=basic("x", TOKEN_RO)), 403, "read-only write")
expect(call("GET", "/_cairn/gradle/team-a/ro-write"), 404, "the refused write stored nothing")
expect(call("PUT", f"/_cairn/gradle/team-b/{key}", b"data", auth=f"Bearer {TOKEN_RW}"), 403, "other namespace write")
expect(call("GET", f"/_cairn/gradle/team-b/{key}", auth=f"Bearer {TOKEN_RW}"), 403, "other namespace read")

step("Turborepo: status, miss, PUT with duration and tag, GET and HEAD return them, events")
turbo = "/_cairn/turbo/v8/artifacts"
status, _, data = expect(call("GET", f"{turbo}/status?teamId=team-a", auth=f"Bearer {TOKEN_RW}"), 200, "status")
if json.loads(data).get("status") != "enabled":
    fail(f"status: {data!r}")
artifact_hash = "6f1ed002ab5595859014ebf0951522d9"
expect(call("GET", f"{turbo}/{artifact_hash}?teamId=team-a", auth=f"Bearer {TOKEN_RW}"), 404, "turbo miss")
artifact = os.urandom(50_000)
status, _, data = call("PUT", f"{turbo}/{artifact_hash}?teamId=team-a", artifact,
                       {"Content-Type": "application/octet-stream", "x-artifact-duration": "1234",
                        "x-artifact-tag": "c2lnbmF0dXJl", "x-artifact-client-ci": "cairn-test"},
                       auth=f"Bearer {TOKEN_RW}")
if status not in (200, 202):
    fail(f"turbo put: {status} {data[:200]!r}")
status, headers, data = expect(call("GET", f"{turbo}/{artifact_hash}?teamId=team-a", auth=f"Bearer {TOKEN_RO}"), 200,
                               "turbo hit")
if data != artifact or headers.get("x-artifact-duration") != "1234" or headers.get("x-artifact-tag") != "c2lnbmF0dXJl":
    fail(f"turbo hit headers or body differ: {headers}")
status, headers, _ = expect(call("HEAD", f"{turbo}/{artifact_hash}?teamId=team-a", auth=f"Bearer {TOKEN_RW}"), 200,
                            "turbo head")
if headers.get("x-artifact-duration") != "1234":
    fail(f"turbo HEAD lacks x-artifact-duration: {headers}")
expect(call("GET", f"{turbo}/{artifact_hash}?slug=team-b", auth=ROOT), 404, "another team does not see it")
events = json.dumps([{"sessionId": "s1", "source": "REMOTE", "hash": artifact_hash, "event": "HIT",
                      "duration": 12}]).encode()
expect(call("POST", f"{turbo}/events?teamId=team-a", events, {"Content-Type": "application/json"},
            auth=f"Bearer {TOKEN_RW}"), 200, "events")
expect(call("POST", f"{turbo}/events?teamId=team-a", b"{not json", auth=f"Bearer {TOKEN_RW}"), 400, "bad events")
expect(call("PUT", f"{turbo}/{artifact_hash}?teamId=team-a", b"x", auth=f"Bearer {TOKEN_RO}"), 403,
       "read-only token cannot upload artifacts")

step("Bazel HTTP cache rules: CAS verified against its digest; AC hit only while its CAS blobs exist")
blob = os.urandom(10_000)
digest = sha(blob)
expect(call("GET", f"/_cairn/bazel/team-a/cas/{digest}"), 404, "cas miss")
expect(call("PUT", f"/_cairn/bazel/team-a/cas/{sha(b'other')}", blob), 400, "cas body with the wrong digest")
expect(call("PUT", f"/_cairn/bazel/team-a/cas/{digest}", blob), 200, "cas put")
status, _, data = expect(call("GET", f"/_cairn/bazel/team-a/cas/{digest}"), 200, "cas hit")
if data != blob:
    fail("cas hit bytes differ")


def proto_digest(field, hex_hash, size):
    inner = b"\x0a" + bytes([len(hex_hash)]) + hex_hash.encode() + b"\x10" + varint(size)
    return bytes([(field << 3) | 2]) + varint(len(inner)) + inner


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


path_bytes = b"out/file.o"
output_file = b"\x0a" + bytes([len(path_bytes)]) + path_bytes + proto_digest(2, digest, len(blob))
action_result = b"\x12" + varint(len(output_file)) + output_file + b"\x20\x00"
action_key = sha(b"action-1")
expect(call("PUT", f"/_cairn/bazel/team-a/ac/{action_key}", action_result), 200, "ac put")
status, _, data = expect(call("GET", f"/_cairn/bazel/team-a/ac/{action_key}"), 200, "ac hit")
if data != action_result:
    fail("ac hit bytes differ")
missing_blob = sha(b"never uploaded")
orphan = b"\x0a\x01x" + proto_digest(2, missing_blob, 14)
orphan_result = b"\x12" + varint(len(orphan)) + orphan
orphan_key = sha(b"action-2")
expect(call("PUT", f"/_cairn/bazel/team-a/ac/{orphan_key}", orphan_result), 200, "ac put naming a missing blob")
expect(call("GET", f"/_cairn/bazel/team-a/ac/{orphan_key}"), 404, "an AC entry whose CAS blob is gone is a miss")

step("Cairn's cache API: find-missing in one call, CAS, entries refused while blobs are missing")
present = os.urandom(1000)
absent = os.urandom(1000)
expect(call("PUT", f"/_cairn/cas/{sha(present)}", present), 200, "api cas put")
expect(call("PUT", f"/_cairn/cas/{sha(absent)}", present), 400, "api cas put with the wrong digest")
status, _, data = expect(call("POST", "/_cairn/cas/missing",
                              json.dumps({"digests": [sha(present), sha(absent)]}).encode()), 200, "missing")
if json.loads(data)["missing"] != [sha(absent)]:
    fail(f"missing: {data!r}")
big = os.urandom(3 << 20)  # larger than one read group: streamed in chunks between small ones
empty = b""
for body in (big, empty):
    expect(call("PUT", f"/_cairn/cas/{sha(body)}", body), 200, f"api cas put of {len(body)} bytes")
asked = [sha(present), sha(big), sha(empty), sha(present)]
status, headers, data = expect(call("POST", "/_cairn/cas/read", json.dumps({"digests": asked}).encode()), 200,
                               "batch read")
frames, offset = [], 0
while offset < len(data):
    end = data.index(b"\n", offset)
    hexdigest, size = data[offset:end].decode().split(" ")
    frames.append((hexdigest, data[end + 1:end + 1 + int(size)]))
    offset = end + 1 + int(size)
if [(h, sha(b)) for h, b in frames] != [(d, d) for d in asked] or [b for _, b in frames] != [present, big, empty, present]:
    fail(f"batch read returned {[(h, len(b)) for h, b in frames]}, asked for {asked}")
status, _, data = expect(call("GET", f"/_cairn/cas/{sha(big)}"), 200, "api cas get of 3 MiB")
if data != big:
    fail(f"api cas get of 3 MiB returned {len(data)} bytes, or different bytes")
status, _, data = expect(call("POST", "/_cairn/cas/read", json.dumps({"digests": [sha(present), sha(absent)]}).encode()),
                         404, "batch read naming a missing blob")
if json.loads(data)["error"]["missing"] != [sha(absent)]:
    fail(f"batch read MissingBlobs: {data!r}")
expect(call("POST", "/_cairn/cas/read", b"{not json"), 400, "batch read with malformed JSON")
expect(call("POST", "/_cairn/cas/read", json.dumps({"digests": ["../../etc/passwd"]}).encode()), 400,
       "batch read with a path for a digest")
entry = {"value": {"digest": sha(present), "size": len(present)}, "references": [sha(absent)], "attributes": {"a": "b"}}
status, _, data = expect(call("PUT", "/_cairn/ac/runner/phase-1", json.dumps(entry).encode()), 400,
                         "entry naming a missing blob")
if json.loads(data)["error"]["missing"] != [sha(absent)]:
    fail(f"MissingBlobs: {data!r}")
entry["references"] = []
expect(call("PUT", "/_cairn/ac/runner/phase-1", json.dumps(entry).encode()), 200, "entry put")
status, _, data = expect(call("GET", "/_cairn/ac/runner/phase-1"), 200, "entry get")
got = json.loads(data)
if got["value"]["digest"] != sha(present) or got["attributes"] != {"a": "b"}:
    fail(f"entry get: {got}")
expect(call("DELETE", "/_cairn/ac/runner/phase-1"), 204, "entry delete")
expect(call("GET", "/_cairn/ac/runner/phase-1"), 404, "entry gone")

step("identical outputs from different tools are stored once")
# A 10,000-byte blob is small: it lives in metadata.sqlite (table small_blobs), not as a file.
def stored_copies():
    files = sum(1 for _, _, names in os.walk(os.path.join(os.environ["CAIRN_DATA_DIR"], "blobs"))
                for name in names if name == digest)
    database = sqlite3.connect(os.path.join(os.environ["CAIRN_DATA_DIR"], "metadata.sqlite"))
    try:
        rows = database.execute("SELECT count(*) FROM small_blobs WHERE digest = ?", (digest,)).fetchone()[0]
    finally:
        database.close()
    return files, rows


if stored_copies() != (0, 1):
    fail(f"the CAS blob is not stored once, in the database: (files, rows) = {stored_copies()}")
expect(call("PUT", f"/_cairn/ccache/team-a/{digest[:2]}/{digest[2:]}", blob), 201, "same bytes through ccache")
if stored_copies() != (0, 1):
    fail(f"expected one copy of the blob, found (files, rows) = {stored_copies()}")

print("cache protocols: all checks passed")
