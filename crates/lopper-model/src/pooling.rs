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

/// The pooling and normalisation a sentence-transformers model folder asks for: its
/// `modules.json` names a Pooling module (whose `config.json` says mean or CLS) and maybe a
/// Normalize module. `None` when the folder is not a sentence-transformers model.
pub fn sentence_transformers_defaults(dir: &std::path::Path) -> Option<(Pooling, bool)> {
    let modules: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("modules.json")).ok()?).ok()?;
    let modules = modules.as_array()?;
    let kind = |m: &serde_json::Value| m["type"].as_str().unwrap_or_default().to_string();
    let pooling_module = modules.iter().find(|m| kind(m).ends_with(".Pooling"))?;
    let path = pooling_module["path"].as_str().unwrap_or("1_Pooling");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(path).join("config.json")).ok()?)
            .ok()?;
    let pooling = if config["pooling_mode_cls_token"].as_bool() == Some(true) {
        Pooling::Cls
    } else {
        Pooling::Mean
    };
    let normalize = modules.iter().any(|m| kind(m).ends_with(".Normalize"));
    Some((pooling, normalize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_sentence_transformers_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(sentence_transformers_defaults(dir.path()), None);
        std::fs::write(
            dir.path().join("modules.json"),
            r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
               {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
               {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("1_Pooling")).unwrap();
        std::fs::write(
            dir.path().join("1_Pooling/config.json"),
            r#"{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true}"#,
        )
        .unwrap();
        assert_eq!(
            sentence_transformers_defaults(dir.path()),
            Some((Pooling::Mean, true))
        );
    }
}
