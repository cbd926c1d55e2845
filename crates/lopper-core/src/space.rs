//! Search-space traits: [`Space`] is what an optimizer sees, [`SearchSpace`] adds what the
//! model sees (the decoded [`Subnet`]).

use rand::{Rng, RngExt};

use crate::{Arch, Dim, Point, Result, Subnet};

/// A finite, typed design space: what an optimizer sees. Test problems implement it directly;
/// spaces over a network implement [`SearchSpace`] on top.
///
/// Only [`Space::dims`] is required; the rest have defaults built from the dimensions, which a
/// space overrides where it knows better (for example a space of tens of thousands of binary
/// dimensions with a sparsity-aware sampler).
pub trait Space: Send + Sync {
    /// The dimensions, in coordinate order.
    fn dims(&self) -> &[Dim];

    /// Checks that `p` is a member of the space.
    fn validate(&self, p: &Point) -> Result<()> {
        p.validate(self.dims())
    }

    /// Every coordinate at its domain's upper bound.
    fn upper_bound(&self) -> Point {
        Point(self.dims().iter().map(|d| d.domain.bounds().1).collect())
    }

    /// Every coordinate at its domain's lower bound.
    fn lower_bound(&self) -> Point {
        Point(self.dims().iter().map(|d| d.domain.bounds().0).collect())
    }

    /// Every coordinate at the middle of its domain (halves rounded up).
    fn mid_point(&self) -> Point {
        Point(
            self.dims()
                .iter()
                .map(|d| {
                    let (lo, hi) = d.domain.bounds();
                    lo + (hi - lo + 1) / 2
                })
                .collect(),
        )
    }

    /// The largest member (for a network: the full network). Defaults to the upper bound.
    fn largest(&self) -> Point {
        self.upper_bound()
    }

    /// The smallest member the paper trains and searches (for a network: the smallest
    /// non-empty one). Defaults to the lower bound.
    fn smallest(&self) -> Point {
        self.lower_bound()
    }

    /// A random member: each coordinate uniform over its domain by default.
    fn sample(&self, rng: &mut dyn Rng) -> Point {
        Point(self.dims().iter().map(|d| d.domain.sample(rng)).collect())
    }

    /// A copy of `p` with dimension `dim` set to a uniformly random different value.
    fn mutate_dim(&self, p: &Point, dim: usize, rng: &mut dyn Rng) -> Point {
        let mut q = p.clone();
        if let (Some(v), Some(d)) = (q.0.get_mut(dim), self.dims().get(dim)) {
            *v = d.domain.sample_other(*v, rng);
        }
        q
    }

    /// A copy of `p` that differs in exactly one uniformly chosen dimension (the local-search
    /// move of the paper). Dimensions with a single value are never chosen; a space with none
    /// but those returns `p` unchanged.
    fn mutate(&self, p: &Point, rng: &mut dyn Rng) -> Point {
        let dims = self.dims();
        let movable = dims.iter().filter(|d| d.domain.cardinality() > 1).count();
        if movable == 0 {
            return p.clone();
        }
        let mut k = rng.random_range(0..movable);
        for (i, d) in dims.iter().enumerate() {
            if d.domain.cardinality() > 1 {
                if k == 0 {
                    return self.mutate_dim(p, i, rng);
                }
                k -= 1;
            }
        }
        p.clone()
    }
}

/// A search space over the sub-networks of one architecture: a [`Space`] whose points decode
/// into [`Subnet`]s.
pub trait SearchSpace: Space {
    /// A short name (`small`, `medium`, `layer`, `large`, …).
    fn name(&self) -> &str;

    /// The architecture whose sub-networks this space describes.
    fn arch(&self) -> &Arch;

    /// The sub-network a point stands for. Fails on points outside the space.
    fn decode(&self, p: &Point) -> Result<Subnet>;
}
