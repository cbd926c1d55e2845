//! `lopper select`: pick one sub-network from a search's front by a budget.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Flags of `lopper select`.
#[derive(clap::Args, Debug)]
pub struct SelectArgs {
    /// A `lopper search` output folder, or its front.json.
    pub front: PathBuf,
    /// At most this fraction of the full model's parameters (the `params` objective).
    #[arg(long, value_name = "FRACTION")]
    pub max_params: Option<f64>,
    /// At most this median latency (the `latency` objective).
    #[arg(long, value_name = "MS")]
    pub max_latency_ms: Option<f64>,
    /// At most this many multiply-accumulates (the `macs` objective).
    #[arg(long, value_name = "N")]
    pub max_macs: Option<f64>,
    /// At most this much more validation error than the unpruned network (the front's best
    /// for fronts written without it); among those, the smallest by the front's second
    /// objective.
    #[arg(long, value_name = "DELTA")]
    pub max_error_increase: Option<f64>,
    /// Also write the chosen member's JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// One member of a front, as `front.json` holds it.
struct Member {
    id: u64,
    summary: String,
    values: Vec<f64>,
    entry: serde_json::Value,
}

/// Runs `lopper select`: prints the chosen member as JSON.
pub fn run(args: &SelectArgs) -> Result<()> {
    let path = if args.front.is_dir() {
        args.front.join("front.json")
    } else {
        args.front.clone()
    };
    let Front {
        names,
        members,
        full,
    } = read_front(&path)?;
    let column = |name: &str| -> Result<usize> {
        names.iter().position(|n| n == name).with_context(|| {
            format!(
                "the front has no `{name}` objective (it has {})",
                names.join(", ")
            )
        })
    };
    let error = column("error")?;
    let mut limits = Vec::new();
    if let Some(v) = args.max_params {
        limits.push((column("params")?, v));
    }
    if let Some(v) = args.max_latency_ms {
        limits.push((column("latency")?, v));
    }
    if let Some(v) = args.max_macs {
        limits.push((column("macs")?, v));
    }
    if limits.is_empty() && args.max_error_increase.is_none() {
        bail!("give a budget: --max-params, --max-latency-ms, --max-macs or --max-error-increase");
    }
    let best_error = full.map_or_else(
        || {
            members
                .iter()
                .map(|m| m.values[error])
                .fold(f64::INFINITY, f64::min)
        },
        |f| f[error],
    );
    let feasible: Vec<&Member> = members
        .iter()
        .filter(|m| limits.iter().all(|&(c, v)| m.values[c] <= v))
        .filter(|m| {
            args.max_error_increase
                .is_none_or(|d| m.values[error] <= best_error + d)
        })
        .collect();
    let chosen = if limits.is_empty() {
        // Within the error budget: the smallest by the other objective.
        let other = (0..names.len()).find(|&c| c != error).unwrap_or(error);
        feasible
            .into_iter()
            .min_by(|a, b| a.values[other].total_cmp(&b.values[other]))
    } else {
        feasible
            .into_iter()
            .min_by(|a, b| a.values[error].total_cmp(&b.values[error]))
    };
    let Some(m) = chosen else {
        bail!(
            "no member of the front ({} sub-networks) fits the budget",
            members.len()
        );
    };
    eprintln!("lopper: selected trial {}: {}", m.id, m.summary);
    let text = serde_json::to_string_pretty(&m.entry)?;
    if let Some(out) = &args.out {
        std::fs::write(out, format!("{text}\n"))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    println!("{text}");
    Ok(())
}

/// A front as `front.json` holds it.
struct Front {
    /// The objectives' names.
    names: Vec<String>,
    members: Vec<Member>,
    /// The unpruned network's values, when the front records them.
    full: Option<Vec<f64>>,
}

fn read_front(path: &Path) -> Result<Front> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let names: Vec<String> = doc["objectives"]
        .as_array()
        .with_context(|| format!("{}: no objectives (not a lopper front)", path.display()))?
        .iter()
        .map(|o| o["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut members = Vec::new();
    for e in doc["front"]
        .as_array()
        .with_context(|| format!("{}: no front", path.display()))?
    {
        let values: Vec<f64> = e["values"]
            .as_array()
            .map(|v| v.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default();
        if values.len() != names.len() {
            bail!(
                "{}: a member has {} values for {} objectives",
                path.display(),
                values.len(),
                names.len()
            );
        }
        members.push(Member {
            id: e["id"].as_u64().unwrap_or_default(),
            summary: e["summary"].as_str().unwrap_or_default().to_string(),
            values,
            entry: e.clone(),
        });
    }
    if members.is_empty() {
        bail!("{}: the front is empty", path.display());
    }
    let full = doc["full"]["values"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(serde_json::Value::as_f64)
                .collect::<Vec<_>>()
        })
        .filter(|v| v.len() == names.len());
    Ok(Front {
        names,
        members,
        full,
    })
}
