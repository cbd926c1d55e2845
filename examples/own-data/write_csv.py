"""Writes the movie-review snippets as the CSV files a user would bring: train.csv and
test.csv with columns `review` and `sentiment` (`positive` / `negative`, the sign of the mean
rating; snippets rated exactly 0 dropped; every snippet whose id is a multiple of 5 in the test
file, as lopper's own `movie-reviews` task splits them).

    python3 examples/own-data/write_csv.py SNIPPETS.txt OUT_DIR
"""

import csv
import sys
from pathlib import Path


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    files = {name: open(out / f"{name}.csv", "w", newline="", encoding="utf-8") for name in ["train", "test"]}
    writers = {name: csv.writer(f) for name, f in files.items()}
    for w in writers.values():
        w.writerow(["review", "sentiment"])
    with open(src, encoding="utf-8", newline="") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            ident, rating, text = line.split("\t", 2)
            rating = float(rating)
            if rating == 0.0:
                continue
            split = "test" if int(ident) % 5 == 0 else "train"
            writers[split].writerow([text, "positive" if rating > 0 else "negative"])
    for f in files.values():
        f.close()


if __name__ == "__main__":
    main()
