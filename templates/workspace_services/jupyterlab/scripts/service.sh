#!/bin/sh
# install | upgrade | uninstall of the JupyterLab service's folder under its workspace.
set -eu
. ./scripts/common.sh

action="${1:?usage: service.sh install|upgrade|uninstall}"
id="$ENCLAVE_RESOURCE_ID"
ws_id="${ENCLAVE_WORKSPACE_ID:?ENCLAVE_WORKSPACE_ID is not set; a workspace service needs its workspace}"
require_path_component "Service id" "$id"
require_path_component "Workspace id" "$ws_id"
ws="$ENCLAVE_DATA_DIR/workspaces/$ws_id"
svc="$ws/services/$id"

kernels="${ENCLAVE_PARAM_KERNELS:-[\"python3\"]}"
case "$kernels" in
    \[*\]) ;;
    *) fail "kernels must be a JSON array, not '$kernels'" ;;
esac

case "$action" in
    install | upgrade)
        [ -d "$ws" ] || fail "Workspace storage $ws does not exist; deploy the workspace before its services"
        progress "preparing JupyterLab folder"
        umask 027
        mkdir -p "$svc"
        chmod 0750 "$ws/services" "$svc"
        {
            printf '{\n'
            printf '  "id": %s,\n' "$(json_string "$id")"
            printf '  "workspace_id": %s,\n' "$(json_string "$ws_id")"
            printf '  "template_version": %s,\n' "$(json_string "${ENCLAVE_TEMPLATE_VERSION:-}")"
            printf '  "display_name": %s,\n' "$(json_string "${ENCLAVE_PARAM_DISPLAY_NAME:-}")"
            printf '  "kernels": %s,\n' "$kernels"
            printf '  "updated_at": %s\n' "$(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
            printf '}\n'
        } | write_file "$svc/config.json"
        chmod 0640 "$svc/config.json"
        printf '{"connection_uri": %s, "service_path": %s}\n' \
            "$(json_string "/workspaces/$ws_id/services/$id/")" "$(json_string "$svc")" > "$ENCLAVE_OUTPUTS"
        ;;
    uninstall)
        rm -rf "$svc"
        rmdir "$ws/services" 2>/dev/null || true
        ;;
    *)
        fail "Unknown action '$action'"
        ;;
esac
