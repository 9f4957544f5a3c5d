extension BuildRun {
    /// `codebuild-tests-run`: CodeBuild's test splitter for `build-fanout` builds. Lists test files with the
    /// `--files-search` command, keeps this shard's part (`CAIRN_SHARD_INDEX` of `CAIRN_SHARD_COUNT`; outside a fan-out,
    /// every file), and runs `--test-command` with them appended and in `CODEBUILD_CURRENT_SHARD_FILES`, one a line.
    ///
    /// `equal-distribution` sorts the files and gives each shard one contiguous run, sizes differing by at most one;
    /// `stability` gives each file the shard its name's hash picks, so adding or removing files moves no other file.
    static let testsRunScript = #"""
        #!/bin/sh
        # codebuild-tests-run --test-command CMD --files-search CMD [--sharding-strategy equal-distribution|stability]
        test_command='' files_search='' strategy=equal-distribution
        while [ $# -gt 0 ]; do
          case "$1" in
            --test-command) test_command=$2; shift 2 ;;
            --test-command=*) test_command=${1#*=}; shift ;;
            --files-search) files_search=$2; shift 2 ;;
            --files-search=*) files_search=${1#*=}; shift ;;
            --sharding-strategy) strategy=$2; shift 2 ;;
            --sharding-strategy=*) strategy=${1#*=}; shift ;;
            *) echo "codebuild-tests-run: unknown argument '$1'" >&2; exit 2 ;;
          esac
        done
        [ -n "$test_command" ] || { echo "codebuild-tests-run: --test-command is required" >&2; exit 2; }
        [ -n "$files_search" ] || { echo "codebuild-tests-run: --files-search is required" >&2; exit 2; }
        index=${CAIRN_SHARD_INDEX:-0}
        count=${CAIRN_SHARD_COUNT:-1}
        files=$(eval "$files_search") || { echo "codebuild-tests-run: the files search failed" >&2; exit 2; }
        files=$(printf '%s\n' "$files" | sed '/^$/d' | LC_ALL=C sort -u)
        case "$strategy" in
          equal-distribution)
            selected=$(printf '%s\n' "$files" | sed '/^$/d' | awk -v i="$index" -v n="$count" '
              { line[NR] = $0 }
              END {
                per = int(NR / n); extra = NR % n
                first = i * per + (i < extra ? i : extra); size = per + (i < extra ? 1 : 0)
                for (k = first + 1; k <= first + size; k++) print line[k]
              }') ;;
          stability)
            selected=$(printf '%s\n' "$files" | sed '/^$/d' | while IFS= read -r file; do
              hash=$(printf '%s' "$file" | sha256sum | cut -c1-8)
              if [ $((0x$hash % count)) -eq "$index" ]; then printf '%s\n' "$file"; fi
            done) ;;
          *) echo "codebuild-tests-run: --sharding-strategy is equal-distribution or stability, not '$strategy'" >&2
             exit 2 ;;
        esac
        CODEBUILD_CURRENT_SHARD_FILES=$selected
        export CODEBUILD_CURRENT_SHARD_FILES
        shard=$((index + 1))
        if [ -z "$selected" ]; then
          echo "codebuild-tests-run: no test files for shard $shard of $count"
          exit 0
        fi
        echo "codebuild-tests-run: shard $shard of $count, $(printf '%s\n' "$selected" | wc -l) files ($strategy)"
        arguments=$(printf '%s\n' "$selected" | sed "s/'/'\\\\''/g; s/.*/'&'/" | tr '\n' ' ')
        eval "$test_command $arguments"

        """#

    /// `codebuild-glob-search PATTERN...`: the files under the source directory that match, one a line, sorted. `*`
    /// matches across directories as `**` does, and a leading `**/` matches the top directory too.
    static let globSearchScript = #"""
        #!/bin/sh
        # codebuild-glob-search PATTERN...: files under the source directory that match, one a line (cairn build).
        cd "${CODEBUILD_SRC_DIR:-.}" || exit 1
        find . -type f ! -path './.git/*' | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r file; do
          for pattern in "$@"; do
            top=${pattern#\*\*/}
            case "$file" in
              $pattern|$top) printf '%s\n' "$file"; break ;;
            esac
          done
        done

        """#
}
