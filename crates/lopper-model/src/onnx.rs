//! Writing a pruned model as ONNX: `model.onnx` with each layer at its true width, runnable by
//! ONNX Runtime (or any runtime of opset 17).
//!
//! The graph: inputs `input_ids` and `attention_mask` (`int64 [batch, sequence]`, both
//! dimensions dynamic) and, for a BERT whose token-type vocabulary has more than one entry,
//! `token_type_ids` (sentence pairs need it, as Hugging Face's own ONNX exports have it); output
//! `logits` for a model with a sequence-classification head, `last_hidden_state` for a bare
//! encoder. Each kept layer computes exactly what lopper's sliced sub-network does: its own
//! heads and FFN units, a block with no head (no unit) skipped, LayerNorm with the model's
//! epsilon, the exact erf GELU, the additive attention mask of the most negative float.

use std::path::Path;

use burn::tensor::Tensor;
use prost::Message;

use crate::{EncoderConfig, Family, HeadKind, ModelError, PrunedNet, Result};

/// The subset of `onnx.proto` (IR version 8) that lopper writes, as `prost` messages.
///
/// Declared here rather than generated: `prost-build` needs `protoc` at build time, and the
/// crates that ship generated ONNX types are whole runtimes. The tags are onnx.proto's; only
/// the fields lopper sets are declared (a reader skips nothing, since nothing else is written).
mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ModelProto {
        #[prost(int64, tag = "1")]
        pub ir_version: i64,
        #[prost(string, tag = "2")]
        pub producer_name: String,
        #[prost(string, tag = "3")]
        pub producer_version: String,
        #[prost(string, tag = "6")]
        pub doc_string: String,
        #[prost(message, optional, tag = "7")]
        pub graph: Option<GraphProto>,
        #[prost(message, repeated, tag = "8")]
        pub opset_import: Vec<OperatorSetIdProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct OperatorSetIdProto {
        #[prost(string, tag = "1")]
        pub domain: String,
        #[prost(int64, tag = "2")]
        pub version: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GraphProto {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeProto>,
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(message, repeated, tag = "5")]
        pub initializer: Vec<TensorProto>,
        #[prost(message, repeated, tag = "11")]
        pub input: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "12")]
        pub output: Vec<ValueInfoProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NodeProto {
        #[prost(string, repeated, tag = "1")]
        pub input: Vec<String>,
        #[prost(string, repeated, tag = "2")]
        pub output: Vec<String>,
        #[prost(string, tag = "3")]
        pub name: String,
        #[prost(string, tag = "4")]
        pub op_type: String,
        #[prost(message, repeated, tag = "5")]
        pub attribute: Vec<AttributeProto>,
    }

    /// `AttributeProto.AttributeType`.
    pub const ATTR_FLOAT: i32 = 1;
    pub const ATTR_INT: i32 = 2;
    pub const ATTR_INTS: i32 = 7;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AttributeProto {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(float, tag = "2")]
        pub f: f32,
        #[prost(int64, tag = "3")]
        pub i: i64,
        #[prost(int64, repeated, tag = "8")]
        pub ints: Vec<i64>,
        #[prost(int32, tag = "20")]
        pub r#type: i32,
    }

    /// `TensorProto.DataType`.
    pub const FLOAT: i32 = 1;
    pub const INT64: i32 = 7;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorProto {
        #[prost(int64, repeated, tag = "1")]
        pub dims: Vec<i64>,
        #[prost(int32, tag = "2")]
        pub data_type: i32,
        #[prost(string, tag = "8")]
        pub name: String,
        /// Little-endian, row-major.
        #[prost(bytes = "vec", tag = "9")]
        pub raw_data: Vec<u8>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueInfoProto {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub r#type: Option<TypeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeProto {
        #[prost(oneof = "type_proto::Value", tags = "1")]
        pub value: Option<type_proto::Value>,
    }

    pub mod type_proto {
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Tensor {
            #[prost(int32, tag = "1")]
            pub elem_type: i32,
            #[prost(message, optional, tag = "2")]
            pub shape: Option<super::TensorShapeProto>,
        }

        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            #[prost(message, tag = "1")]
            TensorType(Tensor),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorShapeProto {
        #[prost(message, repeated, tag = "1")]
        pub dim: Vec<tensor_shape_proto::Dimension>,
    }

    pub mod tensor_shape_proto {
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Dimension {
            #[prost(oneof = "dimension::Value", tags = "1, 2")]
            pub value: Option<dimension::Value>,
        }

        pub mod dimension {
            #[derive(Clone, PartialEq, prost::Oneof)]
            pub enum Value {
                #[prost(int64, tag = "1")]
                DimValue(i64),
                #[prost(string, tag = "2")]
                DimParam(String),
            }
        }
    }
}

use proto::{AttributeProto, NodeProto, TensorProto, ValueInfoProto};

/// The opset the graph is written for (LayerNormalization is opset 17).
const OPSET: i64 = 17;
/// IR version 8 goes with opset 17.
const IR_VERSION: i64 = 8;

/// The graph under construction: nodes, initializers and fresh value names.
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    next: usize,
}

/// One attribute of a node.
enum Attr {
    Int(&'static str, i64),
    Ints(&'static str, Vec<i64>),
    Float(&'static str, f32),
}

impl Graph {
    fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    /// Adds a node of `op` and returns its (single) output.
    fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<Attr>) -> String {
        let out = self.fresh(op);
        self.node(op, inputs, attrs, out.clone());
        out
    }

    fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<Attr>, out: String) {
        let attribute = attrs
            .into_iter()
            .map(|a| match a {
                Attr::Int(name, i) => AttributeProto {
                    name: name.into(),
                    i,
                    r#type: proto::ATTR_INT,
                    ..AttributeProto::default()
                },
                Attr::Ints(name, ints) => AttributeProto {
                    name: name.into(),
                    ints,
                    r#type: proto::ATTR_INTS,
                    ..AttributeProto::default()
                },
                Attr::Float(name, f) => AttributeProto {
                    name: name.into(),
                    f,
                    r#type: proto::ATTR_FLOAT,
                    ..AttributeProto::default()
                },
            })
            .collect();
        let name = format!("{op}_{}", self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out],
            name,
            op_type: op.into(),
            attribute,
        });
    }

    /// A float initializer named `name` holding `t`.
    fn weight<const D: usize>(&mut self, name: &str, t: Tensor<D>) -> Result<String> {
        let dims = t.dims().iter().map(|&d| d as i64).collect();
        let values: Vec<f32> = t
            .into_data()
            .try_to_vec()
            .map_err(|e| ModelError::data(format!("tensor {name}"), e))?;
        self.initializers.push(TensorProto {
            dims,
            data_type: proto::FLOAT,
            name: name.into(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        Ok(name.into())
    }

    /// A fresh constant initializer of `data_type` with `dims`, its little-endian `raw` bytes.
    fn constant(&mut self, hint: &str, data_type: i32, dims: Vec<i64>, raw: Vec<u8>) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            dims,
            data_type,
            name: name.clone(),
            raw_data: raw,
        });
        name
    }

    fn scalar_f32(&mut self, hint: &str, v: f32) -> String {
        self.constant(hint, proto::FLOAT, vec![], v.to_le_bytes().to_vec())
    }

    fn scalar_i64(&mut self, hint: &str, v: i64) -> String {
        self.constant(hint, proto::INT64, vec![], v.to_le_bytes().to_vec())
    }

    fn ints(&mut self, hint: &str, v: &[i64]) -> String {
        let raw = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.constant(hint, proto::INT64, vec![v.len() as i64], raw)
    }

    /// `x · W + b` for a [`Dense`](crate::Dense) (`W` is `[in, out]`, as ONNX's MatMul takes).
    fn dense(&mut self, x: &str, name: &str, d: &crate::Dense) -> Result<String> {
        let w = self.weight(&format!("{name}.weight"), d.weight.val())?;
        let b = self.weight(&format!("{name}.bias"), d.bias.val())?;
        let y = self.op("MatMul", &[x, &w], vec![]);
        Ok(self.op("Add", &[&y, &b], vec![]))
    }

    fn layer_norm(&mut self, x: &str, name: &str, n: &crate::Norm, eps: f64) -> Result<String> {
        let g = self.weight(&format!("{name}.weight"), n.gamma.val())?;
        let b = self.weight(&format!("{name}.bias"), n.beta.val())?;
        Ok(self.op(
            "LayerNormalization",
            &[x, &g, &b],
            vec![Attr::Int("axis", -1), Attr::Float("epsilon", eps as f32)],
        ))
    }
}

fn tensor_value(name: &str, elem_type: i32, dims: &[&str]) -> ValueInfoProto {
    use proto::tensor_shape_proto::{Dimension, dimension};
    ValueInfoProto {
        name: name.into(),
        r#type: Some(proto::TypeProto {
            value: Some(proto::type_proto::Value::TensorType(
                proto::type_proto::Tensor {
                    elem_type,
                    shape: Some(proto::TensorShapeProto {
                        dim: dims
                            .iter()
                            .map(|d| Dimension {
                                value: Some(match d.parse::<i64>() {
                                    Ok(n) => dimension::Value::DimValue(n),
                                    Err(_) => dimension::Value::DimParam((*d).into()),
                                }),
                            })
                            .collect(),
                    }),
                },
            )),
        }),
    }
}

/// Whether the ONNX graph of a model with `config` takes `token_type_ids`.
pub fn onnx_takes_token_types(config: &EncoderConfig) -> bool {
    config.family == Family::Bert && config.type_vocab_size > 1
}

/// Writes the pruned `model` to `dir/model.onnx` (the folder is created if needed) with each
/// layer at its true width, copying tokenizer files from `tokenizer_from`. Returns the bytes
/// written. A multiple-choice head is [`ModelError::Unsupported`].
pub fn export_onnx(model: &PrunedNet, dir: &Path, tokenizer_from: Option<&Path>) -> Result<u64> {
    let c = model.config();
    let w = model.weights();
    if c.head == HeadKind::MultipleChoice {
        return Err(ModelError::Unsupported(
            "the ONNX export of a multiple-choice head".into(),
        ));
    }
    let mut g = Graph {
        nodes: Vec::new(),
        initializers: Vec::new(),
        next: 0,
    };
    let p = match (c.head, c.family) {
        (HeadKind::None, _) => "",
        (_, Family::Bert) => "bert.",
        (_, Family::Roberta) => "roberta.",
    };
    let token_types = onnx_takes_token_types(c);

    // Embeddings: word + position + token type, then LayerNorm.
    let word = g.weight(
        &format!("{p}embeddings.word_embeddings.weight"),
        w.embeddings.word.val(),
    )?;
    let position = g.weight(
        &format!("{p}embeddings.position_embeddings.weight"),
        w.embeddings.position.val(),
    )?;
    let token_type = g.weight(
        &format!("{p}embeddings.token_type_embeddings.weight"),
        w.embeddings.token_type.val(),
    )?;
    let mut x = g.op("Gather", &[&word, "input_ids"], vec![Attr::Int("axis", 0)]);
    let positions = match c.family {
        Family::Bert => {
            // 0 .. sequence, one row broadcast over the batch.
            let shape = g.op("Shape", &["input_ids"], vec![]);
            let one = g.ints("one", &[1]);
            let len = g.op("Gather", &[&shape, &one], vec![Attr::Int("axis", 0)]);
            let zero = g.ints("zero", &[0]);
            let len = g.op("Squeeze", &[&len, &zero], vec![]);
            let start = g.scalar_i64("start", 0);
            let step = g.scalar_i64("step", 1);
            let range = g.op("Range", &[&start, &len, &step], vec![]);
            g.op("Unsqueeze", &[&range, &zero], vec![])
        }
        Family::Roberta => {
            // Hugging Face's `create_position_ids_from_input_ids`: tokens count up from
            // padding_idx + 1, padding tokens sit at padding_idx.
            let pad = g.scalar_i64("pad", c.pad_token_id as i64);
            let is_pad = g.op("Equal", &["input_ids", &pad], vec![]);
            let not_pad = g.op("Not", &[&is_pad], vec![]);
            let ones = g.op(
                "Cast",
                &[&not_pad],
                vec![Attr::Int("to", i64::from(proto::INT64))],
            );
            let axis = g.scalar_i64("axis", 1);
            let counted = g.op("CumSum", &[&ones, &axis], vec![]);
            let masked = g.op("Mul", &[&counted, &ones], vec![]);
            g.op("Add", &[&masked, &pad], vec![])
        }
    };
    let pos = g.op(
        "Gather",
        &[&position, &positions],
        vec![Attr::Int("axis", 0)],
    );
    x = g.op("Add", &[&x, &pos], vec![]);
    let types = if token_types {
        g.op(
            "Gather",
            &[&token_type, "token_type_ids"],
            vec![Attr::Int("axis", 0)],
        )
    } else {
        // Every token is of type 0: its row, broadcast.
        let zero = g.ints("zero", &[0]);
        g.op("Gather", &[&token_type, &zero], vec![Attr::Int("axis", 0)])
    };
    x = g.op("Add", &[&x, &types], vec![]);
    x = g.layer_norm(
        &x,
        &format!("{p}embeddings.LayerNorm"),
        &w.embeddings.norm,
        c.layer_norm_eps,
    )?;

    // The additive mask, [batch, 1, 1, sequence]: 0 for tokens, the most negative float for
    // padding.
    let mask = g.op(
        "Cast",
        &["attention_mask"],
        vec![Attr::Int("to", i64::from(proto::FLOAT))],
    );
    let one = g.scalar_f32("one", 1.0);
    let inverted = g.op("Sub", &[&one, &mask], vec![]);
    let most_negative = g.scalar_f32("most_negative", f32::MIN);
    let bias = g.op("Mul", &[&inverted, &most_negative], vec![]);
    let axes = g.ints("axes", &[1, 2]);
    let bias = g.op("Unsqueeze", &[&bias, &axes], vec![]);

    let dh = c.head_dim();
    let scale = g.scalar_f32("scale", 1.0 / (dh as f32).sqrt());
    let sqrt_half = g.scalar_f32("sqrt_half", std::f32::consts::FRAC_1_SQRT_2);
    let half = g.scalar_f32("half", 0.5);
    for (i, layer) in w.layers.iter().enumerate() {
        let l = format!("{p}encoder.layer.{i}");
        if let Some(a) = &layer.attention {
            let heads = (a.query.weight.dims()[1] / dh) as i64;
            let split = g.ints("split", &[0, 0, heads, dh as i64]);
            let q = g.dense(&x, &format!("{l}.attention.self.query"), &a.query)?;
            let k = g.dense(&x, &format!("{l}.attention.self.key"), &a.key)?;
            let v = g.dense(&x, &format!("{l}.attention.self.value"), &a.value)?;
            let q = g.op("Reshape", &[&q, &split], vec![]);
            let q = g.op(
                "Transpose",
                &[&q],
                vec![Attr::Ints("perm", vec![0, 2, 1, 3])],
            );
            let k = g.op("Reshape", &[&k, &split], vec![]);
            let k = g.op(
                "Transpose",
                &[&k],
                vec![Attr::Ints("perm", vec![0, 2, 3, 1])],
            );
            let v = g.op("Reshape", &[&v, &split], vec![]);
            let v = g.op(
                "Transpose",
                &[&v],
                vec![Attr::Ints("perm", vec![0, 2, 1, 3])],
            );
            let scores = g.op("MatMul", &[&q, &k], vec![]);
            let scores = g.op("Mul", &[&scores, &scale], vec![]);
            let scores = g.op("Add", &[&scores, &bias], vec![]);
            let probs = g.op("Softmax", &[&scores], vec![Attr::Int("axis", -1)]);
            let ctx = g.op("MatMul", &[&probs, &v], vec![]);
            let ctx = g.op(
                "Transpose",
                &[&ctx],
                vec![Attr::Ints("perm", vec![0, 2, 1, 3])],
            );
            let merge = g.ints("merge", &[0, 0, heads * dh as i64]);
            let ctx = g.op("Reshape", &[&ctx, &merge], vec![]);
            let out = g.dense(&ctx, &format!("{l}.attention.output.dense"), &a.output)?;
            let sum = g.op("Add", &[&out, &x], vec![]);
            x = g.layer_norm(
                &sum,
                &format!("{l}.attention.output.LayerNorm"),
                &a.norm,
                c.layer_norm_eps,
            )?;
        }
        if let Some(f) = &layer.ffn {
            let h = g.dense(&x, &format!("{l}.intermediate.dense"), &f.intermediate)?;
            // The exact GELU: h · ½ · (1 + erf(h / √2)).
            let scaled = g.op("Mul", &[&h, &sqrt_half], vec![]);
            let erf = g.op("Erf", &[&scaled], vec![]);
            let shifted = g.op("Add", &[&erf, &one], vec![]);
            let gated = g.op("Mul", &[&h, &shifted], vec![]);
            let act = g.op("Mul", &[&gated, &half], vec![]);
            let out = g.dense(&act, &format!("{l}.output.dense"), &f.output)?;
            let sum = g.op("Add", &[&out, &x], vec![]);
            x = g.layer_norm(
                &sum,
                &format!("{l}.output.LayerNorm"),
                &f.norm,
                c.layer_norm_eps,
            )?;
        }
    }

    let output = match &w.classifier {
        None => {
            g.node("Identity", &[&x], vec![], "last_hidden_state".into());
            tensor_value(
                "last_hidden_state",
                proto::FLOAT,
                &["batch", "sequence", &c.hidden_size.to_string()],
            )
        }
        Some(cl) => {
            let index = g.scalar_i64("first", 0);
            let first = g.op("Gather", &[&x, &index], vec![Attr::Int("axis", 1)]);
            let features = match (&cl.dense, &w.pooler) {
                (Some(dense), _) => {
                    let h = g.dense(&first, "classifier.dense", dense)?;
                    g.op("Tanh", &[&h], vec![])
                }
                (None, Some(pooler)) => {
                    let h = g.dense(&first, &format!("{p}pooler.dense"), pooler)?;
                    g.op("Tanh", &[&h], vec![])
                }
                (None, None) => first,
            };
            let name = if cl.dense.is_some() {
                "classifier.out_proj"
            } else {
                "classifier"
            };
            let logits = g.dense(&features, name, &cl.out)?;
            g.node("Identity", &[&logits], vec![], "logits".into());
            tensor_value(
                "logits",
                proto::FLOAT,
                &["batch", &c.head_outputs().to_string()],
            )
        }
    };

    let mut inputs = vec![
        tensor_value("input_ids", proto::INT64, &["batch", "sequence"]),
        tensor_value("attention_mask", proto::INT64, &["batch", "sequence"]),
    ];
    if token_types {
        inputs.push(tensor_value(
            "token_type_ids",
            proto::INT64,
            &["batch", "sequence"],
        ));
    }
    let shapes: Vec<String> = model
        .layers()
        .iter()
        .map(|s| format!("{}h/{}u", s.heads.len(), s.units.len()))
        .collect();
    let onnx = proto::ModelProto {
        ir_version: IR_VERSION,
        producer_name: "lopper".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!(
            "{} pruned by lopper: {} layers [{}]",
            match c.family {
                Family::Bert => "BERT",
                Family::Roberta => "RoBERTa",
            },
            shapes.len(),
            shapes.join(" ")
        ),
        graph: Some(proto::GraphProto {
            node: g.nodes,
            name: "lopper".into(),
            initializer: g.initializers,
            input: inputs,
            output: vec![output],
        }),
        opset_import: vec![proto::OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
    };
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let path = dir.join("model.onnx");
    let bytes = onnx.encode_to_vec();
    std::fs::write(&path, &bytes).map_err(|e| ModelError::io(&path, e))?;
    crate::export::copy_tokenizer(tokenizer_from, dir)?;
    Ok(bytes.len() as u64)
}
