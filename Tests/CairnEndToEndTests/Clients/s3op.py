#!/usr/bin/env python3
"""One S3 operation through boto3, for tests that drive a server step by step.

usage: s3op.py mb BUCKET | put BUCKET KEY FILE | get BUCKET KEY FILE | head BUCKET KEY | keys BUCKET
       | presign-put BUCKET KEY
Prints the result (or S3's error code) on stdout; exits 0 on success, 3 on an S3 error response.
"""
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

s3 = boto3.client("s3", endpoint_url=os.environ["CAIRN_ENDPOINT"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))
op, *args = sys.argv[1:]
try:
    if op == "mb":
        s3.create_bucket(Bucket=args[0])
    elif op == "put":
        with open(args[2], "rb") as body:
            print(s3.put_object(Bucket=args[0], Key=args[1], Body=body)["ETag"])
    elif op == "get":
        s3.download_file(args[0], args[1], args[2])
    elif op == "head":
        print(s3.head_object(Bucket=args[0], Key=args[1])["ContentLength"])
    elif op == "keys":
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args[0]):
            for item in page.get("Contents", []):
                print(item["Key"])
    elif op == "presign-put":
        print(s3.generate_presigned_url("put_object", Params={"Bucket": args[0], "Key": args[1]}, ExpiresIn=600))
    else:
        sys.exit(f"unknown operation {op}")
except ClientError as error:
    print(error.response["Error"]["Code"])
    sys.exit(3)
