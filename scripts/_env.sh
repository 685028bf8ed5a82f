# Shared by scripts/run and scripts/test: a project virtualenv in .venv, (re)installed only
# when pyproject.toml changed, so a second run is fast.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # Install Debian packages that are missing (needs root or sudo; the package index is
  # refreshed once, only when something is missing).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  local extra="$1" stamp=".venv/.installed-$1"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
  fi
  # The dev install (scripts/test) includes everything scripts/run needs.
  if [ -z "$extra" ] && [ -f ".venv/.installed-[dev]" ] \
    && [ "$(cat ".venv/.installed-[dev]")" = "$want" ]; then
    return 0
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing Python packages into .venv ..."
    .venv/bin/pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/pip install -q --disable-pip-version-check -e ".${extra}"
    echo "$want" > "$stamp"
  fi
}
