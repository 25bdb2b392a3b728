//! End-to-end training: the tiny job on flex (and on wgpu where an adapter exists), checkpoint
//! round trips, resume equivalence, and the `tinyattn` binary's behaviour on good and bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::config::Config;
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Device, Int, Tensor, TensorData};
use tinyattn::config::DeviceChoice;
use tinyattn::train::{Overrides, train};
use tinyattn_model::{ModelInput, TransformerConfig};

const TINY: &str = "configs/tiny.toml";

/// The workspace root: configs and data paths in the job files are relative to it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn in_root() {
    std::env::set_current_dir(root()).expect("workspace root");
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyattn-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn overrides(out: &Path) -> Overrides {
    Overrides {
        out: Some(out.to_path_buf()),
        ..Overrides::default()
    }
}

fn never(_: usize) -> bool {
    false
}

fn metric_lines(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .expect("metrics.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// `(step, loss)` of every training log line in a run's metrics.
fn losses(run: &Path) -> Vec<(u64, f64)> {
    metric_lines(run)
        .iter()
        .filter_map(|v| Some((v.get("step")?.as_u64()?, v.get("loss")?.as_f64()?)))
        .collect()
}

/// `(step, validation loss)` of every evaluation, the untrained model's at step 0 first.
fn valid_losses(run: &Path) -> Vec<(u64, f64)> {
    metric_lines(run)
        .iter()
        .filter_map(|v| {
            Some((
                v.get("step")?.as_u64()?,
                v.pointer("/eval/valid_loss")?.as_f64()?,
            ))
        })
        .collect()
}

/// The validation loss falls by at least half a nat (from about ln(vocab) ≈ 5.4).
fn assert_loss_falls(run: &Path) {
    let losses = valid_losses(run);
    let (first, last) = (
        losses.first().expect("an evaluation"),
        losses.last().expect("an evaluation"),
    );
    assert_eq!(
        first.0, 0,
        "no evaluation of the untrained model: {losses:?}"
    );
    assert!(
        last.1 < first.1 - 0.5,
        "validation loss did not fall: {losses:?}"
    );
}

#[test]
fn tiny_job_learns_and_fills_the_run_folder() {
    in_root();
    let out = fresh_dir("tiny");
    let summary = train(Path::new(TINY), &overrides(&out), false, &never).expect("training");
    assert_eq!(summary.step, 60);
    assert!(!summary.interrupted);
    assert_loss_falls(&out);
    for file in [
        "config.toml",
        "tokenizer.json",
        "model.json",
        "metrics.jsonl",
        "model.bpk",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let latest = std::fs::read_to_string(out.join("checkpoints/latest")).expect("latest");
    assert_eq!(latest, "step-000060");
    let evaluation = summary.evaluation.expect("an evaluation ran");
    assert!(evaluation.valid_loss.is_finite());
    let accuracy = evaluation.dependent_accuracy.expect("masked objective");
    assert!((0.0..=1.0).contains(&accuracy));

    // The final weights load back into the recorded shape and give the same logits as the last
    // checkpoint's weights.
    let config = TransformerConfig::load(out.join("model.json")).expect("model.json");
    let device = Device::flex();
    let load = |path: PathBuf| {
        config
            .init(&device)
            .load_record(ModuleRecord::load(path).expect("record"))
    };
    let final_model = load(out.join("model.bpk"));
    let checkpoint_model = load(out.join("checkpoints/step-000060/model.bpk"));
    let tokens: Tensor<2, Int> =
        Tensor::from_data(TensorData::new(vec![5i64, 6, 7, 8, 9, 3], [1, 6]), &device);
    let a = final_model
        .forward(ModelInput::new(tokens.clone()))
        .into_data();
    let b = checkpoint_model
        .forward(ModelInput::new(tokens))
        .into_data();
    assert_eq!(a, b);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn resumed_run_matches_an_uninterrupted_one() {
    in_root();
    let whole = fresh_dir("whole");
    let split = fresh_dir("split");
    train(Path::new(TINY), &overrides(&whole), false, &never).expect("uninterrupted run");

    let stopped = train(Path::new(TINY), &overrides(&split), false, &|step| {
        step == 15
    })
    .expect("first half");
    assert!(stopped.interrupted);
    assert_eq!(stopped.step, 15);
    assert!(
        !split.join("model.bpk").exists(),
        "an interrupted run wrote final weights"
    );
    let resumed = train(Path::new(TINY), &overrides(&split), true, &never).expect("resume");
    assert_eq!(resumed.step, 60);

    // Every logged loss and evaluation equals the uninterrupted run's, bit for bit.
    assert_eq!(losses(&split), losses(&whole));
    assert_eq!(valid_losses(&split), valid_losses(&whole));
    let _ = std::fs::remove_dir_all(whole);
    let _ = std::fs::remove_dir_all(split);
}

#[test]
fn loss_falls_on_wgpu_too() {
    in_root();
    if tinyattn::device::select(DeviceChoice::Wgpu).is_err() {
        assert!(
            std::env::var("TINYATTN_REQUIRE_WGPU").as_deref() != Ok("1"),
            "TINYATTN_REQUIRE_WGPU=1 but no wgpu adapter"
        );
        eprintln!("skipped: no wgpu adapter");
        return;
    }
    let out = fresh_dir("wgpu");
    let overrides = Overrides {
        device: Some(DeviceChoice::Wgpu),
        ..overrides(&out)
    };
    train(Path::new(TINY), &overrides, false, &never).expect("training on wgpu");
    assert_loss_falls(&out);
    let _ = std::fs::remove_dir_all(out);
}

fn tinyattn(args: &[&str]) -> (i32, String, String) {
    tinyattn_with_env(args, &[])
}

/// Runs the binary from the workspace root: exit code, stdout, stderr.
fn tinyattn_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tinyattn"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .expect("run tinyattn");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn cli_trains_and_refuses_to_overwrite_a_run() {
    let out = fresh_dir("cli");
    let out_arg = out.to_string_lossy().into_owned();
    let (code, stdout, stderr) = tinyattn(&[
        "train", "--config", TINY, "--out", &out_arg, "--steps", "12",
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("device: flex (CPU), as asked"), "{stdout}");
    assert!(stdout.contains("trained 12 steps"), "{stdout}");
    assert_eq!(losses(&out).last().map(|l| l.0), Some(12));
    check_time_to_links(&out, &stdout);

    let (code, _, stderr) = tinyattn(&["train", "--config", TINY, "--out", &out_arg]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("already holds a run") && stderr.contains("--resume"),
        "{stderr}"
    );

    check_eval_json(&out_arg);
    check_eval_rejects_unknown_words(&out, &out_arg);
    check_inspect(&out, &out_arg);
    let _ = std::fs::remove_dir_all(out);
}

/// Each evaluation in `metrics.jsonl` carries its time, and the closing lines say per link kind
/// when its best head first reached 95% on the probe sentences, as the evaluations recorded it.
fn check_time_to_links(run: &Path, stdout: &str) {
    let evals: Vec<serde_json::Value> = metric_lines(run)
        .into_iter()
        .filter(|l| l.get("eval").is_some())
        .collect();
    let times: Vec<f64> = evals
        .iter()
        .map(|e| e["elapsed_s"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    for kind in ["subject-verb", "pronoun-antecedent"] {
        let accuracy = |e: &serde_json::Value| {
            e["eval"]["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["kind"] == kind)
                .unwrap()["argmax_accuracy"]
                .as_f64()
                .unwrap()
        };
        let expected = match evals.iter().find(|e| accuracy(e) >= 0.95) {
            Some(e) => format!(
                "{kind}: the best head reached 95% on the probe sentences at step {}",
                e["step"]
            ),
            None => format!(
                "{kind}: the best head has not reached 95% on the probe sentences ({:.1}% at the end)",
                100.0 * accuracy(evals.last().unwrap())
            ),
        };
        assert!(stdout.contains(&expected), "{expected:?} not in {stdout}");
    }
}

// Capitals, a tab, doubled spaces and a glued full stop: normalised as data/README.md says.
const DEMO: &str = "The  animal did not\tcross the street because it was too tired.";

/// `tinyattn inspect` writes a decodable PNG, BertViz-shaped JSON and a self-contained page,
/// and refuses bad sentences with a reason.
fn check_inspect(dir: &Path, run: &str) {
    let (png, html, json) = (dir.join("a.png"), dir.join("a.html"), dir.join("a.json"));
    let (code, stdout, stderr) = tinyattn(&[
        "inspect",
        "--run",
        run,
        DEMO,
        "--mask",
        "8",
        "--png",
        &png.to_string_lossy(),
        "--html",
        &html.to_string_lossy(),
        "--json",
        &json.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    // The normalised sentence: lower case, the full stop split off, `it` masked.
    assert!(
        stdout.contains("the animal did not cross the street because [MASK] was too tired ."),
        "{stdout}"
    );
    assert!(
        stdout.contains("[MASK]") && stdout.contains("→"),
        "no top-3 lines: {stdout}"
    );

    let image = image::open(&png).expect("a PNG").to_rgb8();
    assert!(image.width() > 200 && image.height() > 100);
    let first = image.get_pixel(0, 0);
    assert!(image.pixels().any(|p| p != first), "a blank image");

    let bertviz: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("JSON");
    let tokens = bertviz["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 13);
    let layers = bertviz["attention"].as_array().expect("attention");
    assert_eq!(layers.len(), 1, "the tiny model has one layer");
    let layer = &layers[0];
    assert_eq!(layer.as_array().map(Vec::len), Some(1), "batch dimension");
    assert_eq!(layer[0].as_array().map(Vec::len), Some(2), "heads");
    assert_eq!(layer[0][0].as_array().map(Vec::len), Some(13), "queries");
    let row: f64 = layer[0][0][3]
        .as_array()
        .expect("row")
        .iter()
        .filter_map(|v| v.as_f64())
        .sum();
    assert!((row - 1.0).abs() < 1e-4, "row sums to {row}");

    let page = std::fs::read_to_string(&html).expect("html");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "network reference"
    );

    let long = vec!["the dog"; 20].join(" ");
    for (args, expected) in [
        (vec!["   "], "has no words"),
        (
            vec![long.as_str()],
            "the sentence has 40 words, but the model reads at most 32",
        ),
        (
            vec!["zebras quack"],
            "none of the words of \"zebras quack\" is in the vocabulary",
        ),
        (
            vec!["the zebra is tired", "--strict"],
            "not in the vocabulary: \"zebra\" (word 1)",
        ),
        (
            vec![DEMO, "--mask", "13"],
            "--mask 13: the sentence has 13 words",
        ),
        (
            vec![DEMO, "--layer", "3", "--head", "0"],
            "the model has 1 layers of 2 heads",
        ),
    ] {
        let mut all = vec!["inspect", "--run", run];
        all.extend(args);
        let (code, _, stderr) = tinyattn(&all);
        assert_eq!(code, 1, "{all:?}: {stderr}");
        assert!(stderr.contains(expected), "{all:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (code, _, stderr) = tinyattn(&["inspect", "--run", run, "the zebra is tired"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: not in the vocabulary, read as [UNK]: \"zebra\" (word 1)"),
        "{stderr}"
    );
}

/// `tinyattn eval --json` prints the documented schema (README, "Evaluation JSON").
fn check_eval_json(run: &str) {
    let (code, stdout, stderr) = tinyattn(&["eval", "--run", run, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["query"], "dependent");
    assert_eq!(report["sentences"], 1000);
    let kinds = report["kinds"].as_array().expect("kinds");
    let names: Vec<&str> = kinds.iter().filter_map(|k| k["kind"].as_str()).collect();
    assert_eq!(names, ["subject-verb", "pronoun-antecedent"]);
    for kind in kinds {
        // The tiny job has 1 layer of 2 heads.
        assert_eq!(kind["heads"].as_array().map(Vec::len), Some(2), "{kind}");
        for key in [
            "links",
            "best_head",
            "rollout",
            "baselines",
            "best_head_misses",
            "behaviour",
            "ablation",
        ] {
            assert!(!kind[key].is_null(), "{key} missing in {kind}");
        }
        for head in kind["heads"].as_array().into_iter().flatten() {
            for key in ["layer", "head", "argmax_accuracy", "mean_mass"] {
                assert!(head[key].is_number(), "{key} in {head}");
            }
            let accuracy = head["argmax_accuracy"].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&accuracy));
        }
        let buckets = kind["behaviour"]["by_attractors"]
            .as_array()
            .expect("buckets");
        let links: u64 = buckets.iter().filter_map(|b| b["links"].as_u64()).sum();
        assert_eq!(
            Some(links),
            kind["links"].as_u64(),
            "buckets cover every link"
        );
        for key in ["fixed_offset", "nearest_noun", "first_noun"] {
            let value = kind["baselines"][key].as_f64().unwrap_or(1.0);
            assert!(value <= 0.6, "baseline {key} above 60%: {value}");
        }
    }
}

fn check_eval_rejects_unknown_words(dir: &Path, run: &str) {
    let file = dir.join("hand.jsonl");
    std::fs::write(
        &file,
        r#"{"text": "the zebra is tired .", "links": [{"kind": "subject-verb", "from": 2, "to": 1, "attractors": 0}]}"#,
    )
    .expect("write data");
    let (code, _, stderr) = tinyattn(&["eval", "--run", run, "--data", &file.to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("hand.jsonl:1: \"zebra\""), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn cli_reports_config_errors_without_panicking() {
    let dir = fresh_dir("bad-config");
    let cases = [
        (
            "[optimizer]\nlrr = 0.1\n",
            "`optimizer.lrr`: unknown key; did you mean `optimizer.lr`?",
        ),
        (
            "[model]\nd_model = 30\nn_heads = 4\n",
            "`model.n_heads`: n_heads (4) must divide d_model (30)",
        ),
        (
            "[optimizer]\nlr = 0\n",
            "`optimizer.lr`: must be greater than 0",
        ),
        (
            "[model]\nmax_seq_len = 4\n",
            "`model.max_seq_len` = 4 is shorter than the data",
        ),
    ];
    for (text, expected) in cases {
        let job = write_job(&dir, text);
        let out = dir.join("run").to_string_lossy().into_owned();
        let (code, _, stderr) = tinyattn(&["train", "--config", &job, "--out", &out]);
        assert_eq!(code, 1, "{text}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
        assert!(stderr.contains("job.toml"), "file not named: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            !Path::new(&out).join("checkpoints").exists(),
            "work started despite the error"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn write_job(dir: &Path, text: &str) -> String {
    std::fs::create_dir_all(dir).expect("temp dir");
    let file = dir.join("job.toml");
    std::fs::write(&file, text).expect("write job");
    file.to_string_lossy().into_owned()
}

#[test]
fn diverging_loss_stops_with_an_error_and_keeps_the_checkpoint() {
    let dir = fresh_dir("nan");
    let job = write_job(
        &dir,
        "[model]\nd_model = 32\nn_heads = 2\nn_layers = 1\n\
         [optimizer]\nlr = 1e8\nwarmup_steps = 1\ngrad_clip = 0.0\n\
         [train]\nsteps = 50\nbatch_size = 8\ncheckpoint_every = 1\n[run]\ndevice = \"flex\"\n",
    );
    let out = dir.join("run");
    let (code, _, stderr) = tinyattn(&["train", "--config", &job, "--out", &out.to_string_lossy()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the loss became") && stderr.contains("optimizer.lr"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let latest = std::fs::read_to_string(out.join("checkpoints/latest")).expect("a checkpoint");
    assert!(
        out.join("checkpoints")
            .join(latest.trim())
            .join("state.json")
            .is_file()
    );
    assert!(
        !out.join("model.bpk").exists(),
        "a diverged run wrote final weights"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ctrl_c_saves_a_checkpoint_that_resumes() {
    let dir = fresh_dir("sigint");
    let out = dir.join("run");
    let out_arg = out.to_string_lossy().into_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinyattn"))
        .args([
            "train", "--config", TINY, "--out", &out_arg, "--steps", "100000",
        ])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start tinyattn");
    // Wait until training has logged a step, then interrupt it like a terminal would.
    let started = std::time::Instant::now();
    while losses_if_any(&out).is_empty() {
        assert!(
            started.elapsed().as_secs() < 120,
            "training never logged a step"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let exit = child.wait().expect("tinyattn exits");
    assert_eq!(exit.code(), Some(130), "Ctrl-C should exit with 130");

    let latest = std::fs::read_to_string(out.join("checkpoints/latest")).expect("a checkpoint");
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            out.join("checkpoints")
                .join(latest.trim())
                .join("state.json"),
        )
        .expect("state"),
    )
    .expect("state.json");
    let step = state["step"].as_u64().expect("step");
    assert!(step >= 10, "checkpoint at step {step}");
    let steps = (step + 5).to_string();
    let (code, stdout, stderr) = tinyattn(&[
        "train", "--config", TINY, "--out", &out_arg, "--steps", &steps, "--resume",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("(step {step})")), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

fn losses_if_any(run: &Path) -> Vec<(u64, f64)> {
    match run.join("metrics.jsonl").is_file() {
        true => losses(run),
        false => Vec::new(),
    }
}

/// The tiny job with a checkpoint every 3 steps and enough steps to be killed mid-run.
fn killable_job(dir: &Path) -> String {
    let tiny = std::fs::read_to_string(root().join(TINY)).expect("tiny config");
    let text = tiny
        .replace("steps = 60", "steps = 400")
        .replace("checkpoint_every = 30", "checkpoint_every = 3")
        .replace("eval_every = 30", "eval_every = 100")
        .replace("log_every = 10", "log_every = 1");
    write_job(dir, &text)
}

#[test]
fn killed_runs_resume_from_the_last_complete_checkpoint() {
    use rand::{Rng, SeedableRng};
    let dir = fresh_dir("sigkill");
    let job = killable_job(&dir);
    let out = dir.join("run");
    let out_arg = out.to_string_lossy().into_owned();
    let checkpoints = tinyattn::checkpoint::Checkpoints::new(&out);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut resumed_from = Vec::new();
    for round in 0..3 {
        let resume = checkpoints.latest().expect("latest").is_some();
        let mut args = vec!["train", "--config", &job, "--out", &out_arg];
        if resume {
            args.push("--resume");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_tinyattn"))
            .args(&args)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start tinyattn");
        // Let it train a little (it logs every step), then kill it at a random moment.
        let logged = losses_if_any(&out).len();
        let started = std::time::Instant::now();
        while losses_if_any(&out).len() <= logged + 3 {
            assert!(
                started.elapsed().as_secs() < 120,
                "round {round}: no progress"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(0..400)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");

        // Whatever the moment, `latest` names a complete checkpoint that loads.
        let latest = checkpoints
            .latest()
            .expect("readable")
            .expect("a checkpoint by now");
        let config = TransformerConfig::load(out.join("model.json")).expect("model.json");
        let device = Device::flex().autodiff();
        let (_, _, state) = tinyattn::checkpoint::Checkpoints::load(
            &latest,
            config.init(&device),
            burn::optim::AdamWConfig::new().init(),
        )
        .unwrap_or_else(|err| panic!("round {round}: {err}"));
        resumed_from.push(state.step);
    }
    let (code, stdout, stderr) =
        tinyattn(&["train", "--config", &job, "--out", &out_arg, "--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(out.join("model.bpk").is_file());
    // Every step is logged exactly once, in order, across the four processes.
    let steps: Vec<u64> = losses(&out).iter().map(|l| l.0).collect();
    assert_eq!(
        steps,
        (1..=400).collect::<Vec<u64>>(),
        "resumed from {resumed_from:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn resume_with_a_different_model_names_the_difference() {
    let dir = fresh_dir("differs");
    let out = dir.join("run").to_string_lossy().into_owned();
    let (code, _, stderr) = tinyattn(&["train", "--config", TINY, "--out", &out, "--steps", "8"]);
    assert_eq!(code, 0, "{stderr}");
    let tiny = std::fs::read_to_string(root().join(TINY)).expect("tiny config");
    let job = write_job(&dir, &tiny.replace("d_model = 32", "d_model = 64"));
    let (code, _, stderr) = tinyattn(&["train", "--config", &job, "--out", &out, "--resume"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("model.d_model (32 in the run vs 64 in the job)"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unusable_output_folder_and_missing_runs_are_clear_errors() {
    let dir = fresh_dir("unwritable");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").expect("file");
    let out = file.join("run").to_string_lossy().into_owned();
    let (code, _, stderr) = tinyattn(&["train", "--config", TINY, "--out", &out]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("creating {out}")), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let missing = dir.join("no-run").to_string_lossy().into_owned();
    for command in ["eval", "inspect"] {
        let mut args = vec![command, "--run", &missing];
        if command == "inspect" {
            args.push("the dog is tired");
        }
        let (code, _, stderr) = tinyattn(&args);
        assert_eq!(code, 1);
        assert!(
            stderr.contains(&format!("{missing}: no such run folder")),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `tinyattn` where the Vulkan loader and EGL find no driver at all.
fn tinyattn_without_gpu_drivers(args: &[&str]) -> (i32, String, String) {
    let hidden = "/nonexistent";
    tinyattn_with_env(
        args,
        &[
            ("VK_ICD_FILENAMES", hidden),
            ("VK_DRIVER_FILES", hidden),
            ("__EGL_VENDOR_LIBRARY_FILENAMES", hidden),
        ],
    )
}

#[test]
fn no_adapter_at_all_is_explained_and_auto_falls_back_to_the_cpu() {
    let dir = fresh_dir("no-adapter");
    let out = dir.join("run").to_string_lossy().into_owned();
    let (code, _, stderr) = tinyattn_without_gpu_drivers(&[
        "train", "--config", TINY, "--out", &out, "--device", "wgpu",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--device wgpu: no usable wgpu adapter"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--device flex"),
        "no way out offered: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (code, stdout, stderr) = tinyattn_without_gpu_drivers(&[
        "train", "--config", TINY, "--out", &out, "--device", "auto", "--steps", "6",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("device: flex (CPU): no GPU adapter found"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failed_checkpoint_write_is_named_and_keeps_the_previous_one() {
    let dir = fresh_dir("write-fails");
    let out = dir.join("run");
    let out_arg = out.to_string_lossy().into_owned();
    let job = killable_job(&dir);
    let (code, _, stderr) = tinyattn(&[
        "train", "--config", &job, "--out", &out_arg, "--steps", "12",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // A file where the next checkpoint's temporary folder must go makes that save fail, as a
    // full or read-only disk would.
    let blocker = out.join("checkpoints/.partial-step-000015");
    std::fs::write(&blocker, "in the way").expect("blocker");
    let (code, _, stderr) = tinyattn(&[
        "train", "--config", &job, "--out", &out_arg, "--steps", "20", "--resume",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(".partial-step-000015"),
        "file not named: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let latest = std::fs::read_to_string(out.join("checkpoints/latest")).expect("latest");
    assert_eq!(latest, "step-000012");
    assert!(out.join("checkpoints/step-000012/state.json").is_file());
    let _ = std::fs::remove_dir_all(dir);
}

/// The benchmark runs and prints its table (its numbers are for reading, not asserting).
#[test]
fn bench_prints_throughput() {
    let (code, stdout, stderr) = tinyattn(&[
        "bench", "--device", "flex", "--steps", "1", "--sizes", "tiny",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("tiny"))
        .expect("a tiny row");
    let numbers: Vec<f64> = row
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 3, "{row}");
    assert!(numbers.iter().all(|n| *n > 0.0), "{row}");
    let (code, _, stderr) = tinyattn(&["bench", "--sizes", "huge"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown size \"huge\""), "{stderr}");
}

/// `bench --torch PYTHON` hands the reference script to PYTHON and divides by what it reports.
/// A stand-in "python" checks it was given the script and the run's settings, then answers
/// with fixed numbers, so the ratio printed must be tinyattn's own rate over them.
#[test]
fn bench_compares_with_the_torch_reference() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("torch");
    std::fs::create_dir_all(&dir).unwrap();
    let fake = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_str().unwrap().to_string()
    };
    let answers = fake(
        "answers",
        r#"grep -q scaled_dot_product_attention || exit 3
case "$*" in *"--json --steps 1 --threads 2 --sizes tiny"*) ;; *) exit 4 ;; esac
echo '{"torch": "9.9-fake", "threads": 2, "sizes": {"tiny": {"train_tokens_per_s": 1000.0, "forward_tokens_per_s": 4000.0}}}'"#,
    );
    let (code, stdout, stderr) = tinyattn_with_env(
        &[
            "bench", "--steps", "1", "--sizes", "tiny", "--torch", &answers,
        ],
        &[("RAYON_NUM_THREADS", "2")],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("torch 9.9-fake"), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("tiny"))
        .expect("a tiny row");
    let (ours, theirs) = row.split_once('|').expect("two halves");
    let ours: f64 = ours.split_whitespace().nth(1).unwrap().parse().unwrap();
    let theirs: Vec<&str> = theirs.split_whitespace().collect();
    assert_eq!(theirs[0], "1000", "{row}");
    let ratio: f64 = theirs[2].parse().unwrap();
    assert!((ratio - ours / 1000.0).abs() <= 0.006, "{row}");
    let forward_ratio: f64 = theirs[4].parse().unwrap();
    let forward: f64 = row.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!((forward_ratio - forward / 4000.0).abs() <= 0.006, "{row}");

    let fails = fake(
        "fails",
        "echo \"ModuleNotFoundError: No module named 'torch'\" >&2; exit 1",
    );
    let (code, _, stderr) = tinyattn(&[
        "bench", "--steps", "1", "--sizes", "tiny", "--torch", &fails,
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("No module named 'torch'"), "{stderr}");
    assert!(stderr.contains("-m pip install torch"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
