//! Position-only baselines: what a "head" that ignores the words' meaning
//! would score. Nouns are recognised with the generator's lexicon
//! ([`crate::is_noun`]), so in hand-written files unknown words are never
//! nouns.

use std::collections::BTreeMap;
use std::fmt;

use crate::lexicon::is_noun;
use crate::sentence::{Link, LinkKind, Sentence};

/// Hits out of links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Links the baseline gets right.
    pub hits: usize,
    /// Links scored.
    pub total: usize,
}

impl Score {
    /// hits / total, 0 when there is nothing to score.
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }

    fn add(&mut self, hit: bool) {
        self.total += 1;
        self.hits += usize::from(hit);
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total == 0 {
            f.pad("-")
        } else {
            f.pad(&format!("{:.1}%", 100.0 * self.accuracy()))
        }
    }
}

/// The three baselines for one link kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindBaselines {
    /// Which links were scored.
    pub kind: LinkKind,
    /// The offset `to - from` that is right most often in these very links
    /// (ties: smaller magnitude, then negative); `None` without links.
    pub best_offset: Option<isize>,
    /// Predicting `from + best_offset`.
    pub fixed_offset: Score,
    /// Predicting the last noun before the dependent (a miss if none).
    pub nearest_noun: Score,
    /// Predicting the sentence's first noun (a miss if none).
    pub first_noun: Score,
}

impl KindBaselines {
    /// Number of links of this kind.
    pub fn links(&self) -> usize {
        self.nearest_noun.total
    }

    /// The highest of the three accuracies.
    pub fn best_accuracy(&self) -> f64 {
        [self.fixed_offset, self.nearest_noun, self.first_noun]
            .iter()
            .map(Score::accuracy)
            .fold(0.0, f64::max)
    }
}

/// Baselines for both link kinds of a set of sentences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaselineReport {
    /// Subject-verb links.
    pub subject_verb: KindBaselines,
    /// Pronoun-antecedent links.
    pub pronoun_antecedent: KindBaselines,
}

impl BaselineReport {
    /// The baselines of one kind.
    pub fn get(&self, kind: LinkKind) -> &KindBaselines {
        match kind {
            LinkKind::SubjectVerb => &self.subject_verb,
            LinkKind::PronounAntecedent => &self.pronoun_antecedent,
        }
    }
}

/// Scores the fixed-offset, nearest-preceding-noun and first-noun baselines
/// per link kind.
pub fn baselines(sentences: &[Sentence]) -> BaselineReport {
    let [subject_verb, pronoun_antecedent] =
        LinkKind::ALL.map(|kind| kind_baselines(sentences, kind));
    BaselineReport {
        subject_verb,
        pronoun_antecedent,
    }
}

fn kind_baselines(sentences: &[Sentence], kind: LinkKind) -> KindBaselines {
    let links = || {
        sentences.iter().flat_map(move |s| {
            s.links
                .iter()
                .filter(move |l| l.kind == kind)
                .map(move |l| (s, l))
        })
    };
    let mut offsets: BTreeMap<isize, usize> = BTreeMap::new();
    let mut nearest_noun = Score::default();
    let mut first_noun = Score::default();
    for (sentence, link) in links() {
        *offsets.entry(offset(link)).or_default() += 1;
        let nouns = || {
            sentence
                .words
                .iter()
                .enumerate()
                .filter(|(_, w)| is_noun(w))
                .map(|(i, _)| i)
        };
        nearest_noun.add(nouns().take_while(|&i| i < link.from).last() == Some(link.to));
        first_noun.add(nouns().next() == Some(link.to));
    }
    // Ties go to the offset nearer the dependent, then the preceding one, so
    // the reported offset does not depend on iteration order.
    let best_offset = offsets
        .iter()
        .max_by_key(|&(&o, &count)| (count, std::cmp::Reverse((o.unsigned_abs(), o > 0))))
        .map(|(&o, _)| o);
    let fixed_offset = Score {
        hits: best_offset
            .and_then(|o| offsets.get(&o))
            .copied()
            .unwrap_or(0),
        total: nearest_noun.total,
    };
    KindBaselines {
        kind,
        best_offset,
        fixed_offset,
        nearest_noun,
        first_noun,
    }
}

fn offset(link: &Link) -> isize {
    // Word indices are far below isize::MAX; sentences are short.
    link.to as isize - link.from as isize
}

impl fmt::Display for BaselineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>6}  {:>6} {:>7}  {:>12}  {:>10}",
            "link kind", "links", "offset", "(acc)", "nearest noun", "first noun"
        )?;
        for kind in LinkKind::ALL {
            let k = self.get(kind);
            let offset = k
                .best_offset
                .map_or_else(|| "-".to_string(), |o| format!("{o:+}"));
            writeln!(
                f,
                "{:<20} {:>6}  {:>6} {:>7}  {:>12}  {:>10}",
                kind.name(),
                k.links(),
                offset,
                k.fixed_offset,
                k.nearest_noun,
                k.first_noun
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(text: &str, links: &[(LinkKind, usize, usize)]) -> Sentence {
        let words = text.split(' ').map(str::to_string).collect();
        let links = links
            .iter()
            .map(|&(kind, from, to)| Link {
                kind,
                from,
                to,
                attractors: 0,
            })
            .collect();
        Sentence::new(words, links).expect("valid hand-written sentence")
    }

    /// Counted by hand:
    /// 1. "the key to the cabinets is here ." is→key: offset -4, nearest
    ///    noun cabinets (miss), first noun key (hit).
    /// 2. "near the river , the dogs sleep ." sleep→dogs: offset -1, nearest
    ///    dogs (hit), first noun river (miss).
    /// 3. "the king sees the girl and helps her ." sees→king (offset -1,
    ///    nearest hit, first hit), helps→king (offset -5, nearest girl miss,
    ///    first hit); her→girl (offset -3, nearest hit, first king miss).
    /// 4. "the zebra is here ." is→zebra: "zebra" is not in the lexicon, so
    ///    there is no noun: nearest and first miss; offset -1.
    #[test]
    fn hand_counted_examples() {
        use LinkKind::{PronounAntecedent as Pa, SubjectVerb as Sv};
        let sentences = [
            sentence("the key to the cabinets is here .", &[(Sv, 5, 1)]),
            sentence("near the river , the dogs sleep .", &[(Sv, 6, 5)]),
            sentence(
                "the king sees the girl and helps her .",
                &[(Sv, 2, 1), (Sv, 6, 1), (Pa, 7, 4)],
            ),
            sentence("the zebra is here .", &[(Sv, 2, 1)]),
        ];
        let report = baselines(&sentences);
        let sv = report.subject_verb;
        assert_eq!(sv.links(), 5);
        // Offsets: -4, -1, -1, -5, -1 → -1 wins with 3 hits.
        assert_eq!(sv.best_offset, Some(-1));
        assert_eq!(sv.fixed_offset, Score { hits: 3, total: 5 });
        assert_eq!(sv.nearest_noun, Score { hits: 2, total: 5 });
        assert_eq!(sv.first_noun, Score { hits: 3, total: 5 });
        let pa = report.pronoun_antecedent;
        assert_eq!(pa.best_offset, Some(-3));
        assert_eq!(pa.fixed_offset, Score { hits: 1, total: 1 });
        assert_eq!(pa.nearest_noun, Score { hits: 1, total: 1 });
        assert_eq!(pa.first_noun, Score { hits: 0, total: 1 });

        let table = report.to_string();
        assert!(table.contains("subject-verb"), "{table}");
        assert!(
            table.contains("60.0%") && table.contains("40.0%"),
            "{table}"
        );
    }

    #[test]
    fn ties_prefer_the_smaller_offset() {
        use LinkKind::SubjectVerb as Sv;
        let sentences = [
            sentence("the dogs sleep .", &[(Sv, 2, 1)]),
            sentence("the dogs often sleep .", &[(Sv, 3, 1)]),
        ];
        let report = baselines(&sentences);
        assert_eq!(report.subject_verb.best_offset, Some(-1));
        assert_eq!(report.pronoun_antecedent.best_offset, None);
        assert_eq!(report.pronoun_antecedent.links(), 0);
        assert!(report.to_string().contains('-'));
    }
}
