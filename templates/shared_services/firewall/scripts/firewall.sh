#!/bin/sh
# apply | remove: writes the firewall's rule collections to $ENCLAVE_DATA_DIR/shared/firewall/rules.json.
set -eu
. ./scripts/common.sh

action="${1:?usage: firewall.sh apply|remove}"
dir="$ENCLAVE_DATA_DIR/shared/firewall"
rules="$dir/rules.json"

# The collections arrive as compact JSON in the environment. A value too large for the environment
# is left out by the deployer; refuse to write a rule file that would silently drop rules.
collection() {
    eval "value=\${$1:-}"
    if [ -z "$value" ]; then
        if grep -q "\"$2\"" "$params"; then
            fail "$2 is too large to pass in the environment; this version of the firewall template cannot apply it"
        fi
        value='[]'
    fi
    case "$value" in
        \[*\]) printf '%s' "$value" ;;
        *) fail "$2 must be a JSON array" ;;
    esac
}

case "$action" in
    apply)
        params="${TMPDIR:-/tmp}/firewall-params.$$.json"
        cat > "$params"
        application=$(collection ENCLAVE_PARAM_RULE_COLLECTIONS rule_collections)
        network=$(collection ENCLAVE_PARAM_NETWORK_RULE_COLLECTIONS network_rule_collections)
        rm -f "$params"
        mkdir -p "$dir"
        chmod 0750 "$dir"
        {
            printf '{\n'
            printf '  "shared_service_id": %s,\n' "$(json_string "$ENCLAVE_RESOURCE_ID")"
            printf '  "updated_at": %s,\n' "$(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
            printf '  "rule_collections": %s,\n' "$application"
            printf '  "network_rule_collections": %s\n' "$network"
            printf '}\n'
        } | write_file "$rules"
        chmod 0640 "$rules"
        printf '{"rules_path": %s}\n' "$(json_string "$rules")" > "$ENCLAVE_OUTPUTS"
        ;;
    remove)
        rm -f "$rules"
        rmdir "$dir" 2>/dev/null || true
        ;;
    *)
        fail "Unknown action '$action'"
        ;;
esac
