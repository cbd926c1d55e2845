//! Two objectives: sort by the first, sweep the staircase. O(n log n).

/// The area dominated by `points` (flat, two coordinates each, all strictly dominating
/// `reference`, finite, no NaN) and bounded by `reference`.
pub(crate) fn hv2(points: &[f64], reference: [f64; 2]) -> f64 {
    let mut sorted: Vec<[f64; 2]> = points.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
    sorted.sort_unstable_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    // Horizontal slabs: each point that lowers the staircase adds the slab between the
    // previous level and its own second objective, reaching from its first objective to
    // the reference.
    let mut area = 0.0;
    let mut level = reference[1];
    for [x, y] in sorted {
        if y < level {
            area += (reference[0] - x) * (level - y);
            level = y;
        }
    }
    area
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase() {
        let front = [0.0, 1.0, 0.5, 0.5, 1.0, 0.0];
        assert_eq!(hv2(&front, [2.0, 2.0]), 3.25);
        // Dominated points and duplicates change nothing.
        let more = [1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 1.5, 1.5, 0.5, 0.5];
        assert_eq!(hv2(&more, [2.0, 2.0]), 3.25);
        assert_eq!(hv2(&[], [2.0, 2.0]), 0.0);
    }
}
