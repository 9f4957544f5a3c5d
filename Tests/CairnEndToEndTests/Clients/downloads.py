#!/usr/bin/env python3
"""Large downloads against a running Cairn: every byte and range exact, on plain HTTP (sent from blob files by the
kernel) and HTTPS (read through the server), with nothing left open when a client goes away or a blob file is damaged.

Objects of one and of several blobs, one of whose parts is small enough to be held in memory, are read whole, in
ranges across part boundaries, and several times over one kept-alive connection; pipelined requests mixing reads
answered from memory with large and uncached ones come back in order; clients that hang up mid-body must
leave no blob file open in the server; a blob file cut short on disk must end its response short (never with other
bytes) and leave the server serving.
Environment: CAIRN_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_CA_BUNDLE (HTTPS), CAIRN_DATA_DIR,
CAIRN_BUCKET_PREFIX, CAIRN_SERVER_PID.
"""
import hashlib
import http.client
import os
import socket
import ssl
import sys
import time
import urllib.parse

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ENDPOINT = os.environ["CAIRN_ENDPOINT"]
URL = urllib.parse.urlparse(ENDPOINT)
DATA_DIR = os.environ["CAIRN_DATA_DIR"]
PID = int(os.environ["CAIRN_SERVER_PID"])
BUCKET = os.environ.get("CAIRN_BUCKET_PREFIX", "downloads") + "-bucket"
CREDS = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
S3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))
MiB = 1024 * 1024


def step(text):
    print(f"--- {text}", flush=True)


def fail(text):
    print(f"FAIL: {text}", flush=True)
    sys.exit(1)


def check(condition, text):
    if not condition:
        fail(text)


def connect():
    if URL.scheme == "https":
        context = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
        return http.client.HTTPSConnection(URL.hostname, URL.port, timeout=60, context=context)
    return http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)


def signed(method, key, headers=None):
    url = f"{ENDPOINT}/{BUCKET}/{urllib.parse.quote(key, safe='/~')}"
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    request.headers["Host"] = URL.netloc
    SigV4Auth(CREDS, "s3", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    headers.pop("Host")
    return f"/{BUCKET}/{urllib.parse.quote(key, safe='/~')}", headers


def open_blob_files():
    """The blob files the server has open now."""
    names = []
    for entry in os.listdir(f"/proc/{PID}/fd"):
        try:
            target = os.readlink(f"/proc/{PID}/fd/{entry}")
        except OSError:
            continue  # closed while listing
        if "/blobs/sha256/" in target:
            names.append(target)
    return names


def wait_for_no_open_blob_files(what):
    deadline = time.time() + 30
    while open_blob_files():
        if time.time() > deadline:
            fail(f"{what}: the server still has blob files open after 30 s: {open_blob_files()}")
        time.sleep(0.1)


def blob_path(content):
    digest = hashlib.sha256(content).hexdigest()
    return f"{DATA_DIR}/blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def wait_for_file(path):
    deadline = time.time() + 30
    while not os.path.exists(path):
        check(time.time() < deadline, f"blob file {path} was not written within 30 s")
        time.sleep(0.05)


S3.create_bucket(Bucket=BUCKET)

step("objects of one blob and of several (5 MiB, 5 MiB + 1, 20 KiB held in memory, 3 MiB)")
single = os.urandom(6 * MiB + 123)
S3.put_object(Bucket=BUCKET, Key="single", Body=single)
parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 1), os.urandom(20 * 1024), os.urandom(3 * MiB)]
upload = S3.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
etags = []
for number, part in enumerate(parts, start=1):
    if number == 3:
        # Parts other than the last must be 5 MiB or more: the small part goes last in a second object below.
        continue
    etags.append({"PartNumber": number, "ETag": S3.upload_part(
        Bucket=BUCKET, Key="multi", UploadId=upload, PartNumber=number, Body=part)["ETag"]})
S3.complete_multipart_upload(Bucket=BUCKET, Key="multi", UploadId=upload, MultipartUpload={"Parts": etags})
multi = parts[0] + parts[1] + parts[3]
upload = S3.create_multipart_upload(Bucket=BUCKET, Key="tail")["UploadId"]
tail_parts = [parts[0], parts[2]]
etags = [{"PartNumber": n, "ETag": S3.upload_part(Bucket=BUCKET, Key="tail", UploadId=upload, PartNumber=n,
                                                   Body=p)["ETag"]} for n, p in enumerate(tail_parts, start=1)]
S3.complete_multipart_upload(Bucket=BUCKET, Key="tail", UploadId=upload, MultipartUpload={"Parts": etags})
tail = parts[0] + parts[2]
objects = {"single": single, "multi": multi, "tail": tail}

step("whole objects")
for key, content in objects.items():
    body = S3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    check(body == content, f"{key}: {len(body)} bytes read, {len(content)} stored, or different bytes")

step("ranges: inside one blob, across blob boundaries, into the blob held in memory, suffix and open-ended")
boundary = 5 * MiB
cases = {
    "single": ["bytes=0-0", "bytes=1000-2000999", "bytes=123-", "bytes=-3000000", f"bytes={len(single) - 1}-"],
    "multi": [f"bytes={boundary - 10}-{boundary + 9}", f"bytes={boundary - MiB}-{boundary + 2 * MiB}",
              f"bytes=1-{len(multi) - 2}", f"bytes={2 * boundary - 100}-", f"bytes=-{3 * MiB + 7}"],
    "tail": [f"bytes={boundary - 2 * MiB}-", f"bytes={boundary}-{boundary + 1023}", f"bytes=17-{boundary + 5000}"],
}
for key, ranges in cases.items():
    content = objects[key]
    for text in ranges:
        first, last = text[len("bytes="):].split("-")
        if first == "":
            start, end = len(content) - int(last), len(content)
        else:
            start, end = int(first), (int(last) + 1 if last else len(content))
        response = S3.get_object(Bucket=BUCKET, Key=key, Range=text)
        body = response["Body"].read()
        check(body == content[start:end], f"{key} {text}: {len(body)} bytes, expected {end - start} exact bytes")
        check(response["ContentRange"] == f"bytes {start}-{end - 1}/{len(content)}",
              f"{key} {text}: Content-Range {response['ContentRange']}")

step("one kept-alive connection: large, small, HEAD, ranged and large again, in turn")
connection = connect()
small = os.urandom(3000)
S3.put_object(Bucket=BUCKET, Key="small", Body=small)
for method, key, headers, expected in [
    ("GET", "multi", {}, multi),
    ("GET", "small", {}, small),
    ("HEAD", "single", {}, b""),
    ("GET", "single", {"Range": "bytes=2000000-4999999"}, single[2000000:5000000]),
    ("GET", "tail", {}, tail),
    ("GET", "small", {}, small),
]:
    path, all_headers = signed(method, key, headers)
    connection.request(method, path, headers=all_headers)
    response = connection.getresponse()
    body = response.read()
    check(response.status in (200, 206), f"{method} {key} on a kept-alive connection: status {response.status}")
    check(body == expected, f"{method} {key} on a kept-alive connection: {len(body)} bytes, or different bytes")
    check(not response.will_close, f"{method} {key}: the server closed a kept-alive connection")
connection.close()

step("pipelined requests on one connection are answered in order, those answered from memory too")


def raw_connection():
    raw = socket.create_connection((URL.hostname, URL.port), timeout=60)
    if URL.scheme == "https":
        raw = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"]).wrap_socket(
            raw, server_hostname=URL.hostname)
    return raw


def raw_request(method, key, headers=None):
    path, all_headers = signed(method, key, headers)
    return (f"{method} {path} HTTP/1.1\r\nHost: {URL.netloc}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in all_headers.items()) + "\r\n").encode()


def read_response(stream, method):
    """Status, lower-cased headers and body of the next response on a buffered socket stream."""
    status_line = stream.readline()
    check(status_line.startswith(b"HTTP/1.1 "), f"expected a status line, got {status_line[:100]!r}")
    headers = {}
    while True:
        line = stream.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if method == "HEAD" else int(headers.get("content-length", "0"))
    body = stream.read(length)
    return int(status_line.split()[1]), headers, body


memory_a, memory_b = os.urandom(4096), os.urandom(2500)
S3.put_object(Bucket=BUCKET, Key="memory-a", Body=memory_a)
S3.put_object(Bucket=BUCKET, Key="memory-b", Body=memory_b)
for _ in range(2):
    check(S3.get_object(Bucket=BUCKET, Key="memory-a")["Body"].read() == memory_a, "memory-a read back")
# Past the server's 0.2 s journal flush, so small blobs are read from where they live (memory only with a blob cache).
time.sleep(0.5)
# A slow large read first, then reads of a cached small object around reads the server must look up: a response
# from memory must never overtake one still being sent.
sequence = [("GET", "single", {}, single), ("GET", "memory-a", {}, memory_a), ("HEAD", "memory-a", {}, b""),
            ("GET", "memory-b", {}, memory_b), ("GET", "memory-a", {"Range": "bytes=10-19"}, memory_a[10:20]),
            ("GET", "multi", {"Range": "bytes=0-99999"}, multi[:100000]), ("GET", "memory-a", {}, memory_a)]
sequence += [("GET", "memory-a", {}, memory_a), ("GET", "memory-b", {}, memory_b)] * 20


def check_pipelined(sequence):
    """Sends `sequence` in one write on one connection and checks every response, in order."""
    raw = raw_connection()
    raw.sendall(b"".join(raw_request(method, key, headers) for method, key, headers, _ in sequence))
    stream = raw.makefile("rb")
    request_ids = set()
    for index, (method, key, headers, expected) in enumerate(sequence):
        status, response_headers, body = read_response(stream, method)
        check(status in (200, 206), f"pipelined #{index} {method} {key}: status {status}")
        check(body == expected, f"pipelined #{index} {method} {key}: {len(body)} bytes, expected {len(expected)} "
                                "exact bytes (a response out of order?)")
        if method == "HEAD":
            check(response_headers.get("content-length") == str(len(memory_a)), f"HEAD {key}: Content-Length")
        check(response_headers.get("server") == "Cairn", f"pipelined #{index}: Server header")
        request_ids.add(response_headers.get("x-amz-request-id"))
    check(len(request_ids) == len(sequence), "every response has its own request id")
    stream.close()
    raw.close()


check_pipelined(sequence)
# Small reads first: without a blob memory cache each GET is answered only once its blob is read, and a HEAD
# (answered at once) or a large read behind it must still wait its turn.
check_pipelined([("GET", "memory-a", {}, memory_a), ("HEAD", "memory-a", {}, b""),
                 ("GET", "memory-b", {"Range": "bytes=5-14"}, memory_b[5:15]), ("HEAD", "memory-a", {}, b""),
                 ("GET", "multi", {"Range": "bytes=0-99999"}, multi[:100000]), ("GET", "memory-a", {}, memory_a)] * 10)

# Connection: close on a read answered from memory still closes the connection after the response.
raw = raw_connection()
raw.sendall(raw_request("GET", "memory-a", {"Connection": "close"}))
stream = raw.makefile("rb")
status, _, body = read_response(stream, "GET")
check(status == 200 and body == memory_a, "GET with Connection: close")
check(stream.read(1) == b"", "the server kept a connection open after Connection: close")
raw.close()

step("clients that hang up part-way leave no blob file open")
wait_for_no_open_blob_files("before the hang-ups")
for index in range(12):
    path, headers = signed("GET", ["single", "multi", "tail"][index % 3])
    raw = socket.create_connection((URL.hostname, URL.port))
    if URL.scheme == "https":
        raw = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"]).wrap_socket(
            raw, server_hostname=URL.hostname)
    request = f"GET {path} HTTP/1.1\r\nHost: {URL.netloc}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    raw.sendall(request.encode())
    received = 0
    while received < (64 * 1024 if index % 2 else 1):
        chunk = raw.recv(65536)
        if not chunk:
            break
        received += len(chunk)
    # An abortive close (RST), as a killed client leaves it, half the time; an orderly one otherwise.
    if index % 2:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    raw.close()
wait_for_no_open_blob_files("after 12 clients hung up mid-body")
body = S3.get_object(Bucket=BUCKET, Key="multi")["Body"].read()
check(body == multi, "after the hang-ups, a whole GET returns the object")

step("a blob file cut short on disk ends its response short, never with other bytes")
damaged = os.urandom(4 * MiB)
S3.put_object(Bucket=BUCKET, Key="damaged", Body=damaged)
path = blob_path(damaged)
wait_for_file(path)
os.truncate(path, 3 * MiB)
connection = connect()
request_path, headers = signed("GET", "damaged")
connection.request("GET", request_path, headers=headers)
response = connection.getresponse()
received = b""
try:
    while True:
        chunk = response.read(65536)
        if not chunk:
            break
        received += chunk
except http.client.IncompleteRead as error:
    received += error.partial
except (ConnectionError, ssl.SSLError):
    pass
except TimeoutError:
    fail(f"a damaged blob left the client waiting for bytes that never came ({len(received)} received)")
connection.close()
check(len(received) < len(damaged), f"a damaged blob gave {len(received)} bytes of {len(damaged)}: not short")
check(damaged.startswith(received), "the bytes sent before the damage was found are the object's first bytes")
wait_for_no_open_blob_files("after the damaged download")
body = S3.get_object(Bucket=BUCKET, Key="single")["Body"].read()
check(body == single, "after the damaged download, the server still serves other objects")

print("downloads: all checks passed", flush=True)
