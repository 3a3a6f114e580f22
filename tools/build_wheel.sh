#!/usr/bin/env bash
# The project's one wheel build for Linux x86_64: a manylinux2014 (manylinux_2_17) abi3 wheel,
# linked against glibc 2.17 through zig, its platform tag confirmed by `auditwheel show`.
# Used by .ci/dist and by the Linux x86_64 leg of .github/workflows/release.yml.
#
#   tools/build_wheel.sh [OUT_DIR]          # default OUT_DIR: dist/
#
# Needs Rust (cargo) and Python >= 3.9 with venv and pip; installs its tools (maturin, ziglang,
# auditwheel, pinned below) from PyPI into a virtual environment of their own
# ($TCCVM_TOOLS_VENV, default .tools-venv/ in the checkout; reused while the pins are the same).
# Prints the path of the wheel as its last line.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
OUT="${1:-$ROOT/dist}"
PYTHON="${PYTHON:-python3}"
TOOLS="${TCCVM_TOOLS_VENV:-$ROOT/.tools-venv}"
# The one place these versions are pinned (.ci/dist reads them from here).
PINS=("maturin==1.16.0" "ziglang==0.15.2" "auditwheel==6.8.2")
TARGET="${TCCVM_WHEEL_TARGET:-x86_64-unknown-linux-gnu}"
TAG="manylinux_2_17_${TARGET%%-*}"

if [[ ! -x "$TOOLS/bin/python" ]] || [[ "$(cat "$TOOLS/.pins" 2>/dev/null)" != "${PINS[*]}" ]]; then
    echo "== build tools into $TOOLS: ${PINS[*]}" >&2
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check "${PINS[@]}"
    echo "${PINS[*]}" >"$TOOLS/.pins"
fi
# maturin finds zig as `python -m ziglang` of the first python on PATH.
export PATH="$TOOLS/bin:$PATH"

mkdir -p "$OUT"
rm -f "$OUT"/tccvm-*-manylinux*.whl
echo "== maturin build --release --zig --compatibility manylinux2014 --target $TARGET" >&2
maturin build --release --zig --compatibility manylinux2014 --target "$TARGET" --out "$OUT" >&2

shopt -s nullglob
wheels=("$OUT"/tccvm-*-cp39-abi3-manylinux*.whl)
if [[ ${#wheels[@]} -ne 1 ]]; then
    echo "build_wheel: expected one cp39-abi3 manylinux wheel in $OUT, found: ${wheels[*]:-none}" >&2
    exit 1
fi
wheel="${wheels[0]}"
echo "== auditwheel show $(basename "$wheel")" >&2
report="$(auditwheel show "$wheel")"
echo "$report" >&2
# auditwheel wraps its lines: join them before looking for the tag.
if ! tr '\n' ' ' <<<"$report" | grep -q "consistent with the following platform tag: \"$TAG\""; then
    echo "build_wheel: auditwheel does not confirm $TAG for $wheel" >&2
    exit 1
fi
echo "== $TAG confirmed: $(basename "$wheel") ($(stat -c %s "$wheel") bytes)" >&2
echo "$wheel"
