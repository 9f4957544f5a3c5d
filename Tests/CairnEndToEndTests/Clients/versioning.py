#!/usr/bin/env python3
"""End-to-end test: versioning through boto3 and `aws s3api` at their defaults.

Version ids on PUT, reads and copies of older versions, delete markers, the null version while suspended,
ListObjectVersions through boto3's paginator and the AWS CLI, DeleteObjects by version id, and noncurrent-version
lifecycle rules read back.

Environment: see client_defaults.py.

Exits 0 on success; on the first failure prints "FAIL: ..." and exits 1.
"""

import json
import os
import subprocess

import boto3
from botocore.exceptions import ClientError

from client_defaults import ENDPOINT, PREFIX, check

BUCKET = f"{PREFIX}-v"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the AWS CLI, unlike boto3 with an endpoint, needs a region


def s3api(*args):
    """Runs `aws s3api` against Cairn; returns its parsed JSON output (None when it printed nothing)."""
    done = subprocess.run(["aws", "s3api", *args, "--endpoint-url", ENDPOINT], capture_output=True, text=True)
    check(done.returncode == 0, f"aws s3api {args[0]} succeeds {done.stderr.strip()}".strip())
    return json.loads(done.stdout) if done.stdout.strip() else None


def status_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["ResponseMetadata"]["HTTPHeaders"]
    return 200, {}


s3 = boto3.client("s3", endpoint_url=ENDPOINT)
s3.create_bucket(Bucket=BUCKET)

print("==> versioning is enabled and reported")
check(s3.get_bucket_versioning(Bucket=BUCKET).get("Status") is None, "a new bucket has no versioning status")
s3api("put-bucket-versioning", "--bucket", BUCKET, "--versioning-configuration", "Status=Enabled")
check(s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled", "aws s3api enabled it; boto3 reads Enabled")

print("==> every PUT is a version; older ones are read and copied by id")
first = s3.put_object(Bucket=BUCKET, Key="artifact.tar", Body=b"release 1")["VersionId"]
second = s3.put_object(Bucket=BUCKET, Key="artifact.tar", Body=b"release 2")["VersionId"]
check(first != second and "null" not in (first, second), f"two distinct version ids ({first}, {second})")
check(s3.get_object(Bucket=BUCKET, Key="artifact.tar")["Body"].read() == b"release 2", "GET reads the latest")
old = s3.get_object(Bucket=BUCKET, Key="artifact.tar", VersionId=first)
check(old["Body"].read() == b"release 1" and old["VersionId"] == first, "GET with VersionId reads the older one")
check(s3.head_object(Bucket=BUCKET, Key="artifact.tar", VersionId=first)["ContentLength"] == 9, "HEAD by version")
copied = s3.copy_object(Bucket=BUCKET, Key="restored.tar",
                        CopySource={"Bucket": BUCKET, "Key": "artifact.tar", "VersionId": first})
check(copied["CopySourceVersionId"] == first, "CopyObject names the source version it copied")
check(s3.get_object(Bucket=BUCKET, Key="restored.tar")["Body"].read() == b"release 1", "the copy has its bytes")
cli = s3api("get-object", "--bucket", BUCKET, "--key", "artifact.tar", "--version-id", first,
            os.path.join(os.environ["CAIRN_WORK"], "old.tar"))
check(cli["VersionId"] == first, "aws s3api get-object --version-id")
with open(os.path.join(os.environ["CAIRN_WORK"], "old.tar"), "rb") as file:
    check(file.read() == b"release 1", "and wrote the older bytes")

print("==> delete markers")
marker = s3.delete_object(Bucket=BUCKET, Key="artifact.tar")
check(marker["DeleteMarker"] and marker["VersionId"], "DELETE without VersionId adds a delete marker")
status, headers = status_of(s3.head_object, Bucket=BUCKET, Key="artifact.tar")
check(status == 404 and headers.get("x-amz-delete-marker") == "true", f"the key is gone, a delete marker says ({status})")
check("Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="artifact"), "ListObjectsV2 no longer lists it")
s3.delete_object(Bucket=BUCKET, Key="artifact.tar", VersionId=marker["VersionId"])
check(s3.get_object(Bucket=BUCKET, Key="artifact.tar")["Body"].read() == b"release 2", "removing the marker undeletes")

print("==> ListObjectVersions pages, with boto3's paginator and the AWS CLI")
for number in range(5):
    s3.put_object(Bucket=BUCKET, Key=f"logs/{number % 2}", Body=str(number).encode())
pages = s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix="logs/", PaginationConfig={"PageSize": 2})
listed = [(v["Key"], v["VersionId"], v["IsLatest"]) for page in pages for v in page.get("Versions", [])]
check([key for key, _, _ in listed] == ["logs/0"] * 3 + ["logs/1"] * 2, f"five versions in key order: {listed}")
check([latest for _, _, latest in listed] == [True, False, False, True, False], "each key's newest first")
check(len({version for _, version, _ in listed}) == 5, "each listed once")
cli = s3api("list-object-versions", "--bucket", BUCKET, "--prefix", "artifact")
check([v["VersionId"] for v in cli["Versions"]] == [second, first], "aws s3api list-object-versions")
check([m["VersionId"] for m in cli.get("DeleteMarkers", [])] == [], "the removed marker is not listed")
grouped = s3.list_object_versions(Bucket=BUCKET, Delimiter="/")
check([p["Prefix"] for p in grouped.get("CommonPrefixes", [])] == ["logs/"], "Delimiter groups common prefixes")

print("==> DeleteObjects by VersionId")
result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
    {"Key": "artifact.tar", "VersionId": first}, {"Key": "restored.tar"}]})
deleted = {(d["Key"], d.get("VersionId"), d.get("DeleteMarker", False)) for d in result["Deleted"]}
check(("artifact.tar", first, False) in deleted, f"a version is deleted for good: {deleted}")
check(any(key == "restored.tar" and is_marker for key, _, is_marker in deleted), "a key gets a delete marker")
status, _ = status_of(s3.get_object, Bucket=BUCKET, Key="artifact.tar", VersionId=first)
check(status == 404, f"the deleted version is gone ({status})")

print("==> multipart completion makes a version")
upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
etag = s3.upload_part(Bucket=BUCKET, Key="big", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
done = s3.complete_multipart_upload(Bucket=BUCKET, Key="big", UploadId=upload,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
check(done.get("VersionId"), "CompleteMultipartUpload returns a version id")

print("==> suspended: the null version")
s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
check(s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended", "Suspended is reported")
check(s3.put_object(Bucket=BUCKET, Key="artifact.tar", Body=b"n1").get("VersionId") == "null", "PUT makes null")
s3.put_object(Bucket=BUCKET, Key="artifact.tar", Body=b"n2")
versions = [v["VersionId"] for v in s3.list_object_versions(Bucket=BUCKET, Prefix="artifact")["Versions"]]
check(versions == ["null", second], f"the second null PUT replaced the first; enabled-era versions stay: {versions}")

print("==> noncurrent-version lifecycle rules")
s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
    {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3}},
    {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": ""},
     "Expiration": {"ExpiredObjectDeleteMarker": True}}]})
rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
check(rules["old-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3},
      "NoncurrentVersionExpiration is read back")
check(rules["markers"]["Expiration"] == {"ExpiredObjectDeleteMarker": True}, "ExpiredObjectDeleteMarker is read back")

print("==> clean up")
for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
    for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
s3.delete_bucket(Bucket=BUCKET)
print("PASS")
