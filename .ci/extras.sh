#!/usr/bin/env bash
# CI extras, run by .ci/run after the Go tests; runs alone too (.ci/extras.sh).
#
# On Debian (as root, or with sudo) it installs Debian's Jupyter, pandas,
# matplotlib and Chromium, builds danescan, makes a lab dataset, executes
# the notebooks in notebooks/ headless with Debian's /usr/bin/python3 (any
# failing cell fails), and renders the lab's report.html in headless
# Chromium: the page must load, hold the SVG charts chart-funnel,
# chart-checks and chart-tld, and log nothing to the console (the report
# has no scripts, so any console message is an error).
#
# Without apt-get it fails, unless DANESCAN_CI_SKIP_EXTRAS=1 says to skip.
# DANESCAN_CI_KEEP=1 keeps the work directory (executed notebooks, DOM,
# Chromium log) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if ! command -v apt-get >/dev/null; then
	if [ "${DANESCAN_CI_SKIP_EXTRAS:-}" = 1 ]; then
		echo "extras: no apt-get (not Debian?): skipping notebooks and report.html checks (DANESCAN_CI_SKIP_EXTRAS=1)"
		exit 0
	fi
	echo "extras: no apt-get: the notebook and report.html checks need Debian; set DANESCAN_CI_SKIP_EXTRAS=1 to skip them" >&2
	exit 1
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	sudo=sudo
fi

TMP=$(mktemp -d)
if [ "${DANESCAN_CI_KEEP:-}" = 1 ]; then
	echo "extras: work directory $TMP (kept)"
else
	trap 'rm -rf "$TMP"' EXIT
fi

# since START: the seconds since START (an $EPOCHREALTIME), one decimal.
since() {
	local us=$((${EPOCHREALTIME//[.,]/} - ${1//[.,]/}))
	echo "$((us / 1000000)).$((us / 100000 % 10))s"
}

# step NAME CMD...: runs CMD and prints how long it took.
step() {
	local name=$1 start=$EPOCHREALTIME
	shift
	echo "==> $name"
	"$@"
	echo "==> $name: $(since "$start")"
}

install() {
	$sudo apt-get update -q
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
		jupyter-nbconvert python3-nbclient python3-ipykernel python3-pandas python3-matplotlib \
		chromium >"$TMP/apt.log" || { tail -50 "$TMP/apt.log"; return 1; }
	grep -E '^(Setting up|[0-9]+ upgraded)' "$TMP/apt.log" | tail -1
}

# Notebooks are committed without outputs; this checks before running them.
check_clean() {
	/usr/bin/python3 - notebooks/*.ipynb <<'EOF'
import sys

import nbformat

dirty = []
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    if any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in nb.cells):
        dirty.append(path)
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        sys.exit(f"{path}: kernelspec is not python3")
if dirty:
    sys.exit("notebooks committed with outputs (clear them: jupyter nbconvert --clear-output --inplace): " + " ".join(dirty))
print(f"{len(sys.argv) - 1} notebooks valid, without outputs")
EOF
}

lab() {
	go build -o "$TMP/danescan" ./cmd/danescan
	"$TMP/danescan" lab --domains 2000 --out "$TMP/lab" >"$TMP/lab.log" 2>&1 || { cat "$TMP/lab.log"; return 1; }
	tail -4 "$TMP/lab.log"
}

notebooks() {
	# The python3 kernel must be Debian's python, not another python3 on PATH.
	/usr/bin/python3 - <<'EOF'
from jupyter_client.kernelspec import KernelSpecManager

argv = KernelSpecManager().get_kernel_spec("python3").argv
print("python3 kernel:", " ".join(argv))
assert argv[0] == "/usr/bin/python3", f"python3 kernel runs {argv[0]}, not /usr/bin/python3"
EOF
	DANESCAN_DATASET="$TMP/lab" DANESCAN_BIN="$TMP/danescan" MPLCONFIGDIR="$TMP/mpl" \
		PYDEVD_DISABLE_FILE_VALIDATION=1 \
		/usr/bin/python3 -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
		--ExecutePreprocessor.kernel_name=python3 --output-dir "$TMP/notebooks" notebooks/*.ipynb
	# nbconvert fails on a cell error; check too that the charts were drawn.
	/usr/bin/python3 - "$TMP"/notebooks/*.ipynb <<'EOF'
import sys

import nbformat

for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    if errors or images < 2:
        sys.exit(f"{path}: {len(errors)} errors, {images} charts")
    print(f"{path}: {len(nb.cells)} cells, {images} charts, no errors")
EOF
}

report_html() {
	local page="$TMP/lab/report/report.html"
	timeout 120 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--no-first-run --user-data-dir="$TMP/chromium-profile" \
		--enable-logging=stderr --v=0 --dump-dom "file://$page" \
		>"$TMP/report.dom.html" 2>"$TMP/chromium.log" || {
		tail -30 "$TMP/chromium.log"
		echo "chromium failed on $page" >&2
		return 1
	}
	local failed=0
	if ! grep -q '</html>' "$TMP/report.dom.html" || ! grep -q '<h1' "$TMP/report.dom.html"; then
		echo "report.html: Chromium dumped no page (see $TMP/report.dom.html)" >&2
		failed=1
	fi
	for id in chart-funnel chart-checks chart-tld; do
		if ! grep -Eq "id=\"$id\"[^>]*>[[:space:]]*<svg" "$TMP/report.dom.html"; then
			echo "report.html: no <svg> chart with id $id" >&2
			failed=1
		fi
	done
	if grep -E ':CONSOLE[:(]|Uncaught' "$TMP/chromium.log"; then
		echo "report.html: console messages (above)" >&2
		failed=1
	fi
	[ "$failed" = 0 ] || return 1
	echo "report.html: loaded in Chromium ($(chromium --version 2>/dev/null)), charts chart-funnel chart-checks chart-tld present, console empty"
}

start=$EPOCHREALTIME
step "apt-get install" install
step "notebooks without outputs" check_clean
step "build danescan, lab dataset" lab
step "execute notebooks" notebooks
step "report.html in headless Chromium" report_html
echo "==> extras: $(since "$start")"
