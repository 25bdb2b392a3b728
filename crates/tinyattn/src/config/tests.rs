use super::*;

fn parse(text: &str) -> Result<JobConfig, ConfigError> {
    JobConfig::parse(text, Path::new("configs/x.toml"))
}

#[test]
fn empty_file_takes_every_default() {
    assert_eq!(parse("").expect("defaults"), JobConfig::default());
}

#[test]
fn given_keys_override_defaults_and_the_rest_stay() {
    let config = parse("[model]\nd_model = 32\n[optimizer]\nlr = 0.01\n").expect("valid");
    assert_eq!(config.model.d_model, 32);
    assert_eq!(config.optimizer.lr, 0.01);
    assert_eq!(config.model.n_heads, ModelSection::default().n_heads);
    assert_eq!(config.train, TrainSection::default());
}

#[test]
fn resolved_config_round_trips_through_toml() {
    let config =
        parse("[data]\nobjective = \"causal\"\n[run]\ndevice = \"flex\"\n").expect("valid");
    assert_eq!(parse(&config.to_toml()).expect("round trip"), config);
}

#[test]
fn unknown_key_is_named_with_the_closest_valid_one() {
    let err = parse("[optimizer]\nlrr = 0.1\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "configs/x.toml: `optimizer.lrr`: unknown key; did you mean `optimizer.lr`?"
    );
    let err = parse("[modle]\nd_model = 8\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "configs/x.toml: `modle`: unknown section; did you mean [model]?"
    );
}

#[test]
fn wrong_type_names_line_and_key() {
    let err = parse("[train]\nsteps = 10\n\n[optimizer]\nlr = \"fast\"\n").unwrap_err();
    assert_eq!(err.line, Some(5));
    assert_eq!(err.key.as_deref(), Some("optimizer.lr"));
    assert!(
        err.to_string()
            .starts_with("configs/x.toml:5: `optimizer.lr`: "),
        "{err}"
    );
}

#[test]
fn not_toml_is_reported_with_its_line() {
    let err = parse("[model]\nd_model = = 3\n").unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.reason.starts_with("not valid TOML"), "{err}");
}

#[test]
fn invalid_values_name_key_and_reason() {
    let cases = [
        (
            "[model]\nd_model = 30\nn_heads = 4\n",
            "model.n_heads",
            "must divide d_model (30)",
        ),
        (
            "[optimizer]\nlr = 0.0\n",
            "optimizer.lr",
            "must be greater than 0",
        ),
        (
            "[optimizer]\nlr = -1e-3\n",
            "optimizer.lr",
            "must be greater than 0",
        ),
        (
            "[optimizer]\nbeta2 = 1.0\n",
            "optimizer.beta2",
            "must be in [0, 1)",
        ),
        (
            "[train]\nbatch_size = 0\n",
            "train.batch_size",
            "must be greater than 0",
        ),
        (
            "[model]\nmax_seq_len = 0\n",
            "model.max_seq_len",
            "must be greater than 0",
        ),
        (
            "[train]\nsteps = 50\n[optimizer]\nwarmup_steps = 50\n",
            "optimizer.warmup_steps",
            "shorter than the run",
        ),
        (
            "[data]\nobjective = \"masked\"\ndependent_mask_prob = 0.0\nword_mask_prob = 0.0\n",
            "data.word_mask_prob",
            "needs something to mask",
        ),
    ];
    for (text, key, reason) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err.key.as_deref(), Some(key), "{text}: {err}");
        assert!(err.reason.contains(reason), "{text}: {err}");
    }
}

#[test]
fn bad_enum_value_lists_the_choices() {
    let err = parse("[data]\nobjective = \"mlm\"\n").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("data.objective"));
    assert!(
        err.reason.contains("masked") && err.reason.contains("causal"),
        "{err}"
    );
}

#[test]
fn missing_file_is_named() {
    let err = JobConfig::load(Path::new("configs/does-not-exist.toml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("configs/does-not-exist.toml: cannot read the file"),
        "{err}"
    );
}

#[test]
fn learning_rate_warms_up_then_decays_to_the_floor() {
    let config = parse(
        "[train]\nsteps = 110\n[optimizer]\nlr = 1.0\nwarmup_steps = 10\nmin_lr_ratio = 0.1\n",
    )
    .expect("valid");
    assert!((config.learning_rate(0) - 0.1).abs() < 1e-12);
    assert!((config.learning_rate(9) - 1.0).abs() < 1e-12);
    assert!((config.learning_rate(10) - 1.0).abs() < 1e-12);
    assert!((config.learning_rate(60) - 0.55).abs() < 1e-12); // halfway down the cosine
    assert!((config.learning_rate(110) - 0.1).abs() < 1e-12);
}

/// Property: no text makes the parser panic — random bytes, and valid jobs with characters
/// deleted, duplicated or replaced. Each input is either accepted or named as an error.
#[test]
fn no_input_makes_the_parser_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let seeds = [
        include_str!("../../../../configs/default.toml"),
        include_str!("../../../../configs/tiny.toml"),
        "[model]\nd_model = 8\nn_heads = 2\n[optimizer]\nlr = 1e-3\n",
    ];
    let alphabet: Vec<char> = "[]=\"'.#\n -_0123456789eE+abcdlrmnotsx\u{0}é"
        .chars()
        .collect();
    for round in 0..3000 {
        let text: String = match round % 3 {
            0 => (0..rng.random_range(0..80))
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect(),
            _ => {
                let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
                for _ in 0..rng.random_range(1..6) {
                    let at = rng.random_range(0..chars.len());
                    match rng.random_range(0..3) {
                        0 => {
                            chars.remove(at);
                        }
                        1 => chars.insert(at, chars[at]),
                        _ => chars[at] = alphabet[rng.random_range(0..alphabet.len())],
                    }
                }
                chars.into_iter().collect()
            }
        };
        if let Err(err) = parse(&text) {
            assert!(err.to_string().starts_with("configs/x.toml"), "{err}");
        }
    }
}
