//! JSONL reading and writing.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use crate::error::CorpusError;
use crate::grammar::{SplitSizes, Splits, generate};
use crate::sentence::{RawSentence, Sentence};

/// File name of the training split inside a data directory.
pub const TRAIN_FILE: &str = "train.jsonl";
/// File name of the validation split.
pub const VALID_FILE: &str = "valid.jsonl";
/// File name of the generalization split.
pub const GENERALIZATION_FILE: &str = "generalization.jsonl";

/// Writes one compact JSON object per line, fields in the order `text`,
/// `words`, `links` (and `kind`, `from`, `to`, `attractors`), so equal
/// sentences give byte-identical files.
pub fn write_jsonl(path: &Path, sentences: &[Sentence]) -> Result<(), CorpusError> {
    let io_error = |source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(File::create(path).map_err(io_error)?);
    for sentence in sentences {
        serde_json::to_writer(&mut out, sentence).map_err(|e| io_error(e.into()))?;
        out.write_all(b"\n").map_err(io_error)?;
    }
    out.flush().map_err(io_error)
}

/// Reads and validates a JSONL file. Blank lines are skipped; a file without
/// any sentence is an error. Each line needs `links` and at least one of
/// `words` and `text` (if both, `text` must split into `words`); keys may
/// come in any order and unknown keys are ignored. Errors name the file and
/// the 1-based line.
pub fn read_jsonl(path: &Path) -> Result<Vec<Sentence>, CorpusError> {
    let io_error = |source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    };
    let reader = BufReader::new(File::open(path).map_err(io_error)?);
    let mut sentences = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(io_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let raw: RawSentence = serde_json::from_str(&line).map_err(|source| CorpusError::Json {
            path: path.to_path_buf(),
            line: index + 1,
            source,
        })?;
        let sentence = raw
            .into_sentence()
            .map_err(|problem| CorpusError::InvalidSentence {
                path: path.to_path_buf(),
                line: index + 1,
                problem,
            })?;
        sentences.push(sentence);
    }
    if sentences.is_empty() {
        return Err(CorpusError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(sentences)
}

/// Writes the three splits as [`TRAIN_FILE`], [`VALID_FILE`] and
/// [`GENERALIZATION_FILE`] into `dir`, creating it if needed.
pub fn write_splits(dir: &Path, splits: &Splits) -> Result<(), CorpusError> {
    std::fs::create_dir_all(dir).map_err(|source| CorpusError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_jsonl(&dir.join(TRAIN_FILE), &splits.train)?;
    write_jsonl(&dir.join(VALID_FILE), &splits.valid)?;
    write_jsonl(&dir.join(GENERALIZATION_FILE), &splits.generalization)
}

/// Generates the splits for `seed` and `sizes` and writes them into `dir`;
/// what `tinyattn corpus generate` does.
pub fn regenerate(dir: &Path, seed: u64, sizes: SplitSizes) -> Result<Splits, CorpusError> {
    let splits = generate(seed, sizes)?;
    write_splits(dir, &splits)?;
    Ok(splits)
}
