//! Tests of the generated corpus as a whole and of JSONL reading.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use super::*;
use crate::lexicon::adjective_fits;

/// The committed files' splits, generated once for all tests that need them.
static DEFAULT: LazyLock<Splits> =
    LazyLock::new(|| generate(DEFAULT_SEED, SplitSizes::default()).expect("default splits"));

fn small(seed: u64) -> Splits {
    let sizes = SplitSizes {
        train: 3000,
        valid: 500,
        generalization: 500,
    };
    generate(seed, sizes).expect("small splits")
}

fn all(splits: &Splits) -> impl Iterator<Item = &Sentence> {
    splits
        .train
        .iter()
        .chain(&splits.valid)
        .chain(&splits.generalization)
}

/// A scratch directory unique to one test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("tinyattn-corpus-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creates temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir must not fail the test.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn noun(sentence: &Sentence, position: usize) -> NounInfo {
    noun_info(&sentence.words[position])
        .unwrap_or_else(|| panic!("{:?} at {position} is not a noun", sentence.text))
}

fn nouns_before(sentence: &Sentence, end: usize) -> impl Iterator<Item = (usize, NounInfo)> + '_ {
    sentence.words[..end]
        .iter()
        .enumerate()
        .filter_map(|(i, w)| noun_info(w).map(|n| (i, n)))
}

/// The adjective of a Winograd reason clause "PRON seemed/looked too ADJ",
/// if the pronoun at `from` starts one.
fn winograd_predicate(sentence: &Sentence, from: usize) -> Option<&str> {
    let w = &sentence.words;
    let verb = w.get(from + 1)?;
    (matches!(verb.as_str(), "seemed" | "looked") && w.get(from + 2)? == "too")
        .then(|| w.get(from + 3).map(String::as_str))
        .flatten()
}

/// Checks one link against the lexicon and the frame rules, returning whether
/// it is a Winograd link.
fn check_link(sentence: &Sentence, link: &Link) -> bool {
    let text = &sentence.text;
    assert!(link.to < link.from, "target after dependent in {text:?}");
    let target = noun(sentence, link.to);
    let between = || {
        nouns_before(sentence, link.from)
            .filter(|(i, _)| *i > link.to)
            .map(|(_, n)| n)
    };
    let dependent = sentence.words[link.from].as_str();
    match link.kind {
        LinkKind::SubjectVerb => {
            assert_eq!(word_class(dependent), WordClass::Verb, "{text:?}");
            assert_eq!(verb_number(dependent), Some(target.number), "{text:?}");
            let attractors = between().filter(|n| n.number != target.number).count();
            assert_eq!(link.attractors, attractors, "{text:?}");
            false
        }
        LinkKind::PronounAntecedent => {
            assert_eq!(word_class(dependent), WordClass::Pronoun, "{text:?}");
            assert_eq!(
                pronoun_form(dependent),
                Some(target.pronoun_form()),
                "{text:?}"
            );
            assert_eq!(link.attractors, between().count(), "{text:?}");
            match winograd_predicate(sentence, link.from) {
                Some(adjective) => {
                    let fits = adjective_fits(adjective).expect("predicate is an adjective");
                    let fitting: Vec<usize> = nouns_before(sentence, link.from)
                        .filter(|(_, n)| fits.contains(&n.class))
                        .map(|(i, _)| i)
                        .collect();
                    assert_eq!(fitting, vec![link.to], "predicate not unique: {text:?}");
                    true
                }
                None => {
                    check_structural_pronoun(sentence, link);
                    false
                }
            }
        }
    }
}

/// Possessives refer to the subject of the verb just before them; object
/// pronouns in "A V1 B and V2 PRON" refer to B, the first noun after V1.
fn check_structural_pronoun(sentence: &Sentence, link: &Link) {
    let text = &sentence.text;
    let subject_of = |verb: usize| {
        sentence
            .links
            .iter()
            .find(|l| l.kind == LinkKind::SubjectVerb && l.from == verb)
            .map(|l| l.to)
    };
    let verb = link.from - 1;
    let subject = subject_of(verb).unwrap_or_else(|| panic!("no verb before pronoun: {text:?}"));
    if matches!(sentence.words[link.from].as_str(), "his" | "its" | "their")
        || sentence
            .words
            .get(link.from + 1)
            .is_some_and(|w| is_noun(w))
    {
        assert_eq!(
            link.to, subject,
            "possessive not bound to subject: {text:?}"
        );
    } else {
        assert_eq!(sentence.words[verb - 1], "and", "{text:?}");
        let first_verb = sentence
            .links
            .iter()
            .filter(|l| l.kind == LinkKind::SubjectVerb && l.to == subject && l.from < verb - 1)
            .map(|l| l.from)
            .max()
            .unwrap_or_else(|| panic!("no first verb: {text:?}"));
        let object = nouns_before(sentence, link.from)
            .map(|(i, _)| i)
            .find(|&i| i > first_verb);
        assert_eq!(Some(link.to), object, "object pronoun not bound: {text:?}");
    }
}

#[test]
fn annotations_agree_with_the_lexicon_and_frames() {
    for splits in [small(1), small(2)] {
        let mut winograd = 0;
        let mut pronouns = 0;
        for sentence in &splits.train {
            for link in &sentence.links {
                let is_winograd = check_link(sentence, link);
                if link.kind == LinkKind::PronounAntecedent {
                    pronouns += 1;
                    winograd += usize::from(is_winograd);
                }
            }
        }
        for sentence in splits.valid.iter().chain(&splits.generalization) {
            for link in &sentence.links {
                check_link(sentence, link);
            }
        }
        let share = winograd as f64 / pronouns as f64;
        assert!(
            share >= 0.3,
            "only {share:.2} of pronoun links are Winograd"
        );
    }
}

#[test]
fn every_finite_verb_with_a_noun_subject_is_linked() {
    for sentence in all(&small(3)) {
        let linked: HashSet<usize> = sentence
            .links
            .iter()
            .filter(|l| l.kind == LinkKind::SubjectVerb)
            .map(|l| l.from)
            .collect();
        for (i, word) in sentence.words.iter().enumerate() {
            if verb_number(word).is_some() {
                assert!(linked.contains(&i), "{i} unlinked in {:?}", sentence.text);
            }
            if pronoun_form(word).is_some() {
                let links = sentence.links.iter().filter(|l| l.from == i).count();
                assert_eq!(links, 1, "pronoun {i} in {:?}", sentence.text);
            }
        }
    }
}

/// In training data the antecedent is the only noun before the pronoun that
/// takes that pronoun, so the masked form can only come from the antecedent.
#[test]
fn training_pronouns_have_a_unique_candidate_of_their_form() {
    let splits = small(4);
    for sentence in splits.train.iter().chain(&splits.valid) {
        for link in sentence
            .links
            .iter()
            .filter(|l| l.kind == LinkKind::PronounAntecedent)
        {
            let form = pronoun_form(&sentence.words[link.from]);
            let same_form: Vec<usize> = nouns_before(sentence, link.from)
                .filter(|(_, n)| Some(n.pronoun_form()) == form)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(same_form, vec![link.to], "{:?}", sentence.text);
        }
    }
}

#[test]
fn held_out_combinations_are_only_in_generalization() {
    let splits = &*DEFAULT;
    for sentence in splits.train.iter().chain(&splits.valid) {
        for link in &sentence.links {
            assert_eq!(held_out(sentence, link), None, "{:?}", sentence.text);
        }
    }
    let mut kinds = HashSet::new();
    for sentence in &splits.generalization {
        let found: Vec<HeldOut> = sentence
            .links
            .iter()
            .filter_map(|l| held_out(sentence, l))
            .collect();
        assert!(!found.is_empty(), "nothing held out: {:?}", sentence.text);
        kinds.extend(found);
    }
    for lemma in HELD_OUT_SUBJECTS {
        assert!(
            kinds.contains(&HeldOut::AttractedSubject { lemma }),
            "{lemma}"
        );
        // The lemma itself is familiar: training has it as a subject.
        let seen_as_subject = splits.train.iter().any(|s| {
            s.links.iter().any(|l| {
                l.kind == LinkKind::SubjectVerb
                    && noun_info(&s.words[l.to]).map(|n| n.lemma) == Some(lemma)
            })
        });
        assert!(seen_as_subject, "{lemma} never a subject in training");
    }
    assert!(kinds.contains(&HeldOut::SameFormCandidate));
}

#[test]
fn splits_are_disjoint_and_within_limits() {
    let splits = &*DEFAULT;
    let sizes = SplitSizes::default();
    assert_eq!(splits.train.len(), sizes.train);
    assert_eq!(splits.valid.len(), sizes.valid);
    assert_eq!(splits.generalization.len(), sizes.generalization);
    let mut seen = HashSet::new();
    let lexicon: HashSet<&str> = vocabulary().into_iter().collect();
    let train_words: HashSet<&str> = splits
        .train
        .iter()
        .flat_map(|s| s.words.iter().map(String::as_str))
        .collect();
    for sentence in all(splits) {
        assert!(
            seen.insert(sentence.text.as_str()),
            "{:?} twice",
            sentence.text
        );
        assert!(sentence.len() <= MAX_SENTENCE_WORDS, "{:?}", sentence.text);
        assert_eq!(split_text(&sentence.text).expect("splits"), sentence.words);
        for word in &sentence.words {
            assert!(lexicon.contains(word.as_str()), "{word:?} not in lexicon");
            // Evaluation splits never need [UNK] with a tokenizer trained on train.
            assert!(train_words.contains(word.as_str()), "{word:?} not in train");
        }
    }
}

#[test]
fn attractor_counts_cover_zero_to_three() {
    let splits = small(5);
    for sentences in [&splits.train, &splits.generalization] {
        let mut counts: BTreeMap<(LinkKind, usize), usize> = BTreeMap::new();
        for link in sentences.iter().flat_map(|s| &s.links) {
            *counts
                .entry((link.kind, link.attractors.min(3)))
                .or_default() += 1;
        }
        for kind in LinkKind::ALL {
            for attractors in 0..=3 {
                assert!(
                    counts.contains_key(&(kind, attractors)),
                    "no {kind} link with {attractors} attractors: {counts:?}"
                );
            }
        }
    }
}

/// The spec: no position-only baseline above 60 % on an evaluation split, for
/// any link kind; checked on several seeds.
#[test]
fn baselines_stay_below_the_ceiling() {
    for seed in [DEFAULT_SEED, 7, 2024] {
        let sizes = SplitSizes {
            train: 0,
            valid: 1000,
            generalization: 1000,
        };
        let splits = generate(seed, sizes).expect("splits");
        for (name, sentences) in [
            ("valid", &splits.valid),
            ("generalization", &splits.generalization),
        ] {
            let report = baselines(sentences);
            for kind in LinkKind::ALL {
                let k = report.get(kind);
                assert!(
                    k.links() > 200,
                    "seed {seed} {name}: few {kind} links\n{report}"
                );
                assert!(
                    k.best_accuracy() <= 0.60,
                    "seed {seed} {name} {kind}:\n{report}"
                );
            }
        }
    }
}

fn file_bytes(dir: &Path, splits: &Splits) -> Vec<Vec<u8>> {
    write_splits(dir, splits).expect("writes");
    [TRAIN_FILE, VALID_FILE, GENERALIZATION_FILE]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("reads back"))
        .collect()
}

#[test]
fn generation_is_deterministic() {
    let dir = TempDir::new("determinism");
    let first = file_bytes(&dir.0.join("a"), &DEFAULT);
    let again = generate(DEFAULT_SEED, SplitSizes::default()).expect("splits");
    assert_eq!(first, file_bytes(&dir.0.join("b"), &again));
    assert!(
        first[0].len() < 4_000_000,
        "train file {} bytes",
        first[0].len()
    );
    let other = small(DEFAULT_SEED + 1);
    assert_ne!(other.train[..100], DEFAULT.train[..100]);
    assert_ne!(other.generalization[..100], DEFAULT.generalization[..100]);
}

/// data/README.md promises that its regeneration command reproduces the committed files.
#[test]
fn committed_data_is_what_the_generator_writes() {
    let dir = TempDir::new("committed");
    let regenerated = file_bytes(&dir.0, &DEFAULT);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    for (file, bytes) in [TRAIN_FILE, VALID_FILE, GENERALIZATION_FILE]
        .iter()
        .zip(regenerated)
    {
        let committed = std::fs::read(data.join(file)).expect("committed split");
        assert!(
            committed == bytes,
            "data/{file} differs from `tinyattn corpus generate --seed {DEFAULT_SEED}`: regenerate it"
        );
    }
}

#[test]
fn jsonl_round_trip() {
    let dir = TempDir::new("roundtrip");
    let splits = small(6);
    let regenerated = regenerate(
        &dir.0,
        6,
        SplitSizes {
            train: 3000,
            valid: 500,
            generalization: 500,
        },
    )
    .expect("regenerates");
    assert_eq!(regenerated, splits);
    assert_eq!(
        read_jsonl(&dir.0.join(TRAIN_FILE)).expect("reads"),
        splits.train
    );
    assert_eq!(
        read_jsonl(&dir.0.join(GENERALIZATION_FILE)).expect("reads"),
        splits.generalization
    );
}

#[test]
fn hand_written_files_are_accepted() {
    let dir = TempDir::new("handwritten");
    let path = dir.0.join("hand.jsonl");
    let content = concat!(
        r#"{"links": [{"to": 1, "attractors": 1, "from": 5, "kind": "subject-verb"}], "text": "The key to the  Cabinets is here.", "note": "ignored"}"#,
        "\n\n",
        r#"{"words": ["the", "dogs", "sleep", "."], "links": []}"#,
        "\n",
    );
    std::fs::write(&path, content).expect("writes");
    let sentences = read_jsonl(&path).expect("reads");
    assert_eq!(sentences.len(), 2);
    assert_eq!(sentences[0].text, "the key to the cabinets is here .");
    assert_eq!(sentences[0].links[0].from, 5);
    assert_eq!(sentences[1].text, "the dogs sleep .");
}

/// Writes `content` to a file and returns the error reading it gives.
fn read_error(dir: &TempDir, name: &str, content: &str) -> CorpusError {
    let path = dir.0.join(name);
    std::fs::write(&path, content).expect("writes");
    let err = read_jsonl(&path).expect_err("invalid file");
    assert!(err.to_string().contains(name), "{err} lacks the file name");
    err
}

#[test]
fn jsonl_errors_name_file_and_line() {
    let dir = TempDir::new("errors");
    let good = r#"{"words": ["the", "dogs", "sleep", "."], "links": [{"kind": "subject-verb", "from": 2, "to": 1, "attractors": 0}]}"#;
    let line2 = |bad: &str| format!("{good}\n{bad}\n");

    let err = read_error(&dir, "malformed.jsonl", &line2(r#"{"words": ["the""#));
    assert!(matches!(err, CorpusError::Json { line: 2, .. }), "{err}");

    let err = read_error(
        &dir,
        "nolinks.jsonl",
        &line2(r#"{"words": ["the", "dogs"]}"#),
    );
    assert!(matches!(err, CorpusError::Json { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("links"), "{err}");

    let unknown_kind = r#"{"words": ["the", "dogs", "sleep"], "links": [{"kind": "verb-object", "from": 2, "to": 1, "attractors": 0}]}"#;
    let err = read_error(&dir, "kind.jsonl", &line2(unknown_kind));
    assert!(matches!(err, CorpusError::Json { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("verb-object"), "{err}");

    let no_from = r#"{"words": ["the", "dogs", "sleep"], "links": [{"kind": "subject-verb", "to": 1, "attractors": 0}]}"#;
    let err = read_error(&dir, "nofrom.jsonl", &line2(no_from));
    assert!(err.to_string().contains("from"), "{err}");

    let cases: [(&str, &str, SentenceError); 6] = [
        (
            "range.jsonl",
            r#"{"words": ["the", "dogs", "sleep"], "links": [{"kind": "subject-verb", "from": 3, "to": 1, "attractors": 0}]}"#,
            SentenceError::LinkOutOfRange {
                index: 0,
                from: 3,
                to: 1,
                len: 3,
            },
        ),
        (
            "self.jsonl",
            r#"{"words": ["the", "dogs", "sleep"], "links": [{"kind": "subject-verb", "from": 1, "to": 1, "attractors": 0}]}"#,
            SentenceError::SelfLink {
                index: 0,
                position: 1,
            },
        ),
        (
            "mismatch.jsonl",
            r#"{"text": "the dog sleeps", "words": ["the", "dogs", "sleep"], "links": []}"#,
            SentenceError::TextMismatch {
                from_text: vec!["the".into(), "dog".into(), "sleeps".into()],
            },
        ),
        (
            "upper.jsonl",
            r#"{"words": ["The", "dogs", "sleep"], "links": []}"#,
            SentenceError::NotNormalised {
                index: 0,
                word: "The".into(),
                normalised: vec!["the".into()],
            },
        ),
        (
            "nowords.jsonl",
            r#"{"words": [], "links": []}"#,
            SentenceError::NoWords,
        ),
        (
            "neither.jsonl",
            r#"{"links": []}"#,
            SentenceError::NoWordsOrText,
        ),
    ];
    for (name, bad, expected) in cases {
        match read_error(&dir, name, &line2(bad)) {
            CorpusError::InvalidSentence { line, problem, .. } => {
                assert_eq!((line, problem), (2, expected), "{name}");
            }
            other => panic!("{name}: {other}"),
        }
    }

    let duplicate = r#"{"words": ["the", "dogs", "sleep"], "links": [{"kind": "subject-verb", "from": 2, "to": 1, "attractors": 0}, {"kind": "subject-verb", "from": 2, "to": 0, "attractors": 0}]}"#;
    let err = read_error(&dir, "duplicate.jsonl", duplicate);
    assert!(
        matches!(
            err,
            CorpusError::InvalidSentence {
                line: 1,
                problem: SentenceError::DuplicateDependent { .. },
                ..
            }
        ),
        "{err}"
    );

    for (name, content) in [("empty.jsonl", ""), ("blank.jsonl", "\n  \n")] {
        let err = read_error(&dir, name, content);
        assert!(matches!(err, CorpusError::EmptyFile { .. }), "{err}");
    }
    let err = read_jsonl(&dir.0.join("absent.jsonl")).expect_err("no file");
    assert!(matches!(err, CorpusError::Io { .. }) && err.to_string().contains("absent.jsonl"));
}

/// Property: no file makes the JSONL reader panic — mutated corpus lines and random bytes are
/// either read or refused with an error naming the file.
#[test]
fn no_input_makes_the_jsonl_reader_panic() {
    use rand::{Rng, SeedableRng};
    let dir = TempDir::new("fuzz");
    let path = dir.0.join("fuzz.jsonl");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let lines: Vec<String> = DEFAULT.valid[..20]
        .iter()
        .map(|s| serde_json::to_string(s).expect("serialises"))
        .collect();
    let alphabet: Vec<char> = "{}[]:,\"0123456789-. abcfkmnorstwx\\\n\u{0}é"
        .chars()
        .collect();
    for round in 0..1500 {
        let text: String = match round % 4 {
            0 => (0..rng.random_range(0..120))
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect(),
            _ => {
                let mut chars: Vec<char> = lines[round % lines.len()].chars().collect();
                for _ in 0..rng.random_range(1..5) {
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
        std::fs::write(&path, text).expect("writes");
        if let Err(err) = read_jsonl(&path) {
            assert!(err.to_string().contains("fuzz.jsonl"), "{err}");
        }
    }
}
