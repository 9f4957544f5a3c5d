#!/usr/bin/env bash
# A lifecycle configuration set and read back with the AWS CLI, and a retention dry run over the admin route.
# Environment: CAIRN_ENDPOINT, AWS_*, CAIRN_WORK, CAIRN_BUCKET_PREFIX, CAIRN_EXECUTABLE (the cairn binary).
set -euo pipefail
s3api() { aws --endpoint-url "$CAIRN_ENDPOINT" s3api "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
bucket="${CAIRN_BUCKET_PREFIX}-lifecycle"

echo "--- create a bucket with objects under two prefixes"
s3api create-bucket --bucket "$bucket" > /dev/null
echo "temporary" > "$CAIRN_WORK/tmp.txt"
echo "release" > "$CAIRN_WORK/rel.txt"
s3api put-object --bucket "$bucket" --key tmp/a.txt --body "$CAIRN_WORK/tmp.txt" > /dev/null
s3api put-object --bucket "$bucket" --key releases/v1.txt --body "$CAIRN_WORK/rel.txt" > /dev/null
s3api put-object --bucket "$bucket" --key nightly/n1.txt --body "$CAIRN_WORK/tmp.txt" > /dev/null
echo "candidate" > "$CAIRN_WORK/rc.txt"
s3api put-object --bucket "$bucket" --key releases/v2-rc.txt --body "$CAIRN_WORK/rc.txt" --tagging "stage=rc" \
  > /dev/null

echo "--- no configuration yet: NoSuchLifecycleConfiguration"
if out=$(s3api get-bucket-lifecycle-configuration --bucket "$bucket" 2>&1); then fail "expected an error, got $out"; fi
grep -q NoSuchLifecycleConfiguration <<<"$out" || fail "expected NoSuchLifecycleConfiguration: $out"

echo "--- put-bucket-lifecycle-configuration"
# Expiration by Date: midnight GMT two days from now, so today's run keeps nightly/ and a run three days on does not.
nightly_end="$(date -u -d '+2 days' +%Y-%m-%dT00:00:00Z)"
cat > "$CAIRN_WORK/lifecycle.json" <<JSON
{"Rules": [
  {"ID": "end-nightlies", "Status": "Enabled", "Filter": {"Prefix": "nightly/"}, "Expiration": {"Date": "$nightly_end"}},
  {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
  {"ID": "expire-rc", "Status": "Enabled",
   "Filter": {"And": {"Prefix": "releases/", "Tags": [{"Key": "stage", "Value": "rc"}]}}, "Expiration": {"Days": 1}},
  {"ID": "abort-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
   "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}
]}
JSON
s3api put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration "file://$CAIRN_WORK/lifecycle.json"
got=$(s3api get-bucket-lifecycle-configuration --bucket "$bucket")
python3 - "$got" <<'PY' || fail "the configuration read back differs: $got"
import json, sys
rules = {r["ID"]: r for r in json.loads(sys.argv[1])["Rules"]}
assert rules["expire-tmp"]["Expiration"]["Days"] == 1, rules
assert rules["expire-tmp"]["Filter"]["Prefix"] == "tmp/", rules
assert rules["abort-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 2, rules
assert "T00:00:00" in rules["end-nightlies"]["Expiration"]["Date"], rules
assert rules["expire-rc"]["Filter"]["And"] == {"Prefix": "releases/", "Tags": [{"Key": "stage", "Value": "rc"}]}, rules
assert all(r["Status"] == "Enabled" for r in rules.values()), rules
PY

echo "--- a retention run on the server today changes nothing (the objects are new)"
report=$("$CAIRN_EXECUTABLE" gc --server "$CAIRN_ENDPOINT" --json)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert sum(r["expired"].values()) == 0, r' "$report" \
  || fail "nothing should expire yet: $report"
s3api head-object --bucket "$bucket" --key tmp/a.txt > /dev/null || fail "tmp/a.txt vanished too early"
s3api head-object --bucket "$bucket" --key nightly/n1.txt > /dev/null || fail "nightly/n1.txt vanished too early"
echo "lifecycle: configuration set and read back; nothing expired early"
