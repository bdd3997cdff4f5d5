#!/usr/bin/env bash
# What `npm test` needs before it runs anything: Debian packages, node_modules and the CIFAR-100 data.
# Installs what is missing where it can (root on Debian, as on CI); otherwise stops at once with the one
# command that would. Sourced by scripts/test-all.sh; `bash scripts/preflight.sh --check` only reports.
set -uo pipefail
cd "$(dirname "$0")/.."

py=/usr/bin/python3
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
data=${POE_DATA_DIR:-../shared/datasets/cifar-100-binary}
missing=()
have_py() { [ -x "$py" ] && "$py" -c "import $1" >/dev/null 2>&1; }

[ -x "$chromium" ] || missing+=(chromium)
have_py torch || missing+=(python3-torch)
have_py numpy || missing+=(python3-numpy)
have_py pytest || missing+=(python3-pytest)
have_py PIL || missing+=(python3-pil)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v flatc >/dev/null || missing+=(flatbuffers-compiler)
command -v g++ >/dev/null || missing+=(g++)
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
# The other two browser engines, and a virtual screen for them; installed with their recommends
# (GStreamer for WebKit's camera and media, Mesa for WebGL).
browsers=()
[ -x "${FIREFOX_PATH:-/usr/bin/firefox-esr}" ] || browsers+=(firefox-esr)
[ -x "${WEBKIT_DRIVER_PATH:-/usr/bin/WebKitWebDriver}" ] || browsers+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || browsers+=(xvfb)

if [ $((${#missing[@]} + ${#browsers[@]})) -gt 0 ]; then
  if [ "${1:-}" != "--check" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "== apt-get install ${missing[*]} ${browsers[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || exit 1
    if [ ${#missing[@]} -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${missing[@]}" || exit 1; fi
    if [ ${#browsers[@]} -gt 0 ]; then apt-get install -y -qq "${browsers[@]}" || exit 1; fi
  else
    echo "npm test needs Debian packages this machine lacks: ${missing[*]} ${browsers[*]}." >&2
    echo "Install them, then run npm test again:" >&2
    [ ${#missing[@]} -gt 0 ] && echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    [ ${#browsers[@]} -gt 0 ] && echo "  sudo apt-get install -y ${browsers[*]}" >&2
    exit 1
  fi
fi

if ! ls "$data"/train*.bin* >/dev/null 2>&1; then
  echo "npm test needs the CIFAR-100 dataset (binary version) at $data: the folder holding train.*.bin.gz and" >&2
  echo "test.bin.gz, as in ../shared/datasets/cifar-100-binary. Put it there, or set POE_DATA_DIR to where it is." >&2
  exit 1
fi

marker=node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  if [ "${1:-}" = "--check" ]; then echo "node_modules is missing or older than package-lock.json: npm ci" >&2; exit 1; fi
  echo "== npm ci"
  npm ci --no-audit --no-fund || exit 1
fi
echo "== preflight: everything npm test needs is here"
