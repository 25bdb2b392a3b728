//! The serde model of one annotated sentence and its validation.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::SentenceError;
use crate::lexicon::is_known;
use crate::tokenizer::split_text;

/// The kind of a gold link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// From a finite verb to the head noun of its subject; `"subject-verb"`.
    SubjectVerb,
    /// From a pronoun to the noun it refers to; `"pronoun-antecedent"`.
    PronounAntecedent,
}

impl LinkKind {
    /// Both kinds, in report order.
    pub const ALL: [LinkKind; 2] = [LinkKind::SubjectVerb, LinkKind::PronounAntecedent];

    /// The name used in JSONL (`"subject-verb"`, `"pronoun-antecedent"`).
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::SubjectVerb => "subject-verb",
            LinkKind::PronounAntecedent => "pronoun-antecedent",
        }
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One gold link between two words of a sentence (0-based word indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// What the link means.
    pub kind: LinkKind,
    /// The dependent: the verb or the pronoun.
    pub from: usize,
    /// The target: the subject's head noun or the antecedent noun.
    pub to: usize,
    /// Nouns strictly between `to` and `from` that could mislead: for
    /// subject-verb those of the other grammatical number than the subject,
    /// for pronoun-antecedent every noun (each is a candidate antecedent).
    pub attractors: usize,
}

/// One sentence, split into words, with its gold links.
///
/// Invariants (checked by [`Sentence::new`] and on reading JSONL): at least
/// one word, every word in tokenizer normal form, `text` equals the words
/// joined by single spaces, every link inside the sentence with
/// `from != to`, and at most one link of each kind per dependent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sentence {
    /// The words joined by single spaces.
    pub text: String,
    /// The words; link indices point into this.
    pub words: Vec<String>,
    /// Gold links; the generator lists them in order of their dependent,
    /// hand-written files keep their own order.
    pub links: Vec<Link>,
}

impl Sentence {
    /// Builds a sentence from normalised words, checking the invariants.
    pub fn new(words: Vec<String>, links: Vec<Link>) -> Result<Sentence, SentenceError> {
        if words.is_empty() {
            return Err(SentenceError::NoWords);
        }
        // Lexicon words are normal by construction (a lexicon test checks), so
        // only other words pay for the tokenizer pipeline.
        for (index, word) in words.iter().enumerate().filter(|(_, w)| !is_known(w)) {
            let normalised = split(word)?;
            if normalised.len() != 1 || normalised[0] != *word {
                return Err(SentenceError::NotNormalised {
                    index,
                    word: word.clone(),
                    normalised,
                });
            }
        }
        let mut dependents = HashSet::new();
        for (index, link) in links.iter().enumerate() {
            if link.from >= words.len() || link.to >= words.len() {
                return Err(SentenceError::LinkOutOfRange {
                    index,
                    from: link.from,
                    to: link.to,
                    len: words.len(),
                });
            }
            if link.from == link.to {
                return Err(SentenceError::SelfLink {
                    index,
                    position: link.from,
                });
            }
            if !dependents.insert((link.kind, link.from)) {
                return Err(SentenceError::DuplicateDependent {
                    index,
                    kind: link.kind,
                    from: link.from,
                });
            }
        }
        Ok(Sentence {
            text: words.join(" "),
            words,
            links,
        })
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Always false for a valid sentence; here because `len` is.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// The JSONL line as written by a person: key order free, unknown keys
/// ignored, `text` or `words` (or both) present. Kept apart from [`Sentence`]
/// so that reading reports JSON problems and sentence problems as distinct
/// typed errors.
#[derive(Deserialize)]
pub(crate) struct RawSentence {
    text: Option<String>,
    words: Option<Vec<String>>,
    links: Vec<Link>,
}

impl RawSentence {
    pub(crate) fn into_sentence(self) -> Result<Sentence, SentenceError> {
        let words = match (self.words, self.text) {
            (Some(words), None) => words,
            (None, Some(text)) => split(&text)?,
            (Some(words), Some(text)) => {
                let from_text = split(&text)?;
                if from_text != words {
                    return Err(SentenceError::TextMismatch { from_text });
                }
                words
            }
            (None, None) => return Err(SentenceError::NoWordsOrText),
        };
        Sentence::new(words, self.links)
    }
}

fn split(text: &str) -> Result<Vec<String>, SentenceError> {
    split_text(text).map_err(|e| SentenceError::Unsplittable {
        message: e.to_string(),
    })
}
