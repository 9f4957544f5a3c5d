#!/usr/bin/env python3
"""End-to-end test: Signature Version 2 as boto3 and the AWS CLI produce it at their defaults.

boto3's generate_presigned_url and `aws s3 presign`, with no signature_version configured, emit SigV2 query URLs
(AWSAccessKeyId, Signature, Expires); the script checks that they still do, downloads and uploads through them with
curl, and drives header-signed SigV2 (botocore's "s3" signer) through objects, listings and multipart uploads.

Environment: see client_defaults.py.

Exits 0 on success; on the first failure prints "FAIL: ..." and exits 1.
"""

import os
import secrets
import subprocess
import time
import urllib.parse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from client_defaults import ENDPOINT, PREFIX, WORK, check, fail

BUCKET = f"{PREFIX}-v2"


def curl(*args):
    """Runs curl; returns (HTTP status, body bytes)."""
    out = os.path.join(WORK, "curl.out")
    result = subprocess.run(
        ["curl", "-sS", "-g", "-o", out, "-w", "%{http_code}", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        fail(f"curl {args} failed: {result.stderr}")
    with open(out, "rb") as handle:
        return int(result.stdout), handle.read()


def is_sigv2(url):
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return {"AWSAccessKeyId", "Signature", "Expires"} <= set(query) and "X-Amz-Signature" not in query


default = boto3.client("s3", endpoint_url=ENDPOINT)
v2 = boto3.client("s3", endpoint_url=ENDPOINT, config=Config(signature_version="s3", retries={"max_attempts": 1}))

print("==> header-signed SigV2: buckets, objects, listings")
v2.create_bucket(Bucket=BUCKET)
key = "dir/a b+ü~(1).txt"
body = secrets.token_bytes(70_000)
v2.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="text/plain", Metadata={"owner": "ci"})
got = v2.get_object(Bucket=BUCKET, Key=key)
check(got["Body"].read() == body, "GET returns the PUT bytes")
check(got["Metadata"] == {"owner": "ci"}, "user metadata (x-amz-meta-*, signed) survives")
check(v2.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(body), "HEAD gives the size")
listed = v2.list_objects(Bucket=BUCKET, Prefix="dir/")
check([item["Key"] for item in listed["Contents"]] == [key], "ListObjects finds the key")
check(any(b["Name"] == BUCKET for b in v2.list_buckets()["Buckets"]), "ListBuckets finds the bucket")

print("==> header-signed SigV2: multipart upload (uploads, partNumber and uploadId are signed sub-resources)")
upload = v2.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
parts = [secrets.token_bytes(5 * 1024 * 1024), b"tail"]
etags = [
    v2.upload_part(Bucket=BUCKET, Key="multi", UploadId=upload, PartNumber=n + 1, Body=p)["ETag"]
    for n, p in enumerate(parts)
]
check(len(v2.list_parts(Bucket=BUCKET, Key="multi", UploadId=upload)["Parts"]) == 2, "ListParts lists both")
v2.complete_multipart_upload(
    Bucket=BUCKET, Key="multi", UploadId=upload,
    MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n + 1} for n, e in enumerate(etags)]},
)
check(v2.get_object(Bucket=BUCKET, Key="multi")["Body"].read() == b"".join(parts), "the completed object reads back")

print("==> boto3 generate_presigned_url at its defaults")
url = default.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key})
check(is_sigv2(url), f"boto3's default presigned URL is SigV2: {url}")
status, data = curl(url)
check(status == 200 and data == body, "curl downloads the object through it")
status, data = curl("-I", url)  # HEAD with a GET signature: refused, the method is signed
check(status == 403, f"the URL does not sign another method (got {status})")

put_url = default.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "uploaded"})
check(is_sigv2(put_url), "boto3's default presigned PUT URL is SigV2")
upload_file = os.path.join(WORK, "upload.bin")
uploaded = secrets.token_bytes(100_000)
with open(upload_file, "wb") as handle:
    handle.write(uploaded)
status, _ = curl("-T", upload_file, put_url)
check(status == 200, f"curl uploads through the presigned PUT (got {status})")
check(v2.get_object(Bucket=BUCKET, Key="uploaded")["Body"].read() == uploaded, "the uploaded bytes read back")

tampered = url.replace("Signature=", "Signature=A")
status, data = curl(tampered)
check(status == 403 and b"SignatureDoesNotMatch" in data, "a changed signature gets 403 SignatureDoesNotMatch")
other_key = url.replace(urllib.parse.quote(key), "dir/other")
status, data = curl(other_key)
check(status == 403 and b"SignatureDoesNotMatch" in data, "the URL does not open another key")

short = default.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=1)
time.sleep(2.5)
status, data = curl(short)
check(status == 403 and b"Request has expired" in data, f"an expired URL gets 403 Request has expired ({status})")

print("==> aws s3 presign at its defaults")
result = subprocess.run(
    ["aws", "s3", "presign", f"s3://{BUCKET}/{key}", "--endpoint-url", ENDPOINT],
    capture_output=True, text=True, check=False,
)
check(result.returncode == 0, f"aws s3 presign succeeds: {result.stderr}")
cli_url = result.stdout.strip()
check(is_sigv2(cli_url), f"aws s3 presign's default URL is SigV2: {cli_url}")
status, data = curl(cli_url)
check(status == 200 and data == body, "curl downloads the object through it")

print("==> clean up")
for name in (key, "multi", "uploaded"):
    v2.delete_object(Bucket=BUCKET, Key=name)
v2.delete_bucket(Bucket=BUCKET)
try:
    v2.head_bucket(Bucket=BUCKET)
    fail("the bucket still exists")
except ClientError as error:
    check(error.response["Error"]["Code"] in ("404", "NoSuchBucket"), "the bucket is gone")
print("PASS")
