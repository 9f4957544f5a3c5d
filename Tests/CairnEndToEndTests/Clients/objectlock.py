#!/usr/bin/env python3
"""End-to-end test: object lock through boto3 and `aws s3api` at their defaults, and what `cairn gc` leaves.

LOCK_PHASE=setup: a bucket created with object lock (LOCK_BUCKET), its default retention, versions under
COMPLIANCE and GOVERNANCE retention and a legal hold, refused deletes, the GOVERNANCE bypass, and a lifecycle rule
that expires noncurrent versions after a day.
LOCK_PHASE=verify (after `cairn gc` three days later): the versions still locked are there; the one whose
COMPLIANCE date passed is gone.

Environment: see client_defaults.py, plus LOCK_BUCKET and LOCK_PHASE.

Exits 0 on success; on the first failure prints "FAIL: ..." and exits 1.
"""

import datetime
import json
import os
import subprocess

import boto3
from botocore.exceptions import ClientError

from client_defaults import ENDPOINT, check

BUCKET = os.environ["LOCK_BUCKET"]
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the AWS CLI, unlike boto3 with an endpoint, needs a region
s3 = boto3.client("s3", endpoint_url=ENDPOINT)


def s3api(*args, ok=True):
    """Runs `aws s3api` against Cairn; returns (exit status, parsed JSON output or None, stderr)."""
    done = subprocess.run(["aws", "s3api", *args, "--endpoint-url", ENDPOINT], capture_output=True, text=True)
    if ok:
        check(done.returncode == 0, f"aws s3api {args[0]} succeeds {done.stderr.strip()}".strip())
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None), done.stderr


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def days(count):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=count)


def versions(key):
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", [])
    return [v["VersionId"] for v in listed if v["Key"] == key]


if os.environ["LOCK_PHASE"] == "setup":
    print("==> a bucket created with object lock")
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    check(s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled", "object lock turns versioning on")
    check(s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled",
          "GetObjectLockConfiguration says Enabled")
    code = error_code(s3.put_bucket_versioning, Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    check(code == "InvalidBucketState", f"versioning cannot be suspended ({code})")
    s3api("put-object-lock-configuration", "--bucket", BUCKET, "--object-lock-configuration",
          '{"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}')
    rule = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    check(rule == {"Mode": "GOVERNANCE", "Days": 1}, f"aws s3api set a default retention; boto3 reads it: {rule}")

    print("==> versions under COMPLIANCE, GOVERNANCE and a legal hold")
    keep = s3.put_object(Bucket=BUCKET, Key="keep.tar", Body=b"kept ten days", ObjectLockMode="COMPLIANCE",
                         ObjectLockRetainUntilDate=days(10))["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="short.tar", Body=b"kept two days", ObjectLockMode="COMPLIANCE",
                          ObjectLockRetainUntilDate=days(2))["VersionId"]
    held = s3.put_object(Bucket=BUCKET, Key="held.tar", Body=b"held", ObjectLockLegalHoldStatus="ON")["VersionId"]
    default = s3.head_object(Bucket=BUCKET, Key="held.tar")
    check(default["ObjectLockMode"] == "GOVERNANCE" and default["ObjectLockLegalHoldStatus"] == "ON",
          "the default retention and the legal hold are reported by HEAD")
    for key in ("keep.tar", "short.tar", "held.tar"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"newer")  # the locked versions become noncurrent

    print("==> a locked version cannot be deleted")
    code = error_code(s3.delete_object, Bucket=BUCKET, Key="keep.tar", VersionId=keep, BypassGovernanceRetention=True)
    check(code == "AccessDenied", f"COMPLIANCE refuses even with the bypass ({code})")
    status, _, stderr = s3api("delete-object", "--bucket", BUCKET, "--key", "held.tar", "--version-id", held,
                              "--bypass-governance-retention", ok=False)
    check(status != 0 and "AccessDenied" in stderr, "a legal hold refuses aws s3api delete-object")
    retention = s3.get_object_retention(Bucket=BUCKET, Key="keep.tar", VersionId=keep)["Retention"]
    check(retention["Mode"] == "COMPLIANCE", f"GetObjectRetention: {retention}")
    code = error_code(s3.put_object_retention, Bucket=BUCKET, Key="keep.tar", VersionId=keep,
                      Retention={"Mode": "COMPLIANCE", "RetainUntilDate": days(1)}, BypassGovernanceRetention=True)
    check(code == "AccessDenied", f"a COMPLIANCE retention cannot be shortened ({code})")
    s3.put_object_retention(Bucket=BUCKET, Key="keep.tar", VersionId=keep,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": days(11)})
    check(s3.get_object_legal_hold(Bucket=BUCKET, Key="held.tar", VersionId=held)["LegalHold"]["Status"] == "ON",
          "GetObjectLegalHold says ON")

    print("==> GOVERNANCE yields to the bypass")
    governed = s3.put_object(Bucket=BUCKET, Key="gov.tar", Body=b"g", ObjectLockMode="GOVERNANCE",
                             ObjectLockRetainUntilDate=days(5))["VersionId"]
    code = error_code(s3.delete_object, Bucket=BUCKET, Key="gov.tar", VersionId=governed)
    check(code == "AccessDenied", f"GOVERNANCE refuses a delete without the bypass ({code})")
    s3api("delete-object", "--bucket", BUCKET, "--key", "gov.tar", "--version-id", governed,
          "--bypass-governance-retention")
    check(versions("gov.tar") == [], "aws s3api delete-object --bypass-governance-retention deletes it")

    print("==> a rule that expires noncurrent versions after a day")
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
else:
    print("==> after cairn gc three days later")
    for key in ("keep.tar", "short.tar", "held.tar"):
        check(len(versions(key)) >= 1, f"{key}'s current version is kept")
    kept = versions("keep.tar")
    check(len(kept) == 2, f"the version under COMPLIANCE for ten days is kept: {kept}")
    check(len(versions("held.tar")) == 2, "the version under a legal hold is kept")
    check(len(versions("short.tar")) == 1, "the version whose COMPLIANCE date passed is expired")
    old = s3.get_object(Bucket=BUCKET, Key="keep.tar", VersionId=kept[1])["Body"].read()
    check(old == b"kept ten days", "the locked version's bytes are all there")
print("PASS")
