#!/bin/sh
# install | upgrade | uninstall | start | stop of a personal notebook.
# The notebooks live in the owner's home folder; the state file sits with the service.
set -eu
. ./scripts/common.sh

action="${1:?usage: notebook.sh install|upgrade|uninstall|start|stop}"
id="$ENCLAVE_RESOURCE_ID"
ws_id="${ENCLAVE_WORKSPACE_ID:?ENCLAVE_WORKSPACE_ID is not set; a user resource needs its workspace}"
svc_id="${ENCLAVE_PARENT_SERVICE_ID:?ENCLAVE_PARENT_SERVICE_ID is not set; a user resource needs its workspace service}"
owner="${ENCLAVE_OWNER_ID:?ENCLAVE_OWNER_ID is not set; a notebook belongs to a user}"
require_path_component "Notebook id" "$id"
require_path_component "Workspace id" "$ws_id"
require_path_component "Service id" "$svc_id"
require_path_component "Owner id" "$owner"
ws="$ENCLAVE_DATA_DIR/workspaces/$ws_id"
home="$ws/home/$owner"
notebooks="$home/notebooks"
state_dir="$ws/services/$svc_id/user_resources/$id"
state="$state_dir/state.json"

write_state() {
    {
        printf '{\n'
        printf '  "id": %s,\n' "$(json_string "$id")"
        printf '  "owner_id": %s,\n' "$(json_string "$owner")"
        printf '  "notebooks_path": %s,\n' "$(json_string "$notebooks")"
        printf '  "power_state": %s,\n' "$(json_string "$1")"
        printf '  "updated_at": %s\n' "$(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
        printf '}\n'
    } | write_file "$state"
    chmod 0640 "$state"
    printf '{"power_state": %s, "notebooks_path": %s}\n' \
        "$(json_string "$1")" "$(json_string "home/$owner/notebooks")" > "$ENCLAVE_OUTPUTS"
}

current_power_state() {
    if [ -f "$state" ] && grep -q '"power_state": "stopped"' "$state"; then echo stopped; else echo running; fi
}

require_installed() {
    [ -f "$state" ] || fail "Notebook $id is not installed (no $state)"
}

case "$action" in
    install)
        [ -d "$ws/services/$svc_id" ] || fail "Service folder $ws/services/$svc_id does not exist; deploy the JupyterLab service first"
        progress "preparing notebook folder"
        umask 027
        mkdir -p "$notebooks" "$state_dir"
        chmod 0700 "$home" "$notebooks"
        chmod 0750 "$ws/services/$svc_id/user_resources" "$state_dir"
        write_state running
        ;;
    upgrade)
        require_installed
        mkdir -p "$notebooks"
        write_state "$(current_power_state)"
        ;;
    start)
        require_installed
        write_state running
        ;;
    stop)
        require_installed
        write_state stopped
        ;;
    uninstall)
        rm -rf "$state_dir"
        rmdir "$ws/services/$svc_id/user_resources" 2>/dev/null || true
        if [ "${ENCLAVE_PARAM_DELETE_NOTEBOOKS:-false}" = "true" ]; then
            progress "deleting notebooks"
            rm -rf "$notebooks"
        fi
        ;;
    *)
        fail "Unknown action '$action'"
        ;;
esac
