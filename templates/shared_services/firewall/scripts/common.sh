# Helpers shared by this template's scripts (sourced, POSIX sh).

fail() {
    echo "$*" >&2
    exit 1
}

# Prints $1 as a JSON string literal (quotes, backslashes and control characters escaped). Ids,
# paths, numbers and dates need no escaping and are printed without a process: each fork and exec
# costs 4-50 ms on a busy host, and a workspace's install calls this a dozen times.
json_string() {
    case "$1" in
        *[![:alnum:]._:/@+,=\ -]*) ;;
        *) printf '"%s"' "$1"; return ;;
    esac
    tab=$(printf '\t')
    cr=$(printf '\r')
    printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' |
        sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e "s/$tab/\\\\t/g" -e "s/$cr/\\\\r/g" |
        awk 'BEGIN { ORS = ""; printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", $0 } END { printf "\"" }'
}

# Fails unless $2 is usable as one path component (ids become folder names).
require_path_component() {
    case "$2" in
        "" | . | .. | */* | -*) fail "$1 '$2' cannot be used as a folder name" ;;
    esac
}

# Writes stdin to $1 atomically, so readers never see a half-written file.
write_file() {
    cat > "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
}

progress() {
    echo "ENCLAVE_PROGRESS $*"
}

: "${ENCLAVE_DATA_DIR:?ENCLAVE_DATA_DIR is not set; run this script through the exec deployer}"
: "${ENCLAVE_RESOURCE_ID:?ENCLAVE_RESOURCE_ID is not set}"
: "${ENCLAVE_OUTPUTS:?ENCLAVE_OUTPUTS is not set}"
