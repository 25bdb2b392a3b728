//! Word-level tokenizer built with the `tokenizers` crate, saved in its
//! standard `tokenizer.json` format (Python's `Tokenizer.from_file` reads it).
//!
//! Normalisation, in order: Unicode NFKC, then lower-casing. Pre-tokenization:
//! the `Whitespace` pre-tokenizer, i.e. the regex `\w+|[^\w\s]+`, so any run
//! of whitespace separates words and a run of punctuation becomes its own
//! word ("The key, here!" → `the`, `key`, `,`, `here`, `!`; "don't" → `don`,
//! `'`, `t`). The special tokens `[PAD]`, `[UNK]`, `[MASK]` are matched in raw
//! text before normalisation, case-sensitively, so a user can type `[MASK]`.

use std::path::Path;
use std::sync::LazyLock;

use tokenizers::models::TrainerWrapper;
use tokenizers::models::wordlevel::{WordLevel, WordLevelTrainer};
use tokenizers::normalizers::{Lowercase, NFKC, Sequence};
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{
    AddedToken, AddedVocabulary, NormalizerWrapper, OffsetReferential, OffsetType, PreTokenizer,
    PreTokenizerWrapper, Tokenizer,
};

use crate::error::CorpusError;
use crate::sentence::Sentence;

/// Padding token; always id 0 so that zero-initialised buffers are padding.
pub const PAD_TOKEN: &str = "[PAD]";
/// Token for words outside the vocabulary; id 1.
pub const UNK_TOKEN: &str = "[UNK]";
/// Masked-language-model mask; id 2.
pub const MASK_TOKEN: &str = "[MASK]";
const SPECIAL_TOKENS: [&str; 3] = [PAD_TOKEN, UNK_TOKEN, MASK_TOKEN];

fn normalizer() -> NormalizerWrapper {
    Sequence::new(vec![NFKC.into(), Lowercase.into()]).into()
}

fn pre_tokenizer() -> PreTokenizerWrapper {
    Whitespace.into()
}

/// The pipeline without a vocabulary, for checking words before any
/// tokenizer is trained (JSONL validation).
static PIPELINE: LazyLock<(AddedVocabulary, NormalizerWrapper, PreTokenizerWrapper)> =
    LazyLock::new(|| (AddedVocabulary::new(), normalizer(), pre_tokenizer()));

/// Normalises and splits `text` into words exactly as a freshly trained
/// [`WordTokenizer`] does (without recognising special tokens). Corpus words
/// are in this form: `split_text(word) == [word]`.
pub fn split_text(text: &str) -> Result<Vec<String>, CorpusError> {
    let (added, normalizer, pre_tokenizer) = &*PIPELINE;
    split_with(added, Some(normalizer), Some(pre_tokenizer), text)
}

/// Mirrors what `TokenizerImpl::train` and `encode` do before the model
/// sees the text, so training, encoding and [`split_text`] agree.
fn split_with(
    added: &AddedVocabulary,
    normalizer: Option<&NormalizerWrapper>,
    pre_tokenizer: Option<&PreTokenizerWrapper>,
    text: &str,
) -> Result<Vec<String>, CorpusError> {
    let mut pretokenized = added.extract_and_normalize(normalizer, text);
    if let Some(pre_tokenizer) = pre_tokenizer {
        pre_tokenizer
            .pre_tokenize(&mut pretokenized)
            .map_err(|source| CorpusError::Tokenizer { source })?;
    }
    Ok(pretokenized
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(word, _, _)| word.to_owned())
        .collect())
}

/// Ids of some words, with the words the vocabulary lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// One id per word; unknown words get the `[UNK]` id.
    pub ids: Vec<u32>,
    /// Position and text of every word that became `[UNK]`.
    pub unknown: Vec<(usize, String)>,
}

/// A word-level tokenizer: one id per word, ids 0/1/2 for
/// `[PAD]`/`[UNK]`/`[MASK]`, then the training words by descending frequency,
/// ties broken alphabetically (so training is deterministic).
#[derive(Clone, Debug)]
pub struct WordTokenizer {
    inner: Tokenizer,
    pad: u32,
    unk: u32,
    mask: u32,
}

impl WordTokenizer {
    /// Trains the vocabulary on the words of `sentences` (normally the
    /// training split).
    pub fn train(sentences: &[Sentence]) -> Result<WordTokenizer, CorpusError> {
        let wrap = |source| CorpusError::Tokenizer { source };
        let model = WordLevel::builder()
            .unk_token(UNK_TOKEN.to_string())
            .build()
            .map_err(wrap)?;
        let mut inner = Tokenizer::new(model);
        inner.with_normalizer(Some(normalizer()));
        inner.with_pre_tokenizer(Some(pre_tokenizer()));
        let trainer = WordLevelTrainer::builder()
            .show_progress(false)
            .special_tokens(
                SPECIAL_TOKENS
                    .iter()
                    .map(|t| AddedToken::from(*t, true))
                    .collect(),
            )
            .build()
            .map_err(|e| CorpusError::Tokenizer { source: e.into() })?;
        let mut trainer = TrainerWrapper::from(trainer);
        inner
            .train(&mut trainer, sentences.iter().map(|s| s.text.as_str()))
            .map_err(wrap)?;
        Self::from_inner(inner).map_err(|problem| CorpusError::Tokenizer {
            source: problem.into(),
        })
    }

    /// Checks the special tokens, so every later id lookup is infallible.
    fn from_inner(inner: Tokenizer) -> Result<WordTokenizer, String> {
        let id = |token: &str| {
            inner
                .token_to_id(token)
                .ok_or_else(|| format!("no {token} token"))
        };
        let (pad, unk, mask) = (id(PAD_TOKEN)?, id(UNK_TOKEN)?, id(MASK_TOKEN)?);
        if pad != 0 {
            return Err(format!("{PAD_TOKEN} has id {pad}, expected 0"));
        }
        Ok(WordTokenizer {
            inner,
            pad,
            unk,
            mask,
        })
    }

    /// Writes `tokenizer.json` (pretty-printed, byte-identical for identical
    /// training data).
    pub fn save(&self, path: &Path) -> Result<(), CorpusError> {
        self.inner
            .save(path, true)
            .map_err(|source| CorpusError::TokenizerFile {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Reads a `tokenizer.json`; it must define `[PAD]` as id 0, `[UNK]` and
    /// `[MASK]`.
    pub fn load(path: &Path) -> Result<WordTokenizer, CorpusError> {
        let inner = Tokenizer::from_file(path).map_err(|source| CorpusError::TokenizerFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_inner(inner).map_err(|problem| CorpusError::TokenizerContent {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Number of ids, special tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of `[PAD]` (0).
    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// Id of `[UNK]`.
    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// Id of `[MASK]`.
    pub fn mask_id(&self) -> u32 {
        self.mask
    }

    /// The word (or special token) of an id; `None` outside the vocabulary.
    pub fn id_to_word(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Id of a normalised word or special token; `None` if unknown.
    pub fn word_to_id(&self, word: &str) -> Option<u32> {
        self.inner.token_to_id(word)
    }

    /// Ids of already normalised words (as in JSONL files or from
    /// [`WordTokenizer::split_text`]); each unknown word becomes `[UNK]` and
    /// is listed in [`Encoded::unknown`]. Words are looked up exactly, not
    /// normalised again.
    pub fn encode_words<S: AsRef<str>>(&self, words: &[S]) -> Encoded {
        let mut unknown = Vec::new();
        let ids = words
            .iter()
            .enumerate()
            .map(|(position, word)| {
                let word = word.as_ref();
                self.word_to_id(word).unwrap_or_else(|| {
                    unknown.push((position, word.to_string()));
                    self.unk
                })
            })
            .collect();
        Encoded { ids, unknown }
    }

    /// Normalises and splits a user's sentence the way this tokenizer does,
    /// keeping `[PAD]`, `[UNK]` and `[MASK]` (written exactly so) as words.
    pub fn split_text(&self, text: &str) -> Result<Vec<String>, CorpusError> {
        split_with(
            self.inner.get_added_vocabulary(),
            self.inner.get_normalizer(),
            self.inner.get_pre_tokenizer(),
            text,
        )
    }

    /// [`WordTokenizer::split_text`] followed by
    /// [`WordTokenizer::encode_words`]; positions in `unknown` index the
    /// split words.
    pub fn encode_text(&self, text: &str) -> Result<(Vec<String>, Encoded), CorpusError> {
        let words = self.split_text(text)?;
        let encoded = self.encode_words(&words);
        Ok((words, encoded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::{SplitSizes, generate};

    fn small_corpus() -> Vec<Sentence> {
        let sizes = SplitSizes {
            train: 2000,
            valid: 0,
            generalization: 0,
        };
        generate(7, sizes).expect("generates").train
    }

    #[test]
    fn normalisation() {
        let words = split_text("  The KEY,\tto the Cabinets   is here!!  ").expect("splits");
        assert_eq!(
            words,
            [
                "the", "key", ",", "to", "the", "cabinets", "is", "here", "!!"
            ]
        );
        assert_eq!(
            split_text("ｔｈｅ  Ｋｅｙ").expect("splits"),
            ["the", "key"]
        );
        assert!(split_text(" \n ").expect("splits").is_empty());
    }

    #[test]
    fn special_ids_round_trip_and_unknown_words() {
        let corpus = small_corpus();
        let tok = WordTokenizer::train(&corpus).expect("trains");
        assert_eq!((tok.pad_id(), tok.unk_id(), tok.mask_id()), (0, 1, 2));
        assert_eq!(tok.id_to_word(2).as_deref(), Some(MASK_TOKEN));
        let known: std::collections::BTreeSet<&str> = corpus
            .iter()
            .flat_map(|s| s.words.iter().map(String::as_str))
            .collect();
        assert_eq!(tok.vocab_size(), known.len() + 3);

        let (words, encoded) = tok
            .encode_text("The  ZEBRA near the dogs [MASK] tired .")
            .expect("encodes");
        assert_eq!(
            words,
            [
                "the", "zebra", "near", "the", "dogs", "[MASK]", "tired", "."
            ]
        );
        assert_eq!(encoded.unknown, vec![(1, "zebra".to_string())]);
        assert_eq!(encoded.ids[1], tok.unk_id());
        assert_eq!(encoded.ids[5], tok.mask_id());
        for (id, word) in encoded
            .ids
            .iter()
            .zip(&words)
            .filter(|(_, w)| *w != "zebra")
        {
            assert_eq!(tok.id_to_word(*id).as_deref(), Some(word.as_str()));
        }

        let dir = std::env::temp_dir().join(format!("tinyattn-tok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("tokenizer.json");
        tok.save(&path).expect("saves");
        let loaded = WordTokenizer::load(&path).expect("loads");
        for sentence in &corpus[..200] {
            assert_eq!(
                loaded.encode_words(&sentence.words),
                tok.encode_words(&sentence.words)
            );
            assert!(tok.encode_words(&sentence.words).unknown.is_empty());
        }
        assert_eq!(loaded.vocab_size(), tok.vocab_size());

        let err = WordTokenizer::load(&dir.join("missing.json")).expect_err("no file");
        assert!(err.to_string().contains("missing.json"), "{err}");
        std::fs::write(&path, "{\"not\": \"a tokenizer\"}").expect("writes");
        let err = WordTokenizer::load(&path).expect_err("bad file");
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    #[test]
    fn training_is_deterministic() {
        let corpus = small_corpus();
        let a = WordTokenizer::train(&corpus).expect("trains");
        let b = WordTokenizer::train(&corpus).expect("trains");
        let json = |t: &WordTokenizer| t.inner.to_string(true).expect("serialises");
        assert_eq!(json(&a), json(&b));
    }
}
