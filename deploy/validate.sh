#!/usr/bin/env bash
# Validate cronjob.yaml, and the commented docker-config alternative inside
# it, and deploy/serve.yaml against the Kubernetes OpenAPI schemas in strict
# mode (unknown fields are errors). Works offline once kubernetes-validate
# is installed: the package carries the schemas.
#
#   deploy/validate.sh [MANIFEST]   (a MANIFEST given alone: only that one;
#                                    its alternative block when it has one)
#
# Environment:
#   K8S_VERSION            Kubernetes version to validate against (1.30.0)
#   KUBERNETES_VALIDATE    a kubernetes-validate binary to use instead of
#                          the script's own virtualenv
#   ACR_INDEX_VALIDATE_VENV where to create that virtualenv
#                          (~/.cache/acr-index/validate-venv)
#
# Exit status: 0 when every document is valid, non-zero otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
manifest="${1:-$root/cronjob.yaml}"
# Validated as well when no MANIFEST is given: the serve Deployment.
extra=()
[[ $# -eq 0 ]] && extra=("$root/deploy/serve.yaml")
k8s_version="${K8S_VERSION:-1.30.0}"
# Pinned so a new release cannot change the verdict under us; 1.37.0 carries
# schemas for Kubernetes 1.25 to 1.37.
kv_pin="kubernetes-validate==1.37.0"

begin_marker='# >>> ALTERNATIVE: docker-config pull secret >>>'
end_marker='# <<< ALTERNATIVE: docker-config pull secret <<<'

if [[ ! -f "$manifest" ]]; then
    echo "validate.sh: no such file: $manifest" >&2
    exit 2
fi

kv="${KUBERNETES_VALIDATE:-}"
if [[ -z "$kv" ]]; then
    venv="${ACR_INDEX_VALIDATE_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/acr-index/validate-venv}"
    kv="$venv/bin/kubernetes-validate"
    if [[ ! -x "$kv" ]] || ! "$venv/bin/python" -m pip show --quiet kubernetes-validate >/dev/null 2>&1; then
        echo "validate.sh: installing $kv_pin into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$kv_pin"
    fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
alternative="$tmp/cronjob-alternative.yaml"

# Extract the block between the marker lines and uncomment it exactly as a
# user would: drop a leading "# " (or a lone "#"). Any line inside the block
# that is not commented, or a missing or empty block, is an error.
has_alternative=1
grep -qxF "$begin_marker" "$manifest" || has_alternative=0
[[ $has_alternative -eq 1 ]] && python3 - "$manifest" "$alternative" "$begin_marker" "$end_marker" <<'PY'
import sys

src, dst, begin, end = sys.argv[1:5]
lines = open(src, encoding="utf-8").read().splitlines()
try:
    start = lines.index(begin)
    stop = lines.index(end, start + 1)
except ValueError:
    sys.exit(f"validate.sh: marker lines {begin!r} / {end!r} not found in {src}")
out = []
for number, line in enumerate(lines[start + 1:stop], start=start + 2):
    if line == "#":
        out.append("")
    elif line.startswith("# "):
        out.append(line[2:])
    else:
        sys.exit(f"validate.sh: {src}:{number}: line inside the alternative is not commented: {line!r}")
if not any(l.startswith("kind:") for l in out):
    sys.exit(f"validate.sh: the alternative block in {src} holds no Kubernetes object")
open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")
PY

status=0
echo "== $manifest (Kubernetes $k8s_version, strict)"
"$kv" --strict --kubernetes-version "$k8s_version" "$manifest" || status=1
if [[ $has_alternative -eq 1 ]]; then
    echo "== commented alternative in $(basename "$manifest") (Kubernetes $k8s_version, strict)"
    "$kv" --strict --kubernetes-version "$k8s_version" "$alternative" || status=1
elif [[ "$manifest" == "$root/cronjob.yaml" ]]; then
    echo "validate.sh: cronjob.yaml lost its alternative block" >&2
    status=1
fi
for m in "${extra[@]}"; do
    echo "== $m (Kubernetes $k8s_version, strict)"
    "$kv" --strict --kubernetes-version "$k8s_version" "$m" || status=1
done

if [[ $status -ne 0 ]]; then
    echo "validate.sh: FAILED" >&2
else
    echo "validate.sh: all documents valid"
fi
exit "$status"
