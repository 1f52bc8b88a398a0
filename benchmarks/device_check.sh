#!/usr/bin/env bash
# Prove the GPU path on a machine with one CUDA GPU (and its CPU), in a few minutes:
#
#     bash benchmarks/device_check.sh [OUTDIR]        # default OUTDIR: $OUT or benchmarks/results/device
#
# 1. checks for what it needs (a CUDA build of torch, scikit-learn >= 1.6, scipy, pytest,
#    threadpoolctl) and, when something is missing, installs the project with pip
#    (`pip install -e ".[test]"`; on Linux pip's default torch is a CUDA build). A machine
#    without network needs them in place: the NVIDIA image of this project's device
#    machines has them all in its python3, so there nothing is installed;
# 2. runs the CUDA tests (`pytest -m cuda tests/test_cuda.py`) and the thread-policy
#    tests (on this machine's cores);
# 3. runs `benchmarks/speed.py --sections threads gpu search first_fit`: fit and transform at 1, 2,
#    4, ... threads and with the thread policy; the wide net's fit on the GPU against one
#    CPU thread; transform of 1,000,000 x 784 rows on the GPU; GridSearchCV n_jobs cost.
#    It prints the targets of issue #18 with "met" / "not met".
#
# Everything it prints is also written to OUTDIR (tests.txt, speed.txt, speed.json, speed.md).
# Environment: PYTHON (default python3); SPEED_ARGS, extra arguments for speed.py (a dry run:
# SPEED_ARGS="--wide-rows 2048 --n-samples 2048 --repeats 1 --gpu-transform-rows 10000");
# DEVICE_CHECK_NO_INSTALL=1 skips the check-and-install step (a dry run on a machine without CUDA).
set -uo pipefail
cd "$(dirname "$0")/.."
OUTDIR=${1:-${OUT:-benchmarks/results/device}}
mkdir -p "$OUTDIR"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
START=$(date +%s)

have_all() {
    "$PY" - <<'EOF'
import sys
import torch, scipy, sklearn, pytest, threadpoolctl  # noqa: F401
major, minor = (int(x) for x in sklearn.__version__.split(".")[:2])
sys.exit(0 if torch.cuda.is_available() and (major, minor) >= (1, 6) else 1)
EOF
}

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not found"
echo "cpus: $(nproc) logical; $(lscpu 2>/dev/null | grep -E '^(Model name|Core\(s\) per socket|Socket\(s\)|Thread\(s\) per core)' | tr -s ' ' | paste -sd ';')"
if [ -z "${DEVICE_CHECK_NO_INSTALL:-}" ] && ! have_all; then
    echo "== installing (a CUDA build of torch, scikit-learn >= 1.6, test tools)"
    "$PY" -m pip install --quiet -e ".[test]" || { echo "install failed: this check needs them"; exit 1; }
    have_all || { echo "still no CUDA torch / scikit-learn >= 1.6 in $PY: stopping"; exit 1; }
fi
"$PY" -c "
import torch, sklearn, numpy, skautoencoder
print('python', __import__('sys').version.split()[0], '| torch', torch.__version__, 'cuda', torch.version.cuda,
      '|', torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA', '| scikit-learn', sklearn.__version__, '| numpy', numpy.__version__,
      '| torch threads', torch.get_num_threads(), '| skautoencoder from', skautoencoder.__file__)"

echo "== tests: CUDA path and thread policy"
"$PY" -m pytest -m cuda tests/test_cuda.py -p no:cacheprovider -q -rs -o addopts="" 2>&1 | tee "$OUTDIR/tests.txt"
TESTS=${PIPESTATUS[0]}
"$PY" -m pytest tests/test_runtime.py -p no:cacheprovider -q -o addopts="" 2>&1 | tee -a "$OUTDIR/tests.txt"
TESTS=$(( TESTS | PIPESTATUS[0] ))

echo "== speed: threads (this CPU), gpu, search"
"$PY" benchmarks/speed.py --sections threads gpu search first_fit --repeats 3 ${SPEED_ARGS:-} --out "$OUTDIR" 2>&1 | tee "$OUTDIR/speed.txt"
SPEED=${PIPESTATUS[0]}

echo "== done in $(( $(date +%s) - START )) s: tests exit $TESTS, speed.py exit $SPEED"
exit $(( TESTS | SPEED ))
