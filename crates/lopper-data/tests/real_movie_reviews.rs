//! The real movie-review ratings (fetched from the vaderSentiment sdist on PyPI, checksummed):
//! the sizes and balance the book states, and the paper protocol's seeded split.

#![allow(clippy::unwrap_used)]

use lopper_data::{Label, PaperProtocol, Protocol, Split, TaskSource};

#[test]
fn the_real_ratings_make_the_documented_task() {
    let dir = lopper_testkit::assets::movie_reviews().unwrap();
    let source: TaskSource = "movie-reviews".parse().unwrap();
    let train = source.read(&dir, Split::Train).unwrap();
    let dev = source.read(&dir, Split::Dev).unwrap();
    assert_eq!((train.len(), dev.len()), (8457, 2111));
    let positive = |d: &lopper_data::Dataset| {
        d.labels()
            .unwrap()
            .iter()
            .filter(|l| **l == Label::Class(1))
            .count()
    };
    assert_eq!(positive(&train) + positive(&dev), 5242);
    // The first held-out snippet is id 5, on line 5.
    assert!(
        dev.examples[0]
            .text
            .starts_with("Emerges as something rare")
    );
    assert_eq!(
        (dev.examples[0].line, dev.labels().unwrap()[0]),
        (5, Label::Class(1))
    );

    let splits = source
        .splits(&dir, &Protocol::Paper(PaperProtocol::new(0)))
        .unwrap();
    assert_eq!((splits.train.len(), splits.validation.len()), (5919, 2538));
    assert_eq!(splits.test.unwrap().len(), 2111);
    let again = source
        .splits(&dir, &Protocol::Paper(PaperProtocol::new(0)))
        .unwrap();
    assert_eq!(splits.train.examples[..5], again.train.examples[..5]);
}
