#!/usr/bin/env bash
# End-to-end test: rclone (s3 backend, provider "Other") against a Cairn S3 endpoint.
#
# Environment (provided by the harness):
#   CAIRN_ENDPOINT        http(s)://127.0.0.1:PORT
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION
#   AWS_CA_BUNDLE         (only for https) CA bundle for the self-signed cert
#   CAIRN_WORK            empty scratch directory
#   CAIRN_BUCKET_PREFIX   every bucket created here starts with this
#   CAIRN_RCLONE_V2_AUTH  "true" to sign with Signature Version 2 (rclone's v2_auth) instead of SigV4
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
REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export LC_ALL=C.UTF-8

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

command -v rclone >/dev/null 2>&1 || fail "rclone is not installed"

W="$CAIRN_WORK/rclone"
mkdir -p "$W"
CONF="$W/rclone.conf"
RUN_ID="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
BUCKET="${CAIRN_BUCKET_PREFIX%-}-rclone-${RUN_ID}"
REMOTE="cairn:$BUCKET"

# rclone config: option names as listed by `rclone help backend s3` (rclone 1.60).
cat > "$CONF" <<EOF
[cairn]
type = s3
provider = Other
env_auth = false
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $CAIRN_ENDPOINT
region = $REGION
force_path_style = true
v2_auth = ${CAIRN_RCLONE_V2_AUTH:-false}
EOF
chmod 600 "$CONF"

# Common flags: small multipart cutoff/chunk so the > 20 MiB file goes multipart,
# and no whole-operation retries so server errors are not papered over.
RCLONE_FLAGS=(--config "$CONF" --s3-upload-cutoff 5M --s3-chunk-size 5M
              --retries 1 --low-level-retries 1 --stats 0)
if [[ "$CAIRN_ENDPOINT" == https:* ]]; then
    if [[ -n "${AWS_CA_BUNDLE:-}" ]]; then
        RCLONE_FLAGS+=(--ca-cert "$AWS_CA_BUNDLE")
    else
        RCLONE_FLAGS+=(--no-check-certificate)
    fi
fi

# rclone's AWS SDK refuses to start when AWS_CA_BUNDLE is set together with its own
# HTTP transport, so it is removed from rclone's environment (TLS trust goes via --ca-cert).
rcl() {
    printf '    $ rclone %s\n' "$*" >&2
    env -u AWS_CA_BUNDLE rclone "${RCLONE_FLAGS[@]}" "$@"
}

make_file() { # path size_bytes
    mkdir -p "$(dirname "$1")"
    head -c "$2" /dev/urandom > "$1"
}

local_files() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }
local_dirs()  { (cd "$1" && find . -mindepth 1 -type d | sed 's|^\./||; s|$|/|' | LC_ALL=C sort); }

compare_listing() { # description expected_file actual_file
    if ! diff -u "$2" "$3"; then
        fail "$1: remote listing differs from local (see diff above)"
    fi
    info "ok: $1 ($(wc -l < "$3") entries)"
}

cleanup() {
    local rc_=$?
    set +e
    trap - ERR
    if env -u AWS_CA_BUNDLE rclone "${RCLONE_FLAGS[@]}" lsf "cairn:" 2>/dev/null | grep -Fxq "$BUCKET/"; then
        echo "cleanup: purging $REMOTE"
        env -u AWS_CA_BUNDLE rclone "${RCLONE_FLAGS[@]}" purge "$REMOTE" || echo "cleanup: purge failed" >&2
    fi
    if [[ $rc_ -eq 0 ]]; then
        printf '\nPASS: rclone.sh\n'
    else
        printf '\nrclone.sh FAILED (exit %s)\n' "$rc_" >&2
    fi
    exit $rc_
}
trap cleanup EXIT

info "endpoint=$CAIRN_ENDPOINT bucket=$BUCKET"
info "$(rclone version 2>/dev/null | head -1)"

# ----------------------------------------------------------------------------
# build a local tree
# ----------------------------------------------------------------------------
SRC="$W/src"
make_file "$SRC/top.txt" 100
make_file "$SRC/empty.txt" 0
make_file "$SRC/big/large.bin" $((21 * 1024 * 1024))       # > 20 MiB: multipart (5 MiB chunks)
make_file "$SRC/big/medium.bin" $((6 * 1024 * 1024 + 17))   # just above the 5M cutoff: 2 parts
make_file "$SRC/nested/a/b/c/deep.txt" 4096
make_file "$SRC/dir with space/file with space.txt" 1234
make_file "$SRC/ünïcödé/日本語.txt" 555
make_file "$SRC/ünïcödé/Ωmega (1).dat" 777
make_file "$SRC/plus+sign/a+b=c.txt" 42
make_file "$SRC/percent/100%.txt" 10
for i in $(seq 1 10); do
    make_file "$SRC/data/file-$i.bin" $((i * 1000))
done
info "local tree: $(local_files "$SRC" | wc -l) files, $(find "$SRC" -type f -printf '%s\n' | awk '{s+=$1} END {print s}') bytes"

# ----------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------
step "rclone mkdir $REMOTE"
rcl mkdir "$REMOTE"
rcl lsf "cairn:" > "$W/buckets.txt"
grep -Fxq "$BUCKET/" "$W/buckets.txt" || fail "bucket $BUCKET not listed by 'rclone lsf cairn:'"
info "ok: bucket listed"

step "rclone copy the tree up (large files use multipart upload)"
rcl copy -v "$SRC" "$REMOTE/tree"

step "rclone check (hashes) and rclone check --download (bytes)"
rcl check "$SRC" "$REMOTE/tree"
rcl check --download "$SRC" "$REMOTE/tree"
info "ok: remote matches local"

step "rclone lsf -R"
local_files "$SRC" > "$W/expected-files.txt"
rcl lsf -R --files-only "$REMOTE/tree" | LC_ALL=C sort > "$W/remote-files.txt"
compare_listing "files" "$W/expected-files.txt" "$W/remote-files.txt"
local_dirs "$SRC" > "$W/expected-dirs.txt"
rcl lsf -R --dirs-only "$REMOTE/tree" | LC_ALL=C sort > "$W/remote-dirs.txt"
compare_listing "directories" "$W/expected-dirs.txt" "$W/remote-dirs.txt"

step "rclone size matches the local tree"
remote_size="$(rcl size --json "$REMOTE/tree" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], d["bytes"])')"
local_size="$(local_files "$SRC" | wc -l) $(find "$SRC" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
[[ "$remote_size" == "$local_size" ]] || fail "rclone size: remote [$remote_size] vs local [$local_size] (count bytes)"
info "ok: count/bytes = $remote_size"

step "rclone cat a single object"
rcl cat "$REMOTE/tree/ünïcödé/日本語.txt" > "$W/cat.out"
cmp -s "$SRC/ünïcödé/日本語.txt" "$W/cat.out" || fail "rclone cat returned different content"
info "ok: cat content matches"

step "modify, add and delete local files, then rclone sync"
sleep 1   # make sure modification times differ from the first upload
printf 'appended line\n' >> "$SRC/nested/a/b/c/deep.txt"
make_file "$SRC/big/medium.bin" $((7 * 1024 * 1024 + 3))
make_file "$SRC/new dir/new file.txt" 321
mv "$SRC/ünïcödé/日本語.txt" "$SRC/ünïcödé/日本語-renamed.txt"
rm "$SRC/data/file-3.bin" "$SRC/plus+sign/a+b=c.txt"
rmdir "$SRC/plus+sign"
rcl sync -v "$SRC" "$REMOTE/tree"

step "rclone check after sync"
rcl check "$SRC" "$REMOTE/tree"
rcl check --download "$SRC" "$REMOTE/tree"
local_files "$SRC" > "$W/expected-files2.txt"
rcl lsf -R --files-only "$REMOTE/tree" | LC_ALL=C sort > "$W/remote-files2.txt"
compare_listing "files after sync" "$W/expected-files2.txt" "$W/remote-files2.txt"
grep -Fxq "data/file-3.bin" "$W/remote-files2.txt" && fail "deleted file data/file-3.bin still on the remote"
info "ok: deleted files are gone from the remote"

step "rclone copy back down into a new dir and diff -r"
DOWN="$W/down"
rcl copy -v "$REMOTE/tree" "$DOWN"
diff -r "$SRC" "$DOWN" || fail "downloaded tree differs from the local source"
info "ok: diff -r clean"

step "rclone purge $REMOTE"
rcl purge "$REMOTE"
rcl lsf "cairn:" > "$W/buckets-after.txt"
if grep -Fxq "$BUCKET/" "$W/buckets-after.txt"; then
    fail "bucket $BUCKET still exists after purge"
fi
info "ok: bucket removed"
