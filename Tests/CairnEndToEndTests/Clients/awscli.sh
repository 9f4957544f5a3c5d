#!/usr/bin/env bash
# End-to-end test: AWS CLI (v1) against a Cairn S3 endpoint.
#
# Environment (provided by the harness):
#   CAIRN_ENDPOINT        http(s)://127.0.0.1:PORT
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION
#   AWS_CA_BUNDLE         (only for https) CA bundle for the self-signed cert
#   CAIRN_WORK            empty scratch directory
#   CAIRN_BUCKET_PREFIX   every bucket created here starts with this
#   CAIRN_BIG_FILE_MIB    (optional) size of the `s3 cp` multipart file, 20 by default
#
# Exits 0 on success; on the first failure prints "FAIL: ..." and exits non-zero.
set -Eeuo pipefail

# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
: "${CAIRN_ENDPOINT:?CAIRN_ENDPOINT must be set}"
: "${CAIRN_WORK:?CAIRN_WORK must be set}"
: "${CAIRN_BUCKET_PREFIX:?CAIRN_BUCKET_PREFIX must be set}"
: "${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID must be set}"
: "${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY must be set}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export PYTHONIOENCODING=utf-8
export AWS_PAGER=""

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
# Any unexpected command failure (set -e) names the command and the script line.
on_err() {
    local status=$1 cmd=$2 where="line $3" i
    for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do   # called from inside helper functions
        [[ "${FUNCNAME[i]}" == main ]] || where+=" in ${FUNCNAME[i]}, called from line ${BASH_LINENO[i]}"
    done
    printf '\nFAIL: command exited with status %s (%s): %s\n' "$status" "$where" "$cmd" >&2
}
trap 'on_err $? "$BASH_COMMAND" $LINENO' ERR

# Path-style addressing, SigV4 everywhere and no retries, via a private CLI config file.
# (Without s3.signature_version = s3v4, AWS CLI v1 `s3 presign` emits legacy SigV2
#  query-string URLs: ?AWSAccessKeyId=...&Signature=...&Expires=...)
export AWS_CONFIG_FILE="$CAIRN_WORK/aws-config"
cat > "$AWS_CONFIG_FILE" <<EOF
[default]
region = $AWS_DEFAULT_REGION
max_attempts = 1
s3 =
    addressing_style = path
    signature_version = s3v4
EOF
export AWS_SHARED_CREDENTIALS_FILE="$CAIRN_WORK/aws-credentials-unused"

awsc() { aws --endpoint-url "$CAIRN_ENDPOINT" "$@"; }

# JSON field extraction: json_get '<jq filter>' < json
command -v jq >/dev/null 2>&1 || fail "jq is required by this script (apt-get install jq)"
json_get() { jq -r "$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

assert_eq() { # expected actual message
    if [[ "$1" != "$2" ]]; then
        fail "$3: expected [$1], got [$2]"
    fi
    info "ok: $3 = [$2]"
}

assert_same_file() { # a b message
    cmp -s "$1" "$2" || fail "$3: $1 and $2 differ (sha256 $(sha "$1") vs $(sha "$2"))"
    info "ok: $3 (sha256 $(sha "$1"))"
}

# expect_failure <pattern> <description> -- command...
# Runs the command, requires a non-zero exit and stderr matching the ERE pattern.
expect_failure() {
    local pattern="$1" what="$2"; shift 3
    local errf="$CAIRN_WORK/expect-failure.err" rc=0
    "$@" > /dev/null 2> "$errf" || rc=$?
    if [[ $rc -eq 0 ]]; then
        fail "$what: command unexpectedly succeeded: $*"
    fi
    if ! grep -Eq "$pattern" "$errf"; then
        fail "$what: expected error matching /$pattern/, got (rc=$rc): $(cat "$errf")"
    fi
    info "ok: $what failed as expected (rc=$rc): $(grep -Eo "$pattern" "$errf" | head -1)"
}

# make_file <path> <size_bytes>: random content of exactly that size.
make_file() { # path size_bytes
    mkdir -p "$(dirname "$1")"
    head -c "$2" /dev/urandom > "$1"
}

# ----------------------------------------------------------------------------
# buckets and cleanup
# ----------------------------------------------------------------------------
RUN_ID="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
BASE="${CAIRN_BUCKET_PREFIX%-}"
B_HIGH="${BASE}-cli-hl-${RUN_ID}"     # high-level `aws s3` commands
B_API="${BASE}-cli-api-${RUN_ID}"     # low-level `aws s3api` commands
B_MISSING="${BASE}-cli-missing-${RUN_ID}"
CREATED_BUCKETS=()

cleanup() {
    local rc=$?
    set +e
    trap - ERR
    for b in "${CREATED_BUCKETS[@]}"; do
        if awsc s3api head-bucket --bucket "$b" >/dev/null 2>&1; then
            echo "cleanup: removing bucket $b"
            # abort any leftover multipart uploads, then delete everything
            awsc s3api list-multipart-uploads --bucket "$b" --output json 2>/dev/null \
                | jq -r '.Uploads[]? | [.Key, .UploadId] | @tsv' 2>/dev/null \
                | while IFS=$'\t' read -r k u; do
                    awsc s3api abort-multipart-upload --bucket "$b" --key "$k" --upload-id "$u" >/dev/null 2>&1
                done
            awsc s3 rb "s3://$b" --force >/dev/null 2>&1 || echo "cleanup: could not remove $b" >&2
        fi
    done
    if [[ $rc -eq 0 ]]; then
        printf '\nPASS: awscli.sh\n'
    else
        printf '\nawscli.sh FAILED (exit %s)\n' "$rc" >&2
    fi
    exit $rc
}
trap cleanup EXIT

W="$CAIRN_WORK/awscli"
mkdir -p "$W"
cd "$W"

info "endpoint=$CAIRN_ENDPOINT region=$AWS_DEFAULT_REGION ca_bundle=${AWS_CA_BUNDLE:-<none>}"
info "$(aws --version 2>&1)"

# ============================================================================
# Part 1: high-level `aws s3` commands
# ============================================================================
step "s3 mb s3://$B_HIGH"
CREATED_BUCKETS+=("$B_HIGH")
awsc s3 mb "s3://$B_HIGH"

step "s3 cp small file up and down"
printf 'hello from the aws cli e2e test\n' > small.txt
awsc s3 cp --no-progress small.txt "s3://$B_HIGH/small.txt"
awsc s3 cp --no-progress "s3://$B_HIGH/small.txt" small.down.txt
assert_same_file small.txt small.down.txt "small file round trip"

BIG_MIB="${CAIRN_BIG_FILE_MIB:-20}"   # the harness may ask for a bigger multipart upload
step "s3 cp $BIG_MIB MiB file (multipart upload above the 8 MiB threshold) up and down"
make_file big.bin $((BIG_MIB * 1024 * 1024))
awsc s3 cp --no-progress big.bin "s3://$B_HIGH/big/big.bin"
awsc s3 cp --no-progress "s3://$B_HIGH/big/big.bin" big.down.bin
assert_same_file big.bin big.down.bin "$BIG_MIB MiB file round trip"
big_etag="$(awsc s3api head-object --bucket "$B_HIGH" --key big/big.bin --output json | json_get .ETag)"
info "big.bin ETag: $big_etag"
[[ "$big_etag" =~ -[0-9]+\"?$ ]] || fail "$BIG_MIB MiB object ETag [$big_etag] is not a multipart ETag (expected \"...-N\")"
big_len="$(awsc s3api head-object --bucket "$B_HIGH" --key big/big.bin --output json | json_get .ContentLength)"
assert_eq "$((BIG_MIB * 1024 * 1024))" "$big_len" "$BIG_MIB MiB object ContentLength"

step "s3 sync a tree of ~50 files (nested dirs, spaces, unicode) up"
TREE="$W/tree"
mkdir -p "$TREE"
n=0
for d in "" "a" "a/b" "a/b/c" "dir with space" "dir with space/inner dir" "ünïcödé" "ünïcödé/日本語" "x+y"; do
    for f in "file-1.txt" "file 2.txt" "Ωmega.dat" "数据-3.bin" "plus+sign.txt"; do
        n=$((n + 1))
        make_file "$TREE/${d:+$d/}$f" $(( (n * 1777) % 9000 + 1 ))
    done
done
# a few extra special files
make_file "$TREE/empty-dir-sibling/zero.bin" 0
make_file "$TREE/.hidden" 10
make_file "$TREE/a/b/c/deep.bin" 70000
make_file "$TREE/percent%20name.txt" 33
make_file "$TREE/tilde~file.txt" 5
# Backdate the files: `s3 sync` re-uploads when the local mtime is newer than the
# object's LastModified (whole seconds), which would make the no-op check below flaky.
find "$TREE" -exec touch -d '2020-01-02 03:04:05' {} +
local_count="$(find "$TREE" -type f | wc -l)"
info "local tree has $local_count files"
awsc s3 sync --no-progress "$TREE" "s3://$B_HIGH/tree"

step "s3 ls and s3 ls --recursive"
awsc s3 ls "s3://$B_HIGH/" | tee ls.out
grep -q 'PRE tree/' ls.out || fail "s3 ls did not show PRE tree/"
grep -q 'small.txt' ls.out || fail "s3 ls did not show small.txt"
awsc s3 ls "s3://$B_HIGH/tree/" > ls-tree.out
grep -q 'PRE dir with space/' ls-tree.out || fail "s3 ls tree/ did not show 'PRE dir with space/'"
grep -q 'PRE ünïcödé/' ls-tree.out || fail "s3 ls tree/ did not show 'PRE ünïcödé/'"
awsc s3 ls --recursive "s3://$B_HIGH/tree/" > lsr.out
remote_count="$(wc -l < lsr.out)"
assert_eq "$local_count" "$remote_count" "number of objects listed by s3 ls --recursive"
grep -q 'tree/ünïcödé/日本語/数据-3.bin' lsr.out || fail "recursive listing lacks tree/ünïcödé/日本語/数据-3.bin"
grep -q 'tree/x+y/plus+sign.txt' lsr.out || fail "recursive listing lacks tree/x+y/plus+sign.txt"
grep -q 'tree/percent%20name.txt' lsr.out || fail "recursive listing lacks tree/percent%20name.txt"

step "s3 sync the tree back down into a new dir and diff -r"
awsc s3 sync --no-progress "s3://$B_HIGH/tree" "$W/tree.down"
diff -r "$TREE" "$W/tree.down" || fail "downloaded tree differs from the original"
info "ok: diff -r clean"

step "s3 sync again is a no-op"
awsc s3 sync --no-progress "$TREE" "s3://$B_HIGH/tree" > sync2.out
if [[ -s sync2.out ]]; then
    cat sync2.out
    fail "second sync uploaded files although nothing changed"
fi
info "ok: nothing to sync"

step "s3 presign + curl"
url="$(awsc s3 presign "s3://$B_HIGH/small.txt" --expires-in 300)"
info "presigned URL: ${url:0:120}..."
[[ "$url" == *X-Amz-Algorithm=AWS4-HMAC-SHA256* ]] || fail "presigned URL is not SigV4: $url"
curl_args=(-fsS -o presigned.down)
[[ -n "${AWS_CA_BUNDLE:-}" ]] && curl_args+=(--cacert "$AWS_CA_BUNDLE")
curl "${curl_args[@]}" "$url" || fail "curl of the presigned URL failed"
assert_same_file small.txt presigned.down "content fetched via presigned URL"

step "s3 rm --recursive"
awsc s3 rm --recursive "s3://$B_HIGH/"
left="$(awsc s3api list-objects-v2 --bucket "$B_HIGH" --output json | json_get '.KeyCount // (.Contents | length)')"
assert_eq 0 "$left" "objects left after s3 rm --recursive"

step "s3 rb"
awsc s3 rb "s3://$B_HIGH"
expect_failure '404|Not Found|NoSuchBucket' "head-bucket after rb" -- awsc s3api head-bucket --bucket "$B_HIGH"

# ============================================================================
# Part 2: low-level `aws s3api` commands
# ============================================================================
step "s3api create-bucket $B_API"
CREATED_BUCKETS+=("$B_API")
awsc s3api create-bucket --bucket "$B_API" --output json

step "s3api get-bucket-location"
loc="$(awsc s3api get-bucket-location --bucket "$B_API" --output json | json_get '.LocationConstraint')"
info "LocationConstraint=[$loc]"
case "$loc" in
    null|""|us-east-1) info "ok: us-east-1 location (AWS returns null for us-east-1)";;
    *) fail "get-bucket-location returned [$loc], expected null (us-east-1)";;
esac

step "s3api put-object with metadata and standard headers, then head-object"
printf 'object with metadata\n' > meta.txt
awsc s3api put-object --bucket "$B_API" --key meta/obj.txt --body meta.txt \
    --metadata 'owner=alice,purpose=e2e-test' \
    --content-type 'text/x-cairn; charset=utf-8' \
    --cache-control 'max-age=3600, must-revalidate' \
    --content-disposition 'attachment; filename="report.txt"' \
    --content-encoding 'gzip' \
    --output json | tee put-meta.json
put_etag="$(json_get .ETag < put-meta.json)"
awsc s3api head-object --bucket "$B_API" --key meta/obj.txt --output json | tee head-meta.json
assert_eq "alice" "$(json_get .Metadata.owner < head-meta.json)" "x-amz-meta-owner"
assert_eq "e2e-test" "$(json_get .Metadata.purpose < head-meta.json)" "x-amz-meta-purpose"
assert_eq "text/x-cairn; charset=utf-8" "$(json_get .ContentType < head-meta.json)" "Content-Type"
assert_eq "max-age=3600, must-revalidate" "$(json_get .CacheControl < head-meta.json)" "Cache-Control"
assert_eq 'attachment; filename="report.txt"' "$(json_get .ContentDisposition < head-meta.json)" "Content-Disposition"
# Over https botocore sends "Content-Encoding: gzip,aws-chunked"; S3 must store only "gzip".
assert_eq "gzip" "$(json_get .ContentEncoding < head-meta.json)" "Content-Encoding"
assert_eq "$(wc -c < meta.txt | tr -d ' ')" "$(json_get .ContentLength < head-meta.json)" "Content-Length"
assert_eq "$put_etag" "$(json_get .ETag < head-meta.json)" "ETag (put vs head)"
assert_eq "\"$(md5sum meta.txt | cut -d' ' -f1)\"" "$put_etag" "ETag is the quoted MD5 of the body"

step "s3api get-object --range bytes=0-9"
printf '0123456789abcdefghijklmnopqrstuvwxyz' > range.txt
awsc s3api put-object --bucket "$B_API" --key range.txt --body range.txt > /dev/null
awsc s3api get-object --bucket "$B_API" --key range.txt --range bytes=0-9 range.down --output json | tee range.json
assert_eq "0123456789" "$(cat range.down)" "ranged body"
assert_eq "bytes 0-9/36" "$(json_get .ContentRange < range.json)" "Content-Range"
assert_eq "10" "$(json_get .ContentLength < range.json)" "Content-Length of range"

step "s3api copy-object"
awsc s3api copy-object --bucket "$B_API" --key copies/obj-copy.txt \
    --copy-source "$B_API/meta/obj.txt" --output json | tee copy.json
copy_etag="$(json_get .CopyObjectResult.ETag < copy.json)"
assert_eq "$put_etag" "$copy_etag" "ETag of the copy (CopyObjectResult)"
awsc s3api get-object --bucket "$B_API" --key copies/obj-copy.txt copy.down --output json > copy-get.json
assert_same_file meta.txt copy.down "copy content"
assert_eq "$put_etag" "$(json_get .ETag < copy-get.json)" "ETag of the copy (get-object)"
# default MetadataDirective is COPY: metadata travels with the object
assert_eq "alice" "$(json_get .Metadata.owner < copy-get.json)" "copied x-amz-meta-owner"

step "s3api list-objects-v2 with --prefix/--delimiter"
for k in list/a.txt list/b.txt list/c.txt list/d.txt list/e.txt list/sub1/x.txt list/sub1/y.txt list/sub2/z.txt; do
    printf '%s' "$k" > body.tmp
    awsc s3api put-object --bucket "$B_API" --key "$k" --body body.tmp > /dev/null
done
awsc s3api list-objects-v2 --bucket "$B_API" --prefix list/ --delimiter / --output json | tee lov2.json
assert_eq "list/a.txt list/b.txt list/c.txt list/d.txt list/e.txt" \
    "$(json_get '[.Contents[].Key] | join(" ")' < lov2.json)" "Contents keys (prefix list/, delimiter /)"
assert_eq "list/sub1/ list/sub2/" \
    "$(json_get '[.CommonPrefixes[].Prefix] | join(" ")' < lov2.json)" "CommonPrefixes"

step "s3api list-objects-v2 --max-keys 2 paging with continuation tokens"
keys=()
token=""
pages=0
while :; do
    args=(--bucket "$B_API" --prefix list/ --max-keys 2 --no-paginate --output json)
    [[ -n "$token" ]] && args+=(--continuation-token "$token")
    awsc s3api list-objects-v2 "${args[@]}" > page.json
    pages=$((pages + 1))
    cnt="$(json_get '.Contents | length' < page.json)"
    [[ "$cnt" -le 2 ]] || fail "page $pages returned $cnt keys with --max-keys 2"
    while read -r k; do keys+=("$k"); done < <(json_get '.Contents[].Key' < page.json)
    truncated="$(json_get .IsTruncated < page.json)"
    info "page $pages: $cnt keys, IsTruncated=$truncated"
    [[ "$truncated" == "true" ]] || break
    token="$(json_get .NextContinuationToken < page.json)"
    [[ -n "$token" && "$token" != null ]] || fail "IsTruncated=true but no NextContinuationToken"
    [[ $pages -lt 20 ]] || fail "too many pages"
done
assert_eq 4 "$pages" "number of pages for 8 keys at 2 per page"
assert_eq "list/a.txt list/b.txt list/c.txt list/d.txt list/e.txt list/sub1/x.txt list/sub1/y.txt list/sub2/z.txt" \
    "${keys[*]}" "keys collected over all pages"

step "s3api list-objects-v2 paging via the CLI's --max-items/--starting-token"
awsc s3api list-objects-v2 --bucket "$B_API" --prefix list/ --page-size 2 --max-items 3 --output json > p1.json
assert_eq "list/a.txt list/b.txt list/c.txt" "$(json_get '[.Contents[].Key] | join(" ")' < p1.json)" "first 3 items"
next="$(json_get .NextToken < p1.json)"
[[ -n "$next" && "$next" != null ]] || fail "no NextToken from --max-items 3"
awsc s3api list-objects-v2 --bucket "$B_API" --prefix list/ --page-size 2 --starting-token "$next" --output json > p2.json
assert_eq "list/d.txt list/e.txt list/sub1/x.txt list/sub1/y.txt list/sub2/z.txt" \
    "$(json_get '[.Contents[].Key] | join(" ")' < p2.json)" "remaining items after --starting-token"

step "s3api list-objects (v1)"
awsc s3api list-objects --bucket "$B_API" --prefix list/ --delimiter / --output json > lov1.json
assert_eq "list/a.txt list/b.txt list/c.txt list/d.txt list/e.txt" \
    "$(json_get '[.Contents[].Key] | join(" ")' < lov1.json)" "v1 Contents keys"
assert_eq "list/sub1/ list/sub2/" "$(json_get '[.CommonPrefixes[].Prefix] | join(" ")' < lov1.json)" "v1 CommonPrefixes"
awsc s3api list-objects --bucket "$B_API" --prefix list/ --max-keys 3 --no-paginate --output json > lov1p.json
assert_eq "true" "$(json_get .IsTruncated < lov1p.json)" "v1 IsTruncated with --max-keys 3"
assert_eq "list/a.txt list/b.txt list/c.txt" "$(json_get '[.Contents[].Key] | join(" ")' < lov1p.json)" "v1 first page"
awsc s3api list-objects --bucket "$B_API" --prefix list/ --max-keys 3 --marker list/c.txt --no-paginate --output json > lov1p2.json
assert_eq "list/d.txt list/e.txt list/sub1/x.txt" "$(json_get '[.Contents[].Key] | join(" ")' < lov1p2.json)" "v1 page after --marker list/c.txt"

step "s3api delete-objects"
awsc s3api delete-objects --bucket "$B_API" --output json --delete \
    '{"Objects":[{"Key":"list/a.txt"},{"Key":"list/b.txt"},{"Key":"list/sub1/x.txt"},{"Key":"list/does-not-exist"}],"Quiet":false}' \
    | tee delobj.json
assert_eq "list/a.txt list/b.txt list/does-not-exist list/sub1/x.txt" \
    "$(json_get '[.Deleted[].Key] | sort | join(" ")' < delobj.json)" "Deleted keys (a missing key counts as deleted)"
assert_eq 0 "$(json_get '.Errors // [] | length' < delobj.json)" "delete-objects Errors"
awsc s3api list-objects-v2 --bucket "$B_API" --prefix list/ --output json > after-del.json
assert_eq "list/c.txt list/d.txt list/e.txt list/sub1/y.txt list/sub2/z.txt" \
    "$(json_get '[.Contents[].Key] | join(" ")' < after-del.json)" "keys remaining after delete-objects"

step "s3api manual multipart upload (5 MiB + 1 MiB parts)"
make_file part1.bin $((5 * 1024 * 1024))
make_file part2.bin $((1024 * 1024 + 123))
cat part1.bin part2.bin > mpu.bin
MPU_KEY="mpu/assembled.bin"
upload_id="$(awsc s3api create-multipart-upload --bucket "$B_API" --key "$MPU_KEY" \
    --content-type application/x-test --output json | json_get .UploadId)"
[[ -n "$upload_id" && "$upload_id" != null ]] || fail "create-multipart-upload returned no UploadId"
info "UploadId=$upload_id"
e1="$(awsc s3api upload-part --bucket "$B_API" --key "$MPU_KEY" --upload-id "$upload_id" \
    --part-number 1 --body part1.bin --output json | json_get .ETag)"
e2="$(awsc s3api upload-part --bucket "$B_API" --key "$MPU_KEY" --upload-id "$upload_id" \
    --part-number 2 --body part2.bin --output json | json_get .ETag)"
info "part ETags: $e1 $e2"
assert_eq "\"$(md5sum part1.bin | cut -d' ' -f1)\"" "$e1" "part 1 ETag is its MD5"

awsc s3api list-parts --bucket "$B_API" --key "$MPU_KEY" --upload-id "$upload_id" --output json > parts.json
assert_eq "1 2" "$(json_get '[.Parts[].PartNumber | tostring] | join(" ")' < parts.json)" "list-parts part numbers"
assert_eq "$((5 * 1024 * 1024)) $((1024 * 1024 + 123))" \
    "$(json_get '[.Parts[].Size | tostring] | join(" ")' < parts.json)" "list-parts sizes"
assert_eq "$e1 $e2" "$(json_get '[.Parts[].ETag] | join(" ")' < parts.json)" "list-parts ETags"

awsc s3api list-multipart-uploads --bucket "$B_API" --output json > uploads.json
found="$(jq -r --arg id "$upload_id" '[.Uploads[]? | select(.UploadId == $id) | .Key] | join(" ")' < uploads.json)"
assert_eq "$MPU_KEY" "$found" "list-multipart-uploads contains our upload"

jq -n --arg e1 "$e1" --arg e2 "$e2" \
    '{Parts: [{ETag: $e1, PartNumber: 1}, {ETag: $e2, PartNumber: 2}]}' > complete.json
awsc s3api complete-multipart-upload --bucket "$B_API" --key "$MPU_KEY" --upload-id "$upload_id" \
    --multipart-upload "file://$W/complete.json" --output json | tee complete-out.json
mpu_etag="$(json_get .ETag < complete-out.json)"
[[ "$mpu_etag" =~ -2\"?$ ]] || fail "multipart ETag [$mpu_etag] does not end with -2"
# S3 multipart ETag = md5(concatenation of the binary MD5 of each part) + "-<part count>"
expected_mpu_etag="$(python3 -c '
import hashlib, sys
digests = b"".join(hashlib.md5(open(p, "rb").read()).digest() for p in sys.argv[1:])
print("\"%s-%d\"" % (hashlib.md5(digests).hexdigest(), len(sys.argv) - 1))
' part1.bin part2.bin)"
assert_eq "$expected_mpu_etag" "$mpu_etag" "multipart ETag value"
awsc s3api get-object --bucket "$B_API" --key "$MPU_KEY" mpu.down --output json > mpu-get.json
assert_same_file mpu.bin mpu.down "assembled multipart object"
assert_eq "application/x-test" "$(json_get .ContentType < mpu-get.json)" "multipart object Content-Type"
assert_eq "$mpu_etag" "$(json_get .ETag < mpu-get.json)" "multipart ETag on get-object"
awsc s3api list-multipart-uploads --bucket "$B_API" --output json > uploads2.json
assert_eq "" "$(jq -r --arg id "$upload_id" '[.Uploads[]? | select(.UploadId == $id)] | map(.Key) | join(" ")' < uploads2.json)" \
    "completed upload no longer listed"

step "s3api abort-multipart-upload"
upload2="$(awsc s3api create-multipart-upload --bucket "$B_API" --key mpu/aborted.bin --output json | json_get .UploadId)"
awsc s3api upload-part --bucket "$B_API" --key mpu/aborted.bin --upload-id "$upload2" \
    --part-number 1 --body part2.bin > /dev/null
awsc s3api abort-multipart-upload --bucket "$B_API" --key mpu/aborted.bin --upload-id "$upload2"
awsc s3api list-multipart-uploads --bucket "$B_API" --output json > uploads3.json
assert_eq "" "$(jq -r --arg id "$upload2" '[.Uploads[]? | select(.UploadId == $id)] | map(.Key) | join(" ")' < uploads3.json)" \
    "aborted upload no longer listed"
expect_failure 'NoSuchUpload' "list-parts on the aborted upload" -- \
    awsc s3api list-parts --bucket "$B_API" --key mpu/aborted.bin --upload-id "$upload2"
expect_failure '404|Not Found|NoSuchKey' "head-object on the aborted key" -- \
    awsc s3api head-object --bucket "$B_API" --key mpu/aborted.bin

step "s3api head-bucket on a missing bucket fails"
expect_failure '404|Not Found|NoSuchBucket' "head-bucket $B_MISSING" -- awsc s3api head-bucket --bucket "$B_MISSING"

step "s3api delete-bucket on a non-empty bucket fails with BucketNotEmpty"
expect_failure 'BucketNotEmpty' "delete-bucket $B_API (non-empty)" -- awsc s3api delete-bucket --bucket "$B_API"

step "s3api put-object with a wrong --content-md5 fails with BadDigest and stores nothing"
printf 'the real body\n' > md5.txt
wrong_md5="$(printf 'some other body' | openssl dgst -md5 -binary | base64)"
expect_failure 'BadDigest|InvalidDigest' "put-object with wrong Content-MD5" -- \
    awsc s3api put-object --bucket "$B_API" --key md5/bad.txt --body md5.txt --content-md5 "$wrong_md5"
expect_failure '404|Not Found|NoSuchKey' "head-object of the rejected key" -- \
    awsc s3api head-object --bucket "$B_API" --key md5/bad.txt
good_md5="$(openssl dgst -md5 -binary md5.txt | base64)"
awsc s3api put-object --bucket "$B_API" --key md5/good.txt --body md5.txt --content-md5 "$good_md5" > /dev/null
info "ok: put-object with the correct Content-MD5 succeeded"

step "cleanup: empty and delete $B_API"
awsc s3 rm --recursive "s3://$B_API/" > /dev/null
awsc s3api delete-bucket --bucket "$B_API"
expect_failure '404|Not Found|NoSuchBucket' "head-bucket after delete-bucket" -- awsc s3api head-bucket --bucket "$B_API"
