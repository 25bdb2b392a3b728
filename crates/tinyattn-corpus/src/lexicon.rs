//! The closed vocabulary of the grammar, with the features the generator
//! needs (number, gender, semantic class) and the lookups that let baselines
//! and evaluation classify words of any JSONL file, hand-written ones included.
//!
//! Every word has exactly one word class, so a lookup never has to guess from
//! context; the grammar avoids homographs (no "watch" noun next to "watch"
//! verb, "to" is only ever a preposition) to keep it that way.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Part of speech of a vocabulary word, as used by the baselines and by the
/// evaluation's breakdown of where attention lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WordClass {
    /// Common noun, singular or plural ("king", "cabinets").
    Noun,
    /// Any verb form, finite or not ("is", "chases", "crossed", "seemed").
    Verb,
    /// Personal or possessive pronoun ("he", "them", "its").
    Pronoun,
    /// Article ("the").
    Determiner,
    /// Preposition ("near", "to", "by").
    Preposition,
    /// Adjective ("tired", "wide").
    Adjective,
    /// "," or ".".
    Punctuation,
    /// Everything else: conjunctions, complementisers, adverbs, negation,
    /// and every word the lexicon does not know.
    Other,
}

impl WordClass {
    /// Lower-case name, for tables and JSON reports.
    pub fn name(self) -> &'static str {
        match self {
            WordClass::Noun => "noun",
            WordClass::Verb => "verb",
            WordClass::Pronoun => "pronoun",
            WordClass::Determiner => "determiner",
            WordClass::Preposition => "preposition",
            WordClass::Adjective => "adjective",
            WordClass::Punctuation => "punctuation",
            WordClass::Other => "other",
        }
    }
}

/// Grammatical number of a noun or of an agreeing verb form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Number {
    /// "key", "is", "chases".
    Singular,
    /// "keys", "are", "chase".
    Plural,
}

impl Number {
    pub(crate) fn other(self) -> Number {
        match self {
            Number::Singular => Number::Plural,
            Number::Plural => Number::Singular,
        }
    }
}

/// Semantic class of a noun. Winograd predicates select exactly one group of
/// classes (animate = man, woman, animal), which is what makes the antecedent
/// of "because it seemed too wide" unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NounClass {
    /// Male person: singular takes "he".
    Man,
    /// Female person: singular takes "she".
    Woman,
    /// Animal: singular takes "it".
    Animal,
    /// Something to cross: street, river, ...
    Place,
    /// Household object: box, key, ...
    Thing,
    /// Something to eat.
    Food,
    /// Time or event ("morning", "storm"); no predicate selects it, so it is
    /// never an antecedent.
    Setting,
}

pub(crate) const ANIMATE: &[NounClass] = &[NounClass::Man, NounClass::Woman, NounClass::Animal];

impl NounClass {
    /// Man, woman or animal.
    pub fn is_animate(self) -> bool {
        ANIMATE.contains(&self)
    }
}

/// The pronoun series a noun is referred to by; each series has subject,
/// object and possessive forms (he/him/his, she/her/her, it/it/its,
/// they/them/their).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PronounForm {
    /// he / him / his
    He,
    /// she / her / her
    She,
    /// it / it / its
    It,
    /// they / them / their
    They,
}

/// Grammatical role of a pronoun occurrence, which picks the word of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    Subject,
    Object,
    Possessive,
}

impl PronounForm {
    pub(crate) fn word(self, case: Case) -> &'static str {
        match (self, case) {
            (PronounForm::He, Case::Subject) => "he",
            (PronounForm::He, Case::Object) => "him",
            (PronounForm::He, Case::Possessive) => "his",
            (PronounForm::She, Case::Subject) => "she",
            (PronounForm::She, Case::Object | Case::Possessive) => "her",
            (PronounForm::It, Case::Subject | Case::Object) => "it",
            (PronounForm::It, Case::Possessive) => "its",
            (PronounForm::They, Case::Subject) => "they",
            (PronounForm::They, Case::Object) => "them",
            (PronounForm::They, Case::Possessive) => "their",
        }
    }
}

/// What the lexicon knows about one noun form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NounInfo {
    /// Singular form, used to name the noun regardless of number.
    pub lemma: &'static str,
    /// Number of this form.
    pub number: Number,
    /// Semantic class.
    pub class: NounClass,
}

impl NounInfo {
    /// The pronoun series that refers to this noun form.
    pub fn pronoun_form(&self) -> PronounForm {
        match (self.number, self.class) {
            (Number::Plural, _) => PronounForm::They,
            (Number::Singular, NounClass::Man) => PronounForm::He,
            (Number::Singular, NounClass::Woman) => PronounForm::She,
            (Number::Singular, _) => PronounForm::It,
        }
    }
}

pub(crate) struct NounEntry {
    pub(crate) singular: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) class: NounClass,
}

const fn noun(singular: &'static str, plural: &'static str, class: NounClass) -> NounEntry {
    NounEntry {
        singular,
        plural,
        class,
    }
}

use NounClass::{Animal, Food, Man, Place, Setting, Thing, Woman};

pub(crate) const NOUNS: &[NounEntry] = &[
    noun("king", "kings", Man),
    noun("man", "men", Man),
    noun("boy", "boys", Man),
    noun("father", "fathers", Man),
    noun("brother", "brothers", Man),
    noun("uncle", "uncles", Man),
    noun("queen", "queens", Woman),
    noun("woman", "women", Woman),
    noun("girl", "girls", Woman),
    noun("mother", "mothers", Woman),
    noun("sister", "sisters", Woman),
    noun("aunt", "aunts", Woman),
    noun("animal", "animals", Animal),
    noun("dog", "dogs", Animal),
    noun("cat", "cats", Animal),
    noun("horse", "horses", Animal),
    noun("bird", "birds", Animal),
    noun("fox", "foxes", Animal),
    noun("wolf", "wolves", Animal),
    noun("street", "streets", Place),
    noun("road", "roads", Place),
    noun("river", "rivers", Place),
    noun("bridge", "bridges", Place),
    noun("field", "fields", Place),
    noun("square", "squares", Place),
    noun("garden", "gardens", Place),
    noun("park", "parks", Place),
    noun("box", "boxes", Thing),
    noun("table", "tables", Thing),
    noun("chair", "chairs", Thing),
    noun("bag", "bags", Thing),
    noun("basket", "baskets", Thing),
    noun("lamp", "lamps", Thing),
    noun("cabinet", "cabinets", Thing),
    noun("key", "keys", Thing),
    noun("door", "doors", Thing),
    noun("bottle", "bottles", Thing),
    noun("stone", "stones", Thing),
    noun("book", "books", Thing),
    noun("letter", "letters", Thing),
    noun("soup", "soups", Food),
    noun("cake", "cakes", Food),
    noun("apple", "apples", Food),
    noun("pie", "pies", Food),
    noun("cookie", "cookies", Food),
    noun("bread", "breads", Food),
    noun("morning", "mornings", Setting),
    noun("evening", "evenings", Setting),
    noun("storm", "storms", Setting),
    noun("party", "parties", Setting),
    noun("game", "games", Setting),
    noun("winter", "winters", Setting),
    noun("night", "nights", Setting),
];

/// Which kinds of frame a verb can head, and which noun classes its object may
/// have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VerbKind {
    Transitive(&'static [NounClass]),
    Intransitive,
    /// "says that ..."
    Saying,
    /// Present "is/are" + adjective.
    Copula,
    /// Past "was/were" + adjective, and the passive auxiliary.
    PastCopula,
    /// "has/have": possession and the perfect auxiliary.
    Have,
}

/// A finite verb with its agreeing singular and plural present (or past)
/// forms. Every finite verb with a noun subject in the corpus is one of these,
/// so number agreement is always visible.
pub(crate) struct VerbEntry {
    pub(crate) singular: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) kind: VerbKind,
}

const fn verb(singular: &'static str, plural: &'static str, kind: VerbKind) -> VerbEntry {
    VerbEntry {
        singular,
        plural,
        kind,
    }
}

const PEOPLE_AND_ANIMALS: &[NounClass] = ANIMATE;
const CONCRETE: &[NounClass] = &[Man, Woman, Animal, Place, Thing, Food];
const PORTABLE: &[NounClass] = &[Animal, Thing, Food];
const LOSABLE: &[NounClass] = &[Animal, Thing];

pub(crate) const VERBS: &[VerbEntry] = &[
    verb("sees", "see", VerbKind::Transitive(CONCRETE)),
    verb("likes", "like", VerbKind::Transitive(CONCRETE)),
    verb("watches", "watch", VerbKind::Transitive(PEOPLE_AND_ANIMALS)),
    verb(
        "follows",
        "follow",
        VerbKind::Transitive(PEOPLE_AND_ANIMALS),
    ),
    verb("helps", "help", VerbKind::Transitive(PEOPLE_AND_ANIMALS)),
    verb("chases", "chase", VerbKind::Transitive(PEOPLE_AND_ANIMALS)),
    verb("finds", "find", VerbKind::Transitive(LOSABLE)),
    verb("loses", "lose", VerbKind::Transitive(LOSABLE)),
    verb("carries", "carry", VerbKind::Transitive(PORTABLE)),
    verb("sleeps", "sleep", VerbKind::Intransitive),
    verb("runs", "run", VerbKind::Intransitive),
    verb("waits", "wait", VerbKind::Intransitive),
    verb("sings", "sing", VerbKind::Intransitive),
    verb("says", "say", VerbKind::Saying),
    verb("thinks", "think", VerbKind::Saying),
    verb("knows", "know", VerbKind::Saying),
    verb("is", "are", VerbKind::Copula),
    verb("was", "were", VerbKind::PastCopula),
    verb("has", "have", VerbKind::Have),
];

impl VerbEntry {
    pub(crate) fn form(&self, number: Number) -> &'static str {
        match number {
            Number::Singular => self.singular,
            Number::Plural => self.plural,
        }
    }
}

/// Verb forms that never agree: participles after "has"/"was", "did" and the
/// bare verb after it, and the verbs of the Winograd reason clause, whose
/// subject is always a pronoun. Keeping
/// the reason clause non-agreeing matters: "because [MASK] is too wide" would
/// give the pronoun's number away without a look at the antecedent.
pub(crate) const NON_AGREEING_VERBS: &[&str] = &[
    "crossed", "lifted", "carried", "moved", "eaten", "finished", "seemed", "looked", "did",
    "cross",
];

/// An adjective and the noun classes it can describe.
pub(crate) struct AdjectiveEntry {
    pub(crate) word: &'static str,
    pub(crate) fits: &'static [NounClass],
}

const fn adjective(word: &'static str, fits: &'static [NounClass]) -> AdjectiveEntry {
    AdjectiveEntry { word, fits }
}

pub(crate) const ADJECTIVES: &[AdjectiveEntry] = &[
    // Winograd predicates: each fits exactly one class group.
    adjective("tired", ANIMATE),
    adjective("afraid", ANIMATE),
    adjective("sleepy", ANIMATE),
    adjective("weak", ANIMATE),
    adjective("full", ANIMATE),
    adjective("sick", ANIMATE),
    adjective("wide", &[Place]),
    adjective("crowded", &[Place]),
    adjective("muddy", &[Place]),
    adjective("icy", &[Place]),
    adjective("heavy", &[Thing]),
    adjective("salty", &[Food]),
    adjective("sweet", &[Food]),
    adjective("dry", &[Food]),
    adjective("spicy", &[Food]),
    // Plain predicates for copula clauses.
    adjective("happy", ANIMATE),
    adjective("hungry", ANIMATE),
    adjective("quiet", &[Man, Woman, Animal, Place, Setting]),
    adjective("old", &[Man, Woman, Animal, Place, Thing]),
    adjective("new", &[Place, Thing]),
    adjective("small", &[Animal, Place, Thing]),
    adjective("long", &[Setting, Place]),
    adjective("cold", &[Setting, Food]),
];

pub(crate) fn adjective_fits(word: &str) -> Option<&'static [NounClass]> {
    ADJECTIVES.iter().find(|a| a.word == word).map(|a| a.fits)
}

const PRONOUNS: &[(&str, PronounForm)] = &[
    ("he", PronounForm::He),
    ("him", PronounForm::He),
    ("his", PronounForm::He),
    ("she", PronounForm::She),
    ("her", PronounForm::She),
    ("it", PronounForm::It),
    ("its", PronounForm::It),
    ("they", PronounForm::They),
    ("them", PronounForm::They),
    ("their", PronounForm::They),
];

pub(crate) const PREPOSITIONS: &[&str] = &[
    "near", "behind", "beside", "with", "under", "to", "in", "after", "during", "before", "by",
];

const OTHER_WORDS: &[&str] = &[
    "that", "and", "but", "while", "because", "too", "not", "never", "often", "always", "usually",
    "still", "here",
];

struct Lexicon {
    classes: HashMap<&'static str, WordClass>,
    nouns: HashMap<&'static str, NounInfo>,
    verbs: HashMap<&'static str, Number>,
    pronouns: HashMap<&'static str, PronounForm>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut classes = HashMap::new();
    let mut nouns = HashMap::new();
    for entry in NOUNS {
        for (form, number) in [
            (entry.singular, Number::Singular),
            (entry.plural, Number::Plural),
        ] {
            classes.insert(form, WordClass::Noun);
            let info = NounInfo {
                lemma: entry.singular,
                number,
                class: entry.class,
            };
            nouns.insert(form, info);
        }
    }
    let mut verbs = HashMap::new();
    for entry in VERBS {
        for number in [Number::Singular, Number::Plural] {
            classes.insert(entry.form(number), WordClass::Verb);
            verbs.insert(entry.form(number), number);
        }
    }
    for word in NON_AGREEING_VERBS {
        classes.insert(word, WordClass::Verb);
    }
    for entry in ADJECTIVES {
        classes.insert(entry.word, WordClass::Adjective);
    }
    for (word, _) in PRONOUNS {
        classes.insert(word, WordClass::Pronoun);
    }
    for word in PREPOSITIONS {
        classes.insert(word, WordClass::Preposition);
    }
    for word in OTHER_WORDS {
        classes.insert(word, WordClass::Other);
    }
    classes.insert("the", WordClass::Determiner);
    classes.insert(",", WordClass::Punctuation);
    classes.insert(".", WordClass::Punctuation);
    Lexicon {
        classes,
        nouns,
        verbs,
        pronouns: PRONOUNS.iter().copied().collect(),
    }
});

/// Word class of `word` (already normalised: lower case). Words outside the
/// generator's lexicon are [`WordClass::Other`].
pub fn word_class(word: &str) -> WordClass {
    LEXICON
        .classes
        .get(word)
        .copied()
        .unwrap_or(WordClass::Other)
}

pub(crate) fn is_known(word: &str) -> bool {
    LEXICON.classes.contains_key(word)
}

/// Whether `word` is a noun of the generator's lexicon. The baselines use
/// this, so in hand-written files a word outside the lexicon never counts as
/// a noun.
pub fn is_noun(word: &str) -> bool {
    LEXICON.nouns.contains_key(word)
}

/// Lemma, number and class of a noun form; `None` for anything else.
pub fn noun_info(word: &str) -> Option<NounInfo> {
    LEXICON.nouns.get(word).copied()
}

/// Pronoun series of a pronoun ("him" → [`PronounForm::He`]); `None` for
/// anything else.
pub fn pronoun_form(word: &str) -> Option<PronounForm> {
    LEXICON.pronouns.get(word).copied()
}

/// Number an agreeing finite verb form shows ("is" → singular, "chase" →
/// plural); `None` for participles, non-agreeing verbs and non-verbs.
pub fn verb_number(word: &str) -> Option<Number> {
    LEXICON.verbs.get(word).copied()
}

/// The same verb in the other number ("is" → "are", "chase" → "chases"); `None` for
/// anything that does not agree. Agreement tests compare a model's preference between the two.
pub fn verb_counterpart(word: &str) -> Option<&'static str> {
    VERBS.iter().find_map(|verb| match word {
        w if w == verb.singular => Some(verb.plural),
        w if w == verb.plural => Some(verb.singular),
        _ => None,
    })
}

/// Every pronoun of the lexicon (he, him, his, she, her, it, its, they, them, their).
pub fn pronouns() -> Vec<&'static str> {
    PRONOUNS.iter().map(|(word, _)| *word).collect()
}

/// Every word of the lexicon, sorted. The generated corpus uses only these.
pub fn vocabulary() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = LEXICON.classes.keys().copied().collect();
    words.sort_unstable();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookups assume one class per word; a word listed twice would be
    /// silently overwritten in the map, so count the raw lists instead.
    #[test]
    fn every_word_has_exactly_one_class() {
        let mut raw: Vec<&str> = Vec::new();
        for entry in NOUNS {
            raw.extend([entry.singular, entry.plural]);
        }
        for entry in VERBS {
            raw.extend([entry.singular, entry.plural]);
        }
        raw.extend(NON_AGREEING_VERBS);
        raw.extend(ADJECTIVES.iter().map(|a| a.word));
        raw.extend(PRONOUNS.iter().map(|(w, _)| *w));
        raw.extend(PREPOSITIONS);
        raw.extend(OTHER_WORDS);
        raw.extend(["the", ",", "."]);
        let total = raw.len();
        raw.sort_unstable();
        raw.dedup();
        assert_eq!(raw.len(), total, "a word appears in two lexicon lists");
        assert_eq!(vocabulary().len(), total);
    }

    #[test]
    fn lookups() {
        assert_eq!(word_class("cabinets"), WordClass::Noun);
        assert_eq!(word_class("are"), WordClass::Verb);
        assert_eq!(word_class("her"), WordClass::Pronoun);
        assert_eq!(word_class("the"), WordClass::Determiner);
        assert_eq!(word_class("to"), WordClass::Preposition);
        assert_eq!(word_class("wide"), WordClass::Adjective);
        assert_eq!(word_class(","), WordClass::Punctuation);
        assert_eq!(word_class("because"), WordClass::Other);
        assert_eq!(word_class("zebra"), WordClass::Other);
        assert!(is_noun("wolves") && !is_noun("zebra") && !is_noun("chases"));
        let men = noun_info("men").expect("men is a noun");
        assert_eq!((men.lemma, men.number), ("man", Number::Plural));
        assert_eq!(men.pronoun_form(), PronounForm::They);
        assert_eq!(
            noun_info("queen").map(|n| n.pronoun_form()),
            Some(PronounForm::She)
        );
        assert_eq!(
            noun_info("fox").map(|n| n.pronoun_form()),
            Some(PronounForm::It)
        );
        assert_eq!(pronoun_form("their"), Some(PronounForm::They));
        assert_eq!(verb_number("chase"), Some(Number::Plural));
        assert_eq!(verb_number("was"), Some(Number::Singular));
        assert_eq!(verb_number("seemed"), None);
        assert_eq!(verb_counterpart("is"), Some("are"));
        assert_eq!(verb_counterpart("chase"), Some("chases"));
        assert_eq!(verb_counterpart("seemed"), None);
        assert_eq!(pronouns().len(), 10);
    }

    #[test]
    fn vocabulary_is_small_and_normalised() {
        let words = vocabulary();
        assert!((100..=250).contains(&words.len()), "{} words", words.len());
        for word in words {
            assert_eq!(
                crate::tokenizer::split_text(word).expect("static pipeline"),
                vec![word.to_string()],
                "{word:?} is not in normal form"
            );
        }
    }
}
