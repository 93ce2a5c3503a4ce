#!/usr/bin/env bash
# Installs what fundtrail needs on a fresh Debian machine: system packages (when root) and a
# virtual environment .venv with the project and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(python3-venv postgresql-client fonts-wqy-microhei poppler-utils zbar-tools chromium nodejs npm
                 jq)  # jq: the README's tour reads the ids it uses from --json
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for p in "${DEBIAN_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        # Another apt-get (unattended-upgrades, a second terminal) may hold the package
        # manager's locks: wait for it (up to 10 minutes), saying so once, instead of failing
        # at once. apt's locks are fcntl locks: `apt-get update` takes
        # /var/lib/apt/lists/lock, which DPkg::Lock::Timeout does not cover on every apt
        # version, so that one is waited for here; install waits through the option.
        python3 - <<'PY'
import fcntl, os, sys, time
said = False
for lock in ("/var/lib/apt/lists/lock", "/var/lib/dpkg/lock-frontend"):
    if not os.path.exists(lock):
        continue
    fd = os.open(lock, os.O_RDWR)
    deadline = time.monotonic() + 600
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if not said:
                print("等待软件包管理器（另一个 apt-get 正在运行）… / waiting for the package "
                      "manager (another apt-get holds its lock)…", flush=True)
                said = True
            if time.monotonic() > deadline:
                sys.exit("apt 锁等待超时 / gave up waiting for the apt lock after 10 minutes")
            time.sleep(2)
    os.close(fd)  # released at once: apt-get takes it next
PY
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
# The browser libraries the web app serves itself (package.json; no CDN).
scripts/vendor-js.sh
