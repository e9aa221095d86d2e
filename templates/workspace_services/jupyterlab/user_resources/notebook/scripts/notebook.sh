#!/bin/sh
# install | upgrade | uninstall of a personal notebook's folder (the workload steps run JupyterLab).
# The notebooks live in the owner's home folder.
set -eu
. ./scripts/common.sh

action="${1:?usage: notebook.sh install|upgrade|uninstall}"
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

write_outputs() {
    printf '{"notebooks_path": %s}\n' "$(json_string "home/$owner/notebooks")" > "$ENCLAVE_OUTPUTS"
}

case "$action" in
    install | upgrade)
        [ -d "$ws/home" ] || fail "Workspace storage $ws does not exist; deploy the workspace first"
        progress "preparing notebook folder"
        umask 077
        mkdir -p "$notebooks"
        chmod 0700 "$home" "$notebooks"
        # The workload step gives the home to the owner's own uid; a folder made here later follows it.
        chown "$(stat -c %u:%g "$home")" "$notebooks"
        write_outputs
        ;;
    uninstall)
        if [ "${ENCLAVE_PARAM_DELETE_NOTEBOOKS:-false}" = "true" ]; then
            progress "deleting notebooks"
            rm -rf "$notebooks"
        fi
        ;;
    *)
        fail "Unknown action '$action'"
        ;;
esac
