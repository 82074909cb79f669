#!/usr/bin/env bash
# Prints a greeting; used by the example pipeline.
set -euo pipefail
echo "${1:-Hello}, world!"
