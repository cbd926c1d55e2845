#!/usr/bin/env bash
# Fetches real movie-review sentiment data: the 10,605 human-rated movie-review snippets of
# Hutto & Gilbert (ICWSM 2014) that ship in the vaderSentiment 3.3.2 source distribution on
# PyPI (additional_resources/hutto_ICWSM_2014.tar.gz). Checks the SHA-256 of the sdist, of the
# inner archive and of the ratings file, and keeps movieReviewSnippets_GroundTruth.txt (the
# `movie-reviews` task of `lopper train`) in a cache folder that git ignores. Idempotent: a
# verified copy is kept.
#
#   scripts/fetch-movie-reviews.sh [DEST]      (default: .cache/data/movie-reviews)
#
# Prints the data folder on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-.cache/data/movie-reviews}"
file=movieReviewSnippets_GroundTruth.txt
sdist_sha=5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9
inner_sha=d5bb07d87474b3eb8d30b4deccbc23f19d742a6c5718fbacc65485b70b95c5fa
file_sha=c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350

verify() { # file sha
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if verify "$dest/$file" "$file_sha"; then
    echo "$dest"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: --disable-pip-version-check \
    -d "$work" vaderSentiment==3.3.2 >&2
sdist="$work/vaderSentiment-3.3.2.tar.gz"
if ! verify "$sdist" "$sdist_sha"; then
    echo "fetch-movie-reviews: checksum mismatch for $(basename "$sdist")" >&2
    exit 1
fi
tar -xzf "$sdist" -C "$work" vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz
inner="$work/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
if ! verify "$inner" "$inner_sha"; then
    echo "fetch-movie-reviews: checksum mismatch for hutto_ICWSM_2014.tar.gz" >&2
    exit 1
fi
tar -xzf "$inner" -C "$work" "hutto_ICWSM_2014/$file"
if ! verify "$work/hutto_ICWSM_2014/$file" "$file_sha"; then
    echo "fetch-movie-reviews: checksum mismatch for $file" >&2
    exit 1
fi
mkdir -p "$dest"
cp "$work/hutto_ICWSM_2014/$file" "$dest/$file.tmp" && mv "$dest/$file.tmp" "$dest/$file"
echo "$dest"
