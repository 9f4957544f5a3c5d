#!/usr/bin/env python3
"""Bad input against a running Cairn: each request must fail with S3's error code and store nothing.

Raw HTTP (http.client) signed with botocore, so the tests control exactly what goes on the wire: bodies cut
short, wrong digests, malformed XML and aws-chunked bodies, a wrong signature, Expect: 100-continue.
Environment: CAIRN_ENDPOINT (http), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, CAIRN_DATA_DIR, CAIRN_BUCKET_PREFIX,
CAIRN_VIRTUAL_HOST_DOMAIN (optional: the domain the server was started with).
"""
import base64
import hashlib
import http.client
import os
import socket
import sqlite3
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials



class RawS3Auth(SigV4Auth):
    """SigV4 as S3 applies it (no path normalisation), signing the X-Amz-Content-SHA256 the test chose."""

    def _normalize_url_path(self, path):
        return path


ENDPOINT = os.environ["CAIRN_ENDPOINT"]
URL = urllib.parse.urlparse(ENDPOINT)
DATA_DIR = os.environ["CAIRN_DATA_DIR"]
BUCKET = os.environ.get("CAIRN_BUCKET_PREFIX", "robust") + "-bucket"
CREDS = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
S3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))


def step(text):
    print(f"--- {text}", flush=True)


def fail(text):
    print(f"FAIL: {text}", flush=True)
    sys.exit(1)


def signed_headers(method, path, headers, payload_hash="UNSIGNED-PAYLOAD", query="", creds=CREDS, host=None):
    url = f"{ENDPOINT}{urllib.parse.quote(path, safe='/~')}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    request.headers["X-Amz-Content-SHA256"] = payload_hash
    request.headers["Host"] = host or URL.netloc
    RawS3Auth(creds, "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def send(method, path, body=b"", headers=None, payload_hash=None, query="", creds=CREDS, host=None):
    headers = dict(headers or {})
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    headers.setdefault("Content-Length", str(len(body)))
    all_headers = signed_headers(method, path, headers, payload_hash, query, creds, host)
    all_headers.pop("Host", None) if host is None else None
    connection = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
    target = urllib.parse.quote(path, safe="/~") + (f"?{query}" if query else "")
    connection.request(method, target, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def error_code(data):
    try:
        return ET.fromstring(data).findtext("Code")
    except ET.ParseError:
        return None


def expect_error(result, status, code, what):
    got_status, headers, data = result
    if got_status != status or error_code(data) != code:
        fail(f"{what}: expected {status} {code}, got {got_status} {error_code(data)}: {data[:300]!r}")
    if "x-amz-request-id" not in {k.lower() for k in headers}:
        fail(f"{what}: the error response has no x-amz-request-id")


def expect_absent(key, what):
    try:
        S3.head_object(Bucket=BUCKET, Key=key)
    except S3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return
        raise
    fail(f"{what}: the key {key!r} exists but should not")


def tmp_files():
    return os.listdir(os.path.join(DATA_DIR, "tmp"))


def expect_no_temp_files(what):
    deadline = time.time() + 10
    while time.time() < deadline:
        if not tmp_files():
            return
        time.sleep(0.1)
    fail(f"{what}: temp files remain: {tmp_files()}")


step("create bucket; bad bucket names are refused")
S3.create_bucket(Bucket=BUCKET)
for name in ["Bad_Bucket", "ab", "-leading", "192.168.1.1", "a..b"]:
    expect_error(send("PUT", f"/{name}"), 400, "InvalidBucketName", f"create bucket {name!r}")

step("a body cut short by a disconnect stores nothing and leaves no temp file")
path = f"/{BUCKET}/cut-short"
headers = signed_headers("PUT", path, {"Content-Length": str(8 << 20)})
sock = socket.create_connection((URL.hostname, URL.port))
request = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
sock.sendall(request.encode())
sock.sendall(os.urandom(1 << 20))
time.sleep(0.5)
if not tmp_files():
    fail("the partial upload should be streaming into tmp/ before the disconnect")
sock.close()
time.sleep(0.5)
expect_absent("cut-short", "disconnect mid-upload")
expect_no_temp_files("disconnect mid-upload")

step("a wrong x-amz-content-sha256 is XAmzContentSHA256Mismatch")
expect_error(send("PUT", f"/{BUCKET}/sha-mismatch", b"actual body", payload_hash=hashlib.sha256(b"other").hexdigest()),
             400, "XAmzContentSHA256Mismatch", "wrong payload hash")
expect_absent("sha-mismatch", "wrong payload hash")

step("a wrong Content-MD5 is BadDigest")
expect_error(send("PUT", f"/{BUCKET}/md5-mismatch", b"actual body",
                  headers={"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()}),
             400, "BadDigest", "wrong Content-MD5")
expect_absent("md5-mismatch", "wrong Content-MD5")

step("a wrong x-amz-checksum-crc32 is BadDigest")
expect_error(send("PUT", f"/{BUCKET}/crc-mismatch", b"actual body", headers={"x-amz-checksum-crc32": "AAAAAA=="}),
             400, "BadDigest", "wrong CRC32")
expect_absent("crc-mismatch", "wrong CRC32")

step("a truncated aws-chunked body is IncompleteBody")
body = b"5\r\nhello\r\n"
expect_error(send("PUT", f"/{BUCKET}/chunked-cut", body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                  headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "10",
                           "x-amz-trailer": "x-amz-checksum-crc32"}),
             400, "IncompleteBody", "truncated aws-chunked body")
expect_absent("chunked-cut", "truncated aws-chunked body")

step("an aws-chunked body with a wrong trailing checksum is BadDigest")
body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
expect_error(send("PUT", f"/{BUCKET}/chunked-bad-crc", body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                  headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "5",
                           "x-amz-trailer": "x-amz-checksum-crc32"}),
             400, "BadDigest", "wrong trailer checksum")
expect_absent("chunked-bad-crc", "wrong trailer checksum")

step("a good aws-chunked body with a trailing checksum is stored and its checksum kept")
import zlib
crc = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()
body = f"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
status, headers, data = send("PUT", f"/{BUCKET}/chunked-good", body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                             headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "5",
                                      "x-amz-trailer": "x-amz-checksum-crc32"})
if status != 200:
    fail(f"good aws-chunked PUT: {status} {data[:300]!r}")
got = S3.get_object(Bucket=BUCKET, Key="chunked-good", ChecksumMode="ENABLED")
if got["Body"].read() != b"hello" or got.get("ChecksumCRC32") != crc:
    fail(f"good aws-chunked PUT read back wrong: {got.get('ChecksumCRC32')}")
if got.get("ContentEncoding"):
    fail(f"aws-chunked leaked into the stored Content-Encoding: {got.get('ContentEncoding')}")

step("malformed XML is MalformedXML")
expect_error(send("POST", f"/{BUCKET}", b"<Delete><Object><Key>x</Key></Obj", query="delete="),
             400, "MalformedXML", "DeleteObjects with broken XML")
upload = S3.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
expect_error(send("POST", f"/{BUCKET}/mp", b"not xml at all", query=f"uploadId={upload}"),
             400, "MalformedXML", "CompleteMultipartUpload with broken XML")
S3.abort_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload)

step("a wrong signature is SignatureDoesNotMatch; an unknown key is InvalidAccessKeyId")
expect_error(send("GET", f"/{BUCKET}", creds=Credentials(CREDS.access_key, "wrong-secret")), 403,
             "SignatureDoesNotMatch", "wrong secret")
expect_error(send("GET", f"/{BUCKET}", creds=Credentials("NOSUCHKEY", CREDS.secret_key)), 403,
             "InvalidAccessKeyId", "unknown key")
connection = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
connection.request("GET", f"/{BUCKET}")
response = connection.getresponse()
data = response.read()
if response.status != 403 or error_code(data) != "AccessDenied":
    fail(f"anonymous request: expected 403 AccessDenied, got {response.status} {data[:200]!r}")

step("a key like ../../etc/passwd is a name, never a path")
status, _, data = send("PUT", f"/{BUCKET}/../../etc/passwd", b"not a password file")
if status != 200:
    fail(f"PUT ../../etc/passwd: {status} {data[:300]!r}")
if S3.get_object(Bucket=BUCKET, Key="../../etc/passwd")["Body"].read() != b"not a password file":
    fail("../../etc/passwd did not round-trip")
for root, _, files in os.walk(DATA_DIR):
    for name in files:
        if name == "passwd":
            fail(f"a file named passwd appeared in the data directory: {root}")

step("Expect: 100-continue gets an interim 100 before the body is sent")
body = b"x" * 100_000
path = f"/{BUCKET}/expect-continue"
headers = signed_headers("PUT", path, {"Content-Length": str(len(body)), "Expect": "100-continue"},
                         hashlib.sha256(body).hexdigest())
sock = socket.create_connection((URL.hostname, URL.port), timeout=10)
sock.sendall((f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
interim = sock.recv(1024)
if not interim.startswith(b"HTTP/1.1 100"):
    fail(f"expected 100 Continue before the body, got {interim[:100]!r}")
sock.sendall(body)
final = sock.recv(4096)
sock.close()
if b" 200 " not in final.split(b"\r\n")[0] + b" ":
    fail(f"PUT after 100-continue: {final[:1500]!r}")

step("Expect: 100-continue without credentials is refused before the body, and the connection closes")
sock = socket.create_connection((URL.hostname, URL.port), timeout=10)
sock.sendall((f"PUT /{BUCKET}/anonymous HTTP/1.1\r\nHost: {URL.netloc}\r\nContent-Length: {len(body)}\r\n"
              "Expect: 100-continue\r\n\r\n").encode())
answer = b""
while chunk := sock.recv(4096):  # the server closes the connection after its answer
    answer += chunk
sock.close()
if not answer.startswith(b"HTTP/1.1 403") or b"<Code>AccessDenied</Code>" not in answer:
    fail(f"expected 403 AccessDenied instead of 100 Continue, got {answer[:300]!r}")
try:
    S3.head_object(Bucket=BUCKET, Key="anonymous")
    fail("the refused upload was stored")
except S3.exceptions.ClientError as error:
    if error.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
        raise

step("a presigned PUT works with a plain HTTP client")
url = S3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "presigned-put"}, ExpiresIn=300)
parsed = urllib.parse.urlparse(url)
connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
connection.request("PUT", f"{parsed.path}?{parsed.query}", body=b"via presigned url")
response = connection.getresponse()
response.read()
if response.status != 200:
    fail(f"presigned PUT: {response.status}")
if S3.get_object(Bucket=BUCKET, Key="presigned-put")["Body"].read() != b"via presigned url":
    fail("presigned PUT content differs")

step("CopyObject and UploadPartCopy name the same blobs: no bytes are copied")


def stored_blobs():
    # Blob files, plus small blobs, which live in metadata.sqlite (table small_blobs) and have no file.
    files = sum(len(names) for _, _, names in os.walk(os.path.join(DATA_DIR, "blobs")))
    database = sqlite3.connect(os.path.join(DATA_DIR, "metadata.sqlite"))
    try:
        rows = database.execute("SELECT count(*) FROM small_blobs").fetchone()[0]
    finally:
        database.close()
    return files + rows


source = os.urandom(6 << 20)
S3.put_object(Bucket=BUCKET, Key="copy-source", Body=source)
before = stored_blobs()
S3.copy_object(Bucket=BUCKET, Key="copy-target", CopySource={"Bucket": BUCKET, "Key": "copy-source"})
if S3.get_object(Bucket=BUCKET, Key="copy-target")["Body"].read() != source:
    fail("CopyObject content differs")
upload = S3.create_multipart_upload(Bucket=BUCKET, Key="assembled")["UploadId"]
whole = S3.upload_part_copy(Bucket=BUCKET, Key="assembled", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": BUCKET, "Key": "copy-source"})
ranged = S3.upload_part_copy(Bucket=BUCKET, Key="assembled", UploadId=upload, PartNumber=2,
                             CopySource={"Bucket": BUCKET, "Key": "copy-source"}, CopySourceRange="bytes=100-199")
S3.complete_multipart_upload(Bucket=BUCKET, Key="assembled", UploadId=upload, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": whole["CopyPartResult"]["ETag"]},
    {"PartNumber": 2, "ETag": ranged["CopyPartResult"]["ETag"]}]})
assembled = S3.get_object(Bucket=BUCKET, Key="assembled")
if assembled["Body"].read() != source + source[100:200] or not assembled["ETag"].endswith('-2"'):
    fail("UploadPartCopy assembled the wrong bytes")
if stored_blobs() != before + 1:
    fail(f"copies should add only the 100-byte ranged part as a new blob: {before} -> {stored_blobs()}")

step("conditional GETs by date: If-Modified-Since and If-Unmodified-Since")
head = S3.head_object(Bucket=BUCKET, Key="copy-source")
modified = head["LastModified"]
try:
    S3.get_object(Bucket=BUCKET, Key="copy-source", IfModifiedSince=modified)
    fail("If-Modified-Since at Last-Modified should be 304")
except S3.exceptions.ClientError as error:
    if error.response["ResponseMetadata"]["HTTPStatusCode"] != 304:
        raise
try:
    S3.get_object(Bucket=BUCKET, Key="copy-source", IfUnmodifiedSince=modified.replace(year=2000))
    fail("If-Unmodified-Since before Last-Modified should be 412")
except S3.exceptions.ClientError as error:
    if error.response["ResponseMetadata"]["HTTPStatusCode"] != 412:
        raise
if S3.get_object(Bucket=BUCKET, Key="copy-source", IfUnmodifiedSince=modified)["ContentLength"] != len(source):
    fail("If-Unmodified-Since at Last-Modified should return the object")

domain = os.environ.get("CAIRN_VIRTUAL_HOST_DOMAIN")
if domain:
    step(f"virtual-host-style addressing through {BUCKET}.{domain}")
    host = f"{BUCKET}.{domain}:{URL.port}"
    status, _, data = send("PUT", "/vhost-key", b"virtual host", host=host)
    if status != 200:
        fail(f"virtual-host PUT: {status} {data[:300]!r}")
    if S3.get_object(Bucket=BUCKET, Key="vhost-key")["Body"].read() != b"virtual host":
        fail("virtual-host PUT did not land in the bucket")

step("nothing was left in tmp/")
expect_no_temp_files("end of run")

step("cleanup")
keys = [o["Key"] for o in S3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
if keys:
    S3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
S3.delete_bucket(Bucket=BUCKET)
print("robustness: all checks passed")
