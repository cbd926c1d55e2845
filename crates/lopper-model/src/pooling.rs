//! Sentence embeddings from token states: mean or first-token pooling, L2 normalisation.

use burn::tensor::Tensor;

/// How token states become one vector per input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean over real tokens (the attention mask honoured).
    Mean,
    /// The first token's state (`[CLS]` / `<s>`).
    Cls,
}

/// Pools `hidden` (`[batch, seq, d]`) with `mask` (`[batch, seq]`, 1 for real tokens).
pub fn pool(hidden: Tensor<3>, mask: Tensor<2>, pooling: Pooling) -> Tensor<2> {
    let [b, _, d] = hidden.dims();
    match pooling {
        Pooling::Cls => hidden.narrow(1, 0, 1).reshape([b, d]),
        Pooling::Mean => {
            let m = mask.unsqueeze_dim::<3>(2);
            let summed = (hidden * m.clone()).sum_dim(1).reshape([b, d]);
            let counts = m.sum_dim(1).reshape([b, 1]).clamp_min(1e-9);
            summed / counts
        }
    }
}

/// Scales every row of `x` to unit L2 norm (rows of zeros stay zero).
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    x / norm
}
