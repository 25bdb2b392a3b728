//! Error types. File errors always carry the path (and the 1-based line for
//! JSONL) so the CLI can print them as they are.

use std::path::PathBuf;

use crate::sentence::LinkKind;

/// Everything that can go wrong reading, writing or generating corpus files
/// and tokenizers.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Opening, reading, writing or creating a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSONL line is not valid JSON, lacks a field, has a field of the
    /// wrong type or an unknown link kind.
    #[error("{}:{line}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// serde_json's description, which names the field or variant.
        source: serde_json::Error,
    },
    /// A JSONL line parsed but describes an impossible sentence.
    #[error("{}:{line}: {problem}", path.display())]
    InvalidSentence {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: SentenceError,
    },
    /// A JSONL file holds no sentence (empty or only blank lines).
    #[error("{}: no sentences in file", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// The tokenizers library could not read or write a tokenizer file.
    #[error("{}: tokenizer file: {source}", path.display())]
    TokenizerFile {
        /// The file.
        path: PathBuf,
        /// The tokenizers library's error.
        source: tokenizers::Error,
    },
    /// A tokenizer file loaded but lacks what this crate relies on.
    #[error("{}: tokenizer file: {problem}", path.display())]
    TokenizerContent {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        problem: String,
    },
    /// The tokenizers library failed while training or splitting text.
    #[error("tokenizer: {source}")]
    Tokenizer {
        /// The tokenizers library's error.
        source: tokenizers::Error,
    },
    /// The generator could not find enough distinct sentences for a split.
    #[error("could only generate {made} of {wanted} distinct {split} sentences")]
    Exhausted {
        /// Split name.
        split: &'static str,
        /// Requested count.
        wanted: usize,
        /// Sentences made before giving up.
        made: usize,
    },
}

/// Why a sentence read from JSONL is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SentenceError {
    /// Neither `text` nor `words` is given.
    #[error("the sentence needs \"words\" or \"text\"")]
    NoWordsOrText,
    /// `words` is empty (or `text` splits into no words).
    #[error("the sentence has no words")]
    NoWords,
    /// A word is not in the normal form the tokenizer produces (lower case,
    /// no spaces, punctuation split off).
    #[error("word {index} {word:?} is not normalised: the tokenizer splits it into {normalised:?}")]
    NotNormalised {
        /// 0-based word index.
        index: usize,
        /// The word as written.
        word: String,
        /// What the tokenizer's normaliser and pre-tokenizer make of it.
        normalised: Vec<String>,
    },
    /// The tokenizer's normaliser or pre-tokenizer failed on the text.
    #[error("the tokenizer cannot split the text: {message}")]
    Unsplittable {
        /// The tokenizers library's message.
        message: String,
    },
    /// `text` and `words` are both given and disagree.
    #[error("\"text\" splits into {from_text:?}, which differs from \"words\"")]
    TextMismatch {
        /// The words `text` splits into.
        from_text: Vec<String>,
    },
    /// A link points outside the sentence.
    #[error("link {index}: from {from} / to {to} outside the sentence's {len} words")]
    LinkOutOfRange {
        /// 0-based link index.
        index: usize,
        /// The link's dependent.
        from: usize,
        /// The link's target.
        to: usize,
        /// Number of words.
        len: usize,
    },
    /// A link points from a word to itself.
    #[error("link {index}: from and to are both {position}")]
    SelfLink {
        /// 0-based link index.
        index: usize,
        /// The word both ends point at.
        position: usize,
    },
    /// Two links of one kind share a dependent, so it would have two targets.
    #[error("link {index}: a second {kind} link from word {from}")]
    DuplicateDependent {
        /// 0-based index of the second link.
        index: usize,
        /// Kind of both links.
        kind: LinkKind,
        /// The shared dependent.
        from: usize,
    },
}
