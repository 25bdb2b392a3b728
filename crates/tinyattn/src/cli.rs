//! Command-line parsing and dispatch. Errors reach the user as one `error:` line with its
//! causes, never as a panic.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use tinyattn_corpus::{LinkKind, SplitSizes};

use crate::checkpoint::Checkpoints;
use crate::config::{DeviceChoice, JobConfig};
use crate::eval;
use crate::inspect;
use crate::plots;
use crate::render::{self, HeadRef};
use crate::run::LoadedRun;
use crate::train::{self, Overrides, Summary};
use burn::tensor::Device;

/// The job `cargo run --release` runs with no arguments.
const DEFAULT_CONFIG: &str = "configs/default.toml";

/// Train a tiny transformer and show its attention learning real links.
#[derive(Debug, Parser)]
#[command(name = "tinyattn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a job described by a TOML config file.
    Train(TrainArgs),
    /// Measure whether attention heads find the gold links, against baselines and by ablation.
    Eval(EvalArgs),
    /// Show a trained model's attention on sentences: terminal, PNG, HTML viewer, BertViz JSON.
    Inspect(InspectArgs),
    /// Print training and forward throughput at three model sizes, and attention timings.
    Bench {
        /// Where to run: flex (CPU) or wgpu.
        #[arg(long, value_enum, default_value = "flex")]
        device: DeviceChoice,
        /// Timed steps per size (after two warm-up steps).
        #[arg(long, default_value_t = 20)]
        steps: usize,
        /// Only these sizes (tiny, small, medium); all by default.
        #[arg(long, value_delimiter = ',')]
        sizes: Vec<String>,
        /// Also time attention alone for sequence lengths 32 to 1024.
        #[arg(long)]
        attention: bool,
        /// Also run the PyTorch reference of the same model (scripts/torch_bench.py) with this
        /// Python, on as many threads, and print the ratios. It needs `pip install torch`.
        #[arg(long, value_name = "PYTHON")]
        torch: Option<PathBuf>,
    },
    /// Write a run's training curves (loss.png, links.png) into its folder.
    Plot {
        /// The run folder.
        #[arg(long)]
        run: PathBuf,
    },
    /// Generate, check and measure the link corpus (see data/README.md).
    #[command(subcommand)]
    Corpus(CorpusCommand),
}

#[derive(Debug, clap::Args)]
struct EvalArgs {
    /// The run folder of a finished training job.
    #[arg(long)]
    run: PathBuf,
    /// Sentences with gold links (JSONL, see data/README.md); hand-written files work too.
    #[arg(long, default_value = "data/generalization.jsonl")]
    data: PathBuf,
    /// Print one JSON document instead of the tables.
    #[arg(long)]
    json: bool,
    /// Skip the head ablation (faster).
    #[arg(long)]
    no_ablation: bool,
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// The run folder of a finished training job.
    #[arg(long)]
    run: PathBuf,
    /// Sentences to read (quote each one).
    #[arg(required = true)]
    sentences: Vec<String>,
    /// Show this layer (0-based) instead of the best link heads; needs --head.
    #[arg(long, requires = "head")]
    layer: Option<usize>,
    /// Show this head (0-based) of --layer.
    #[arg(long, requires = "layer")]
    head: Option<usize>,
    /// Replace word I (0-based, after normalisation) with [MASK] before reading.
    #[arg(long, value_name = "I")]
    mask: Option<usize>,
    /// Write a PNG grid of every layer × head (one file per sentence: FILE, FILE-2, …).
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Write a self-contained HTML viewer with every sentence.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write BertViz's input ({"tokens", "attention"}; an array of them for several sentences).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Refuse words outside the vocabulary instead of warning and reading them as [UNK].
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Subcommand)]
enum CorpusCommand {
    /// Write train.jsonl, valid.jsonl and generalization.jsonl from the seeded grammar.
    Generate {
        /// Seed of the grammar's random choices: the same seed gives byte-identical files.
        #[arg(long, default_value_t = tinyattn_corpus::DEFAULT_SEED)]
        seed: u64,
        /// Folder to write the three files into.
        #[arg(long, default_value = "data")]
        out: PathBuf,
        /// Training sentences.
        #[arg(long, default_value_t = SplitSizes::default().train)]
        train: usize,
        /// Validation sentences.
        #[arg(long, default_value_t = SplitSizes::default().valid)]
        valid: usize,
        /// Generalization sentences (held-out combinations).
        #[arg(long, default_value_t = SplitSizes::default().generalization)]
        generalization: usize,
    },
    /// Check JSONL files against the format; errors name the file and line.
    Validate {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// How far position alone gets: best fixed offset, nearest preceding noun, first noun.
    Baselines {
        /// A JSONL file in the corpus format.
        file: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// The job file, e.g. configs/default.toml.
    #[arg(long)]
    config: PathBuf,
    /// Which device trains: auto (a GPU if there is one, else the CPU), wgpu, or flex (CPU).
    #[arg(long, value_enum)]
    device: Option<DeviceChoice>,
    /// Run folder, instead of the config's `run.out_dir`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seed, instead of the config's `train.seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Steps, instead of the config's `train.steps`.
    #[arg(long)]
    steps: Option<usize>,
    /// Continue the run in the output folder from its latest checkpoint.
    #[arg(long)]
    resume: bool,
}

impl TrainArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            device: self.device,
            out: self.out.clone(),
            seed: self.seed,
            steps: self.steps,
        }
    }
}

/// Parses the arguments, runs the command, and turns the outcome into an exit code:
/// 0 done, 1 error, 130 interrupted by Ctrl-C (after saving a checkpoint).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&stop);
    if let Err(err) = ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst)) {
        eprintln!("warning: Ctrl-C will not save a checkpoint: {err}");
    }
    match run(cli, &stop) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", error_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause once: library errors already name their
/// underlying error in their own message, so a plain `{:#}` would repeat it.
fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn run(cli: Cli, stop: &AtomicBool) -> Result<ExitCode> {
    let stop = |_step: usize| stop.load(Ordering::SeqCst);
    match cli.command {
        Some(Command::Train(args)) => {
            let summary = train::train(&args.config, &args.overrides(), args.resume, &stop)?;
            Ok(report(&summary, &args.config))
        }
        Some(Command::Eval(args)) => {
            let device = Device::flex();
            let run = LoadedRun::open(&args.run, &device)?;
            let sentences = tinyattn_corpus::read_jsonl(&args.data)?;
            run.check_sentences(&sentences, &args.data)?;
            let report = eval::evaluate(&run, &sentences, &args.data, !args.no_ablation, &device);
            match args.json {
                true => println!("{}", serde_json::to_string_pretty(&report)?),
                false => print!("{report}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Inspect(args)) => {
            inspect(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Bench {
            device,
            steps,
            sizes,
            attention,
            torch,
        }) => {
            bench(device, steps, &sizes, attention, torch.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Plot { run }) => {
            let job = JobConfig::load(&run.join("config.toml"))?;
            for path in plots::write(&run, &train::probe_sentences(&job)?)? {
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Corpus(command)) => {
            corpus(command)?;
            Ok(ExitCode::SUCCESS)
        }
        None => default_job(&stop),
    }
}

/// The sentences the demo shows: one word changes which noun `it` refers to.
const DEMO_SENTENCES: [&str; 2] = [
    "the animal did not cross the street because it was too tired",
    "the animal did not cross the street because it was too wide",
];

/// `tinyattn` with no arguments: train the demo job (or reuse a finished run of it, or resume an
/// interrupted one), then show what its attention learned.
fn default_job(stop: &dyn Fn(usize) -> bool) -> Result<ExitCode> {
    let config = PathBuf::from(DEFAULT_CONFIG);
    let job = JobConfig::load(&config)?;
    let run_dir = &job.run.out_dir;
    if run_dir.join("model.bpk").is_file() {
        println!(
            "{} already holds a finished run of {}; showing it (delete the folder to train again)",
            run_dir.display(),
            config.display()
        );
    } else {
        let resume = Checkpoints::new(run_dir).latest()?.is_some();
        let summary = train::train(&config, &Overrides::default(), resume, stop)?;
        if summary.interrupted {
            return Ok(report(&summary, &config));
        }
        report(&summary, &config);
    }
    demo(run_dir, &job)
}

/// The link table on the generalization split, the two demo sentences in the terminal, and
/// `report.html` with those, some probe sentences and the evaluation.
fn demo(run_dir: &std::path::Path, job: &JobConfig) -> Result<ExitCode> {
    let device = Device::flex();
    let run = LoadedRun::open(run_dir, &device)?;
    let data = job
        .data
        .valid
        .with_file_name(tinyattn_corpus::GENERALIZATION_FILE);
    let sentences = tinyattn_corpus::read_jsonl(&data)?;
    run.check_sentences(&sentences, &data)?;
    let evaluation = eval::evaluate(&run, &sentences, &data, true, &device);
    println!("\n{evaluation}");

    let pronoun_head = evaluation
        .kinds
        .iter()
        .find(|k| k.kind == LinkKind::PronounAntecedent.name())
        .map(|k| HeadRef {
            layer: k.best_head.layer,
            head: k.best_head.head,
        })
        .unwrap_or(HeadRef { layer: 0, head: 0 });
    let color = use_color();
    let mut shown = Vec::new();
    for text in DEMO_SENTENCES {
        // Read as in evaluation: the pronoun masked, so its row shows where the model looks
        // for what `it` must refer to.
        let words = run.tokenizer.split_text(text)?;
        let it = words.iter().position(|w| w == "it");
        let prepared = inspect::prepare(&run, text, it)?;
        inspect::report_unknown(&prepared, text, false)?;
        let title = format!("{text}   (`it` masked)");
        let attention =
            inspect::attention(&run, &prepared, Some(title.clone()), Vec::new(), &device);
        println!(
            "\nbest pronoun-antecedent head: layer {} head {}",
            pronoun_head.layer, pronoun_head.head
        );
        println!("{}", render::terminal(&attention, pronoun_head, color)?);
        shown.push(attention);
    }
    for sentence in sentences.iter().take(8) {
        let Some(link) = sentence.links.first() else {
            continue;
        };
        let text = sentence.words.join(" ");
        let prepared = inspect::prepare(&run, &text, Some(link.from))?;
        let title = format!(
            "{}: {} → {} ({} masked)",
            link.kind,
            sentence.words[link.from],
            sentence.words[link.to],
            sentence.words[link.from]
        );
        shown.push(inspect::attention(
            &run,
            &prepared,
            Some(title),
            vec![(link.from, link.to)],
            &device,
        ));
    }
    let mut sections = vec![render::HtmlSection {
        title: format!("Evaluation on {}", data.display()),
        png_base64: None,
        html: format!("<pre>{}</pre>", escape_html(&evaluation.to_string())),
    }];
    for (name, chart) in plots::charts(run_dir, &train::probe_sentences(job)?)? {
        sections.push(render::HtmlSection {
            title: format!("Training: {name}"),
            png_base64: Some(render::png_base64(&chart)?),
            html: String::new(),
        });
    }
    let report_path = run_dir.join("report.html");
    inspect::write(&report_path, render::html(&shown, &sections)?.as_bytes())?;
    println!("wrote {} (open it in a browser)", report_path.display());
    Ok(ExitCode::SUCCESS)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn inspect(args: &InspectArgs) -> Result<()> {
    let device = Device::flex();
    let run = LoadedRun::open(&args.run, &device)?;
    let (layers, heads) = (run.model.n_layers(), run.model.n_heads());
    let shown: Vec<(String, HeadRef)> = match (args.layer, args.head) {
        (Some(layer), Some(head)) => {
            if layer >= layers || head >= heads {
                bail!(
                    "--layer {layer} --head {head}: the model has {layers} layers of {heads} heads (0-based)"
                );
            }
            vec![(
                format!("layer {layer} head {head}"),
                HeadRef { layer, head },
            )]
        }
        _ => {
            let mut best: Vec<(String, HeadRef)> = Vec::new();
            for (kind, head) in inspect::best_heads(&run, &device)? {
                match best.iter_mut().find(|(_, h)| *h == head) {
                    Some((label, _)) => label.push_str(&format!(" and {kind}")),
                    None => best.push((format!("best {kind} head"), head)),
                }
            }
            best
        }
    };
    let color = use_color();
    let mut all = Vec::new();
    for text in &args.sentences {
        let prepared = inspect::prepare(&run, text, args.mask)?;
        inspect::report_unknown(&prepared, text, args.strict)?;
        let attention = inspect::attention(
            &run,
            &prepared,
            Some(prepared.words.join(" ")),
            Vec::new(),
            &device,
        );
        for (label, head) in &shown {
            println!("{label}: layer {} head {}", head.layer, head.head);
            println!("{}", render::terminal(&attention, *head, color)?);
        }
        all.push(attention);
    }
    if let Some(png) = &args.png {
        for (n, attention) in all.iter().enumerate() {
            let path = numbered(png, n);
            render::png(attention, &path)?;
            println!("wrote {}", path.display());
        }
    }
    if let Some(html) = &args.html {
        inspect::write(html, render::html(&all, &[])?.as_bytes())?;
        println!("wrote {}", html.display());
    }
    if let Some(json) = &args.json {
        let documents: Vec<serde_json::Value> = all.iter().map(render::bertviz_json).collect();
        let document = match documents.len() {
            1 => documents.into_iter().next().unwrap_or_default(),
            _ => serde_json::Value::Array(documents),
        };
        inspect::write(json, serde_json::to_string(&document)?.as_bytes())?;
        println!("wrote {}", json.display());
    }
    Ok(())
}

/// `report.png` for the first sentence, then `report-2.png`, `report-3.png`, ….
fn numbered(path: &std::path::Path, n: usize) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{}.{}", n + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", n + 1),
    };
    path.with_file_name(name)
}

fn bench(
    device: DeviceChoice,
    steps: usize,
    sizes: &[String],
    attention: bool,
    torch: Option<&std::path::Path>,
) -> Result<()> {
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    for name in sizes {
        if !crate::bench::SIZES.iter().any(|s| s.name == name) {
            bail!("--sizes: unknown size {name:?}; the sizes are tiny, small and medium");
        }
    }
    let sizes: Vec<&crate::bench::Size> = crate::bench::SIZES
        .iter()
        .filter(|s| sizes.is_empty() || sizes.iter().any(|n| n == s.name))
        .collect();
    let selected = crate::device::select(device)?;
    // flex runs on rayon's pool, which RAYON_NUM_THREADS sizes and otherwise fills every core.
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n: &usize| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    let peak = crate::bench::matmul_peak_flops(&selected.device);
    println!("device: {}, {threads} threads", selected.description);
    println!(
        "matmul peak (best 1024³ f32 product): {:.1} GFLOP/s; MFU = training model FLOP/s / peak",
        peak / 1e9
    );
    let results: Vec<_> = sizes
        .iter()
        .map(|size| crate::bench::throughput(size, &selected.device, steps))
        .collect();
    let names: Vec<&str> = sizes.iter().map(|s| s.name).collect();
    let reference = torch
        .map(|python| crate::bench::torch_throughput(python, &names, steps, threads))
        .transpose()?;
    let mfu = |size: &crate::bench::Size, tokens_per_s: f64| {
        format!(
            "{:.1}%",
            100.0 * tokens_per_s * size.train_flops_per_token() / peak
        )
    };
    print!(
        "{:<8} {:>12} {:>6} {:>14} {:>9}",
        "size", "train tok/s", "MFU", "forward tok/s", "peak MiB"
    );
    match &reference {
        Some(r) => println!(
            " | torch {} train {:>6} ratio  forward  ratio",
            r.torch, "MFU"
        ),
        None => println!(),
    }
    for (size, t) in sizes.iter().zip(&results) {
        print!(
            "{:<8} {:>12.0} {:>6} {:>14.0} {:>9}",
            size.name,
            t.train_tokens_per_s,
            mfu(size, t.train_tokens_per_s),
            t.forward_tokens_per_s,
            t.peak_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "-".into())
        );
        match reference.as_ref().and_then(|r| r.sizes.get(size.name)) {
            Some(p) => println!(
                " | {:>17.0} {:>6} {:>5.2} {:>8.0} {:>6.2}",
                p.train_tokens_per_s,
                mfu(size, p.train_tokens_per_s),
                t.train_tokens_per_s / p.train_tokens_per_s,
                p.forward_tokens_per_s,
                t.forward_tokens_per_s / p.forward_tokens_per_s
            ),
            None => println!(),
        }
    }
    if attention {
        println!(
            "\nattention, batch 4, d_model 128, 4 heads: ms per call, forward / forward+backward"
        );
        println!(
            "{:>6} {:>18} {:>18} {:>18} {:>18}",
            "seq", "tinyattn", "tinyattn+weights", "burn fused", "burn-nn"
        );
        for seq in [32, 64, 128, 256, 512, 1024] {
            let cells: Vec<String> = crate::bench::attention_ms(seq, &selected.device, 5)
                .iter()
                .map(|(f, b)| format!("{f:.2} / {b:.2}"))
                .collect();
            println!(
                "{seq:>6} {:>18} {:>18} {:>18} {:>18}",
                cells[0], cells[1], cells[2], cells[3]
            );
        }
    }
    Ok(())
}

/// Colour on a terminal, unless `NO_COLOR` is set (no-color.org).
fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn corpus(command: CorpusCommand) -> Result<()> {
    match command {
        CorpusCommand::Generate {
            seed,
            out,
            train,
            valid,
            generalization,
        } => {
            let sizes = SplitSizes {
                train,
                valid,
                generalization,
            };
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let splits = tinyattn_corpus::regenerate(&out, seed, sizes)?;
            for (name, split) in [
                (tinyattn_corpus::TRAIN_FILE, &splits.train),
                (tinyattn_corpus::VALID_FILE, &splits.valid),
                (tinyattn_corpus::GENERALIZATION_FILE, &splits.generalization),
            ] {
                println!("{}: {}", out.join(name).display(), describe(split));
            }
        }
        CorpusCommand::Validate { files } => {
            for file in files {
                let sentences = tinyattn_corpus::read_jsonl(&file)?;
                println!("{}: ok, {}", file.display(), describe(&sentences));
            }
        }
        CorpusCommand::Baselines { file } => {
            let sentences = tinyattn_corpus::read_jsonl(&file)?;
            println!("{}: {}", file.display(), describe(&sentences));
            print!("{}", tinyattn_corpus::baselines(&sentences));
        }
    }
    Ok(())
}

/// "N sentences, N subject-verb links, N pronoun-antecedent links".
fn describe(sentences: &[tinyattn_corpus::Sentence]) -> String {
    let count = |kind| {
        sentences
            .iter()
            .flat_map(|s| &s.links)
            .filter(|l| l.kind == kind)
            .count()
    };
    format!(
        "{} sentences, {} subject-verb links, {} pronoun-antecedent links",
        sentences.len(),
        count(LinkKind::SubjectVerb),
        count(LinkKind::PronounAntecedent)
    )
}

fn report(summary: &Summary, config: &std::path::Path) -> ExitCode {
    if summary.interrupted {
        println!(
            "interrupted at step {}: checkpoint saved in {}; continue with `tinyattn train --config {} --out {} --resume`",
            summary.step,
            summary.run_dir.join("checkpoints").display(),
            config.display(),
            summary.run_dir.display()
        );
        return ExitCode::from(130);
    }
    if summary.last_loss.is_nan() {
        println!(
            "{} had already reached step {}: nothing to train (raise --steps to go on)",
            summary.run_dir.display(),
            summary.step
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "trained {} steps in {:.1}s: last loss {:.4}; run folder {}",
        summary.step,
        summary.elapsed.as_secs_f64(),
        summary.last_loss,
        summary.run_dir.display()
    );
    let target = 100.0 * train::LINK_TARGET;
    for link in summary.evaluation.iter().flat_map(|e| &e.links) {
        match summary
            .links_found
            .iter()
            .find(|(kind, ..)| *kind == link.kind)
        {
            Some((_, step, at)) => println!(
                "{}: the best head reached {target:.0}% on the probe sentences at step {step}, \
                 {:.1}s into training",
                link.kind,
                at.as_secs_f64()
            ),
            None => println!(
                "{}: the best head has not reached {target:.0}% on the probe sentences ({:.1}% at the end)",
                link.kind,
                100.0 * link.argmax_accuracy
            ),
        }
    }
    ExitCode::SUCCESS
}
