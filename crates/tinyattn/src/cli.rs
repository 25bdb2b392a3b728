//! Command-line parsing and dispatch. Errors reach the user as one `error:` line with its
//! causes, never as a panic.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tinyattn_corpus::{LinkKind, SplitSizes};

use crate::checkpoint::Checkpoints;
use crate::config::{DeviceChoice, JobConfig};
use crate::eval;
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
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
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
        Some(Command::Corpus(command)) => {
            corpus(command)?;
            Ok(ExitCode::SUCCESS)
        }
        None => default_job(&stop),
    }
}

/// `tinyattn` with no arguments: the demo job, trained once and reused after that.
fn default_job(stop: &dyn Fn(usize) -> bool) -> Result<ExitCode> {
    let config = PathBuf::from(DEFAULT_CONFIG);
    let job = JobConfig::load(&config)?;
    let run_dir = &job.run.out_dir;
    if run_dir.join("model.bpk").is_file() {
        println!(
            "{} already holds a finished run of {}; delete the folder to train again",
            run_dir.display(),
            config.display()
        );
        if let Some((step, evaluation)) = train::last_evaluation(run_dir)? {
            println!("{}", train::describe_evaluation(step, &evaluation));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let resume = Checkpoints::new(run_dir).latest()?.is_some();
    let summary = train::train(&config, &Overrides::default(), resume, stop)?;
    Ok(report(&summary, &config))
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
    println!(
        "trained {} steps in {:.1}s: last loss {:.4}; run folder {}",
        summary.step,
        summary.elapsed.as_secs_f64(),
        summary.last_loss,
        summary.run_dir.display()
    );
    ExitCode::SUCCESS
}
