#!/bin/sh
# Rebuild the demo-corpus PDFs from their sources in corpus/src/.
# Output is deterministic: running this twice gives identical files.
set -e
cd "$(dirname "$0")/.."
python3 tools/pdfgen.py corpus/src/harbour-contracts-commission-interim-report.txt \
    corpus/demo/harbour-contracts-commission-interim-report.pdf
python3 tools/pdfgen.py corpus/src/saltmarket-fish-hall-heritage-assessment.txt \
    corpus/demo/saltmarket-fish-hall-heritage-assessment.pdf
# This one uses Flate-compressed content streams, so loaders meet both kinds.
python3 tools/pdfgen.py --compress corpus/src/port-authority-annual-report-2023.txt \
    corpus/demo/port-authority-annual-report-2023.pdf
