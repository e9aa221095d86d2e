#!/bin/sh
# install | upgrade | uninstall of a workspace's host storage under $ENCLAVE_DATA_DIR/workspaces/<id>.
# Every action is idempotent: re-running after a lost worker converges to the same state.
set -eu
. ./scripts/common.sh

action="${1:?usage: workspace.sh install|upgrade|uninstall}"
egress="${WORKSPACE_EGRESS:-none}"
id="$ENCLAVE_RESOURCE_ID"
require_path_component "Workspace id" "$id"
workspaces="$ENCLAVE_DATA_DIR/workspaces"
ws="$workspaces/$id"

case "${ENCLAVE_PARAM_ENABLE_AIRLOCK:-true}" in
    true | false) airlock="${ENCLAVE_PARAM_ENABLE_AIRLOCK:-true}" ;;
    *) fail "enable_airlock must be true or false, not '${ENCLAVE_PARAM_ENABLE_AIRLOCK}'" ;;
esac
[ "$egress" = "none" ] || airlock=false
quota="${ENCLAVE_PARAM_SHARED_STORAGE_QUOTA:-10}"
case "$quota" in
    "" | *[!0-9]*) fail "shared_storage_quota must be a whole number of GB, not '$quota'" ;;
esac

write_settings() {
    owner="${ENCLAVE_PARAM_WORKSPACE_OWNER_OBJECT_ID:-}"
    if [ -n "$owner" ]; then owner_json=$(json_string "$owner"); else owner_json=null; fi
    {
        printf '{\n'
        printf '  "id": %s,\n' "$(json_string "$id")"
        printf '  "template_name": %s,\n' "$(json_string "${ENCLAVE_TEMPLATE_NAME:-}")"
        printf '  "template_version": %s,\n' "$(json_string "${ENCLAVE_TEMPLATE_VERSION:-}")"
        printf '  "display_name": %s,\n' "$(json_string "${ENCLAVE_PARAM_DISPLAY_NAME:-}")"
        printf '  "egress": %s,\n' "$(json_string "$egress")"
        printf '  "enable_airlock": %s,\n' "$airlock"
        printf '  "shared_storage_quota": %s,\n' "$quota"
        printf '  "workspace_owner_object_id": %s,\n' "$owner_json"
        printf '  "updated_at": %s\n' "$(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
        printf '}\n'
    } | write_file "$ws/workspace.json"
    chmod 0640 "$ws/workspace.json"
}

write_outputs() {
    printf '{"storage_path": %s, "egress": %s, "airlock_enabled": %s}\n' \
        "$(json_string "$ws")" "$(json_string "$egress")" "$airlock" > "$ENCLAVE_OUTPUTS"
}

case "$action" in
    install | upgrade)
        progress "preparing workspace storage"
        umask 027
        mkdir -p "$ws/shared" "$ws/home" "$ws/imports" "$ws/data" "$ws/exports"
        # shared: members read and write (setgid keeps the group); home: one private folder per
        # user; imports and data: read-only for the workspace; exports: written by the airlock only.
        chmod 0750 "$ws" "$ws/imports" "$ws/data"
        chmod 2770 "$ws/shared"
        chmod 0751 "$ws/home"
        chmod 0700 "$ws/exports"
        owner="${ENCLAVE_PARAM_WORKSPACE_OWNER_OBJECT_ID:-}"
        if [ -n "$owner" ]; then
            require_path_component "Workspace owner id" "$owner"
            mkdir -p "$ws/home/$owner"
            chmod 0700 "$ws/home/$owner"
        fi
        # The uid/gid come from the isolate step before this one (the local data plane).
        uid="${ENCLAVE_PARAM_WORKSPACE_UID:-}"
        gid="${ENCLAVE_PARAM_WORKSPACE_GID:-$uid}"
        if [ -n "$uid" ]; then
            case "$uid$gid" in *[!0-9]*) fail "workspace_uid/gid must be numbers, not '$uid'/'$gid'" ;; esac
            if [ "$(id -u)" = 0 ]; then
                chown "0:$gid" "$ws" "$ws/home" "$ws/imports" "$ws/data"
                chown "$uid:$gid" "$ws/shared"
                # Only a home still root's (just made): a personal desktop or notebook gives it to the
                # owner's own uid, which an upgrade must not take back.
                if [ -n "$owner" ] && [ "$(stat -c %u "$ws/home/$owner")" = 0 ]; then chown "$uid:$gid" "$ws/home/$owner"; fi
            else
                echo "Not root: storage stays owned by uid $(id -u), not the workspace's uid $uid" >&2
            fi
        fi
        write_settings
        write_outputs
        ;;
    uninstall)
        if [ ! -d "$ws" ]; then
            echo "Workspace storage $ws is already gone"
            exit 0
        fi
        if [ "${ENCLAVE_PARAM_ARCHIVE_ON_DELETE:-true}" = "true" ]; then
            archive_dir="$ENCLAVE_DATA_DIR/archive/workspaces"
            mkdir -p "$archive_dir"
            chmod 0700 "$ENCLAVE_DATA_DIR/archive" "$archive_dir"
            archive="$archive_dir/$id-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
            progress "archiving workspace storage"
            tar -czf "$archive.partial" -C "$workspaces" "$id"
            mv -f "$archive.partial" "$archive"
            chmod 0600 "$archive"
            printf '{"archive_path": %s}\n' "$(json_string "$archive")" > "$ENCLAVE_OUTPUTS"
        fi
        progress "removing workspace storage"
        rm -rf "$ws"
        ;;
    *)
        fail "Unknown action '$action'"
        ;;
esac
