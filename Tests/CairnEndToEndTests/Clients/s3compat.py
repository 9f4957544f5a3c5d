#!/usr/bin/env python3
"""End-to-end test: S3 edge cases, tagging and CORS through boto3 and the AWS CLI at their defaults.

Each check is one that Cairn once answered differently from S3: ListObjects v1 pagination over common prefixes,
a retried CompleteMultipartUpload, part reads, conditional deletes, features it refuses (501), tagging,
GetObjectAttributes and CORS.

Environment: see client_defaults.py.

Exits 0 on success; on the first failure prints "FAIL: ..." and exits 1.
"""

import base64
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import urllib.parse

import boto3
from botocore.exceptions import ClientError

from client_defaults import ENDPOINT, PREFIX, check, fail

BASE = PREFIX
BUCKET = f"{BASE}-a"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the AWS CLI, unlike boto3 with an endpoint, needs a region


def error_code(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


s3 = boto3.client("s3", endpoint_url=ENDPOINT)
s3.create_bucket(Bucket=BUCKET)

print("==> ListObjects v1 pages over common prefixes without repeating them")
for key in ["a/1", "a/2", "b/1", "b/2", "c", "d e/f"]:
    s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
names = []
for number, page in enumerate(s3.get_paginator("list_objects").paginate(Bucket=BUCKET, Delimiter="/", MaxKeys=1)):
    if number > 10:
        fail(f"the v1 paginator did not end: {names}")
    names += [p["Prefix"] for p in page.get("CommonPrefixes", [])] + [o["Key"] for o in page.get("Contents", [])]
check(names == ["a/", "b/", "c", "d e/"], f"v1 pages list each prefix once: {names}")
listed = s3.list_objects(Bucket=BUCKET, Prefix="d e/")  # botocore asks for encoding-type=url
check(listed["Prefix"] == "d e/" and listed["Contents"][0]["Key"] == "d e/f", "v1 Prefix comes back as asked")

print("==> multipart: retried Complete, parts read by number, copy ranges, whole-object checksum")
part_one, part_two = secrets.token_bytes(5 * 1024 * 1024), secrets.token_bytes(1000)
upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi", ChecksumAlgorithm="SHA256")["UploadId"]
parts = []
for number, body in ((1, part_one), (2, part_two)):
    answer = s3.upload_part(Bucket=BUCKET, Key="multi", UploadId=upload, PartNumber=number, Body=body,
                            ChecksumAlgorithm="SHA256")
    parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]})
wrong = base64.b64encode(hashlib.sha256(b"not it").digest()).decode()
code, _ = error_code(s3.complete_multipart_upload, Bucket=BUCKET, Key="multi", UploadId=upload,
                     MultipartUpload={"Parts": parts}, ChecksumSHA256=wrong)
check(code == "BadDigest", f"a wrong whole-object ChecksumSHA256 is refused ({code})")
first = s3.complete_multipart_upload(Bucket=BUCKET, Key="multi", UploadId=upload, MultipartUpload={"Parts": parts})
check(first.get("ChecksumType") == "COMPOSITE", f"Complete reports ChecksumType COMPOSITE ({first.get('ChecksumType')})")
again = s3.complete_multipart_upload(Bucket=BUCKET, Key="multi", UploadId=upload, MultipartUpload={"Parts": parts})
check(again["ETag"] == first["ETag"], "a retried Complete answers the same ETag")
second = s3.get_object(Bucket=BUCKET, Key="multi", PartNumber=2)
check(second["Body"].read() == part_two, "GetObject PartNumber=2 returns the second part")
check(second["PartsCount"] == 2 and second["ContentRange"].startswith(f"bytes {len(part_one)}-"),
      f"with PartsCount and Content-Range ({second['ContentRange']})")
head = s3.head_object(Bucket=BUCKET, Key="multi", PartNumber=1)
check(head["ContentLength"] == len(part_one), "HeadObject PartNumber=1 gives the first part's size")
code, status = error_code(s3.get_object, Bucket=BUCKET, Key="multi", PartNumber=3)
check(status == 416, f"a part the object does not have is 416 ({code})")
attributes = s3.get_object_attributes(Bucket=BUCKET, Key="multi", ObjectAttributes=["ETag", "ObjectParts", "ObjectSize"])
check(attributes["ObjectSize"] == len(part_one) + len(part_two), "GetObjectAttributes gives the size")
check(attributes["ObjectParts"]["TotalPartsCount"] == 2, "and the part count")

copy = s3.create_multipart_upload(Bucket=BUCKET, Key="copied")["UploadId"]
code, status = error_code(s3.upload_part_copy, Bucket=BUCKET, Key="copied", UploadId=copy, PartNumber=1,
                          CopySource={"Bucket": BUCKET, "Key": "c"}, CopySourceRange="bytes=0-10")
check((code, status) == ("InvalidRange", 400), f"a copy range past the source is 400 InvalidRange ({code})")
s3.abort_multipart_upload(Bucket=BUCKET, Key="copied", UploadId=copy)

print("==> conditional deletes")
etag = s3.put_object(Bucket=BUCKET, Key="cond", Body=b"x")["ETag"]
code, status = error_code(s3.delete_object, Bucket=BUCKET, Key="cond", IfMatch='"00000000000000000000000000000000"')
check(status == 412, f"DeleteObject with a wrong If-Match is 412 ({code})")
s3.delete_object(Bucket=BUCKET, Key="cond", IfMatch=etag)
code, status = error_code(s3.head_object, Bucket=BUCKET, Key="cond")
check(status == 404, "DeleteObject with the right If-Match deletes")
s3.put_object(Bucket=BUCKET, Key="batch", Body=b"y")
result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "batch", "ETag": '"ffff"'}]})
check([e["Code"] for e in result.get("Errors", [])] == ["PreconditionFailed"], "DeleteObjects checks each ETag")

print("==> what Cairn does not implement is refused, never mistaken for something else")
code, status = error_code(s3.put_bucket_website, Bucket=BUCKET,
                          WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
check((code, status) == ("NotImplemented", 501), f"PutBucketWebsite is 501 ({code}, {status})")
code, status = error_code(s3.put_object, Bucket=BUCKET, Key="sse", Body=b"z", ServerSideEncryption="AES256")
check(status == 501, f"PutObject with SSE is refused ({code})")
code, status = error_code(s3.head_object, Bucket=BUCKET, Key="sse")
check(status == 404, "and nothing was stored")

print("==> ListBuckets pages")
s3.create_bucket(Bucket=f"{BASE}-b")
s3.create_bucket(Bucket=f"{BASE}-c")
pages = list(s3.get_paginator("list_buckets").paginate(Prefix=BASE, PaginationConfig={"PageSize": 2}))
check([len(p["Buckets"]) for p in pages] == [2, 1], "MaxBuckets=2 gives pages of 2 and 1")
check([b["Name"] for p in pages for b in p["Buckets"]] == [BUCKET, f"{BASE}-b", f"{BASE}-c"], "in name order")

print("==> Content-Encoding kept as sent")
s3.put_object(Bucket=BUCKET, Key="enc", Body=b"e", ContentEncoding="deflate, gzip")
check(s3.head_object(Bucket=BUCKET, Key="enc")["ContentEncoding"] == "deflate, gzip", "deflate, gzip")

print("==> object tagging")
s3.put_object(Bucket=BUCKET, Key="tagged", Body=b"t", Tagging="release=1.2&team=build tools")
tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"]}
check(tags == {"release": "1.2", "team": "build tools"}, f"PutObject's Tagging is stored: {tags}")
check(s3.get_object(Bucket=BUCKET, Key="tagged")["TagCount"] == 2, "GetObject reports TagCount")
s3.copy_object(Bucket=BUCKET, Key="tag-copy", CopySource={"Bucket": BUCKET, "Key": "tagged"},
               TaggingDirective="REPLACE", Tagging="stage=rc")
copied = s3.get_object_tagging(Bucket=BUCKET, Key="tag-copy")["TagSet"]
check(copied == [{"Key": "stage", "Value": "rc"}], "CopyObject with TaggingDirective REPLACE")
cli = subprocess.run(
    ["aws", "s3api", "put-object-tagging", "--endpoint-url", ENDPOINT, "--bucket", BUCKET, "--key", "tagged",
     "--tagging", json.dumps({"TagSet": [{"Key": "kept", "Value": "yes"}]})],
    capture_output=True, text=True, check=False)
check(cli.returncode == 0, f"aws s3api put-object-tagging: {cli.stderr}")
cli = subprocess.run(
    ["aws", "s3api", "get-object-tagging", "--endpoint-url", ENDPOINT, "--bucket", BUCKET, "--key", "tagged"],
    capture_output=True, text=True, check=False)
check(cli.returncode == 0 and json.loads(cli.stdout)["TagSet"] == [{"Key": "kept", "Value": "yes"}],
      f"aws s3api get-object-tagging reads it back: {cli.stdout}{cli.stderr}")
s3.delete_object_tagging(Bucket=BUCKET, Key="tagged")
check(s3.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"] == [], "DeleteObjectTagging empties the set")
code, status = error_code(s3.put_object, Bucket=BUCKET, Key="bad", Body=b"b",
                          Tagging="&".join(f"k{i}=v" for i in range(11)))
check(code == "InvalidTag", f"eleven tags are refused ({code})")

s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "cost-center", "Value": "ci"}]})
check(s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] == [{"Key": "cost-center", "Value": "ci"}], "bucket tagging")
s3.delete_bucket_tagging(Bucket=BUCKET)
code, _ = error_code(s3.get_bucket_tagging, Bucket=BUCKET)
check(code == "NoSuchTagSet", f"DeleteBucketTagging removes the set ({code})")

print("==> CORS: configuration, browser preflight, headers on a browser's GET")
s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
    "AllowedOrigins": ["https://ci.example.com"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300}]})
rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
check(rules[0]["AllowedMethods"] == ["GET", "PUT"] and rules[0]["MaxAgeSeconds"] == 300, "GetBucketCors reads it back")
url = urllib.parse.urlsplit(ENDPOINT)


def plain(method, path, headers):
    """A request as a browser sends it: no credentials."""
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


preflight = plain("OPTIONS", f"/{BUCKET}/enc", {"Origin": "https://ci.example.com",
                                                 "Access-Control-Request-Method": "PUT",
                                                 "Access-Control-Request-Headers": "content-type"})
check(preflight.status == 200 and preflight.getheader("Access-Control-Allow-Origin") == "https://ci.example.com",
      f"a preflight from an allowed origin is answered ({preflight.status})")
refused = plain("OPTIONS", f"/{BUCKET}/enc", {"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"})
check(refused.status == 403, f"a preflight from another origin is 403 ({refused.status})")
browser = boto3.client("s3", endpoint_url=ENDPOINT)
browser.meta.events.register("before-sign.s3.GetObject", lambda request, **_: request.headers.add_header(
    "Origin", "https://ci.example.com"))
got = browser.get_object(Bucket=BUCKET, Key="enc")["ResponseMetadata"]["HTTPHeaders"]
check(got.get("access-control-allow-origin") == "https://ci.example.com", "a GET with Origin gets the CORS headers")
s3.delete_bucket_cors(Bucket=BUCKET)
code, status = error_code(s3.get_bucket_cors, Bucket=BUCKET)
check(code == "NoSuchCORSConfiguration", f"DeleteBucketCors removes it ({code})")

print("==> clean up")
for name in (BUCKET, f"{BASE}-b", f"{BASE}-c"):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)
print("PASS")
