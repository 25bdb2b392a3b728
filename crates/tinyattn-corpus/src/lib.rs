//! A seeded toy corpus of English-like sentences with gold links, and the
//! word-level tokenizer for it.
//!
//! # What is annotated
//!
//! * `subject-verb`: every finite verb whose subject is a noun phrase links
//!   to the subject's head noun. All such verbs agree visibly (is/are,
//!   was/were, has/have, chases/chase, ...), so number is the cue, and nouns
//!   of the other number between subject and verb (prepositional phrases,
//!   relative clauses) are attractors: "the key to the cabinets near the
//!   doors is". Verbs whose subject is a pronoun are not linked; the
//!   pronoun's own link covers them.
//! * `pronoun-antecedent`: every pronoun (he/him/his, she/her, it/its,
//!   they/them/their) links to the noun it refers to.
//!
//! # Why the data looks the way it does
//!
//! The model is trained as a masked language model and judged by whether an
//! attention head at a masked verb or pronoun looks at the gold target. So a
//! masked dependent must be predictable *only* by finding its target:
//!
//! * A masked verb's number comes from its subject, which is often separated
//!   from the verb by attractors, openers ("after the storm ,") and relative
//!   clauses, so neither position nor "nearest noun" finds it.
//! * A masked pronoun is predictable only when the candidate antecedents take
//!   different pronouns. In "the king has not crossed the street because
//!   `[MASK]` seemed too tired" the model must work out that only the king can
//!   be tired and then read his gender to say `he`. Training therefore only
//!   contains pronouns whose antecedent is the sole noun before them taking
//!   that pronoun, and the reason clause uses the non-agreeing "seemed" /
//!   "looked" so the number of the pronoun does not leak from its verb.
//!   Winograd frames (cross/tired-wide, lift/weak-heavy, eat/full-salty) make
//!   up close to half the pronoun links; the rest follow fixed structural
//!   rules (a possessive object refers to its clause's subject, "A sees B and
//!   helps PRON" refers to B).
//! * Pairs where both candidates take the same pronoun ("the dog has not
//!   crossed the street because it seemed too tired") teach nothing under
//!   masking, because `it` is right either way. They are exactly what tells
//!   whether the head learned to resolve the reference rather than to match
//!   forms, so they appear only in the generalization split.
//! * The generalization split also holds subject-verb links whose subject is
//!   one of [`HELD_OUT_SUBJECTS`] with at least [`HELD_OUT_MIN_ATTRACTORS`]
//!   attractors, a combination training never shows. [`held_out`] tells
//!   which links of a sentence are held out.
//!
//! [`baselines`] measures how far position alone gets (best fixed offset,
//! nearest preceding noun, first noun); on the validation and generalization
//! splits each stays at or below 60 % per link kind.
//!
//! # Files
//!
//! [`regenerate`] writes `train.jsonl`, `valid.jsonl` and
//! `generalization.jsonl`; [`read_jsonl`] reads and validates these and
//! hand-written files. [`WordTokenizer`] trains, saves and loads the
//! `tokenizer.json` whose normalisation [`split_text`] reproduces.

#![warn(missing_docs)]

mod baselines;
mod error;
mod grammar;
mod io;
mod lexicon;
mod sentence;
mod tokenizer;

pub use baselines::{BaselineReport, KindBaselines, Score, baselines};
pub use error::{CorpusError, SentenceError};
pub use grammar::{
    DEFAULT_SEED, HELD_OUT_MIN_ATTRACTORS, HELD_OUT_SUBJECTS, HeldOut, MAX_SENTENCE_WORDS,
    SplitSizes, Splits, generate, held_out,
};
pub use io::{
    GENERALIZATION_FILE, TRAIN_FILE, VALID_FILE, read_jsonl, regenerate, write_jsonl, write_splits,
};
pub use lexicon::{
    NounClass, NounInfo, Number, PronounForm, WordClass, is_noun, noun_info, pronoun_form,
    pronouns, verb_counterpart, verb_number, vocabulary, word_class,
};
pub use sentence::{Link, LinkKind, Sentence};
pub use tokenizer::{Encoded, MASK_TOKEN, PAD_TOKEN, UNK_TOKEN, WordTokenizer, split_text};

#[cfg(test)]
mod tests;
