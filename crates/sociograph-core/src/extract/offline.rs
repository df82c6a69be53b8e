//! A model-free extractor: capitalised-name spans typed by cue words, relations from verb
//! phrases between two names in one sentence.
//!
//! It is deliberately simple and predictable. Names are runs of capitalised words (with
//! connectors such as "of", "al-", "van"); titles ("Mayor", "Dr.") mark people; keywords mark
//! organisations ("Party", "Bank", "Union") and places ("District", "Quay"); a bare surname
//! resolves to the one person of the document with that surname. Arabic names are found after
//! cue words (السيد، شركة، حي …). Relations come from a table of trigger phrases, in active and
//! passive voice; two names in one sentence with no trigger are linked as `associated_with`.

use std::collections::{HashMap, HashSet};

use sociograph_store::textnorm::name_key;
use unicode_segmentation::UnicodeSegmentation;

use super::{ChunkExtraction, ExtractedEntity, ExtractedRelation, Extractor};
use crate::Result;

pub struct OfflineExtractor;

const TITLES: &[&str] = &[
    "mayor",
    "councillor",
    "councilor",
    "minister",
    "judge",
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
    "senator",
    "president",
    "governor",
    "deputy",
    "chief",
    "inspector",
    "commissioner",
    "professor",
    "prof",
    "sir",
    "dame",
    "lady",
    "lord",
    "general",
    "captain",
    "rev",
    "father",
    "sheikh",
    "imam",
    "detective",
    "sergeant",
    "officer",
    "chairman",
    "chairwoman",
    "chair",
    "director",
    "ceo",
    "secretary",
    "ambassador",
    "mp",
    "alderman",
    "speaker",
    "superintendent",
];

const ORG_WORDS: &[&str] = &[
    "company",
    "co",
    "corp",
    "corporation",
    "inc",
    "ltd",
    "llc",
    "plc",
    "group",
    "holdings",
    "bank",
    "party",
    "union",
    "council",
    "ministry",
    "authority",
    "agency",
    "trust",
    "foundation",
    "association",
    "alliance",
    "front",
    "movement",
    "committee",
    "commission",
    "board",
    "gazette",
    "times",
    "herald",
    "post",
    "news",
    "press",
    "radio",
    "television",
    "tv",
    "university",
    "college",
    "institute",
    "school",
    "hospital",
    "police",
    "court",
    "department",
    "office",
    "bureau",
    "federation",
    "league",
    "club",
    "cooperative",
    "co-operative",
    "coalition",
    "partners",
    "capital",
    "shipping",
    "construction",
    "industries",
    "enterprises",
    "consortium",
    "fund",
    "chamber",
    "guild",
    "syndicate",
    "bloc",
    "caucus",
    "network",
    "society",
    "church",
    "mosque",
    "insurance",
    "logistics",
    "energy",
    "developments",
    "properties",
    "media",
    "tribunal",
    "inquiry",
    "cartel",
    "brotherhood",
    "lines",
    "labs",
    "services",
];

const PLACE_WORDS: &[&str] = &[
    "district",
    "quarter",
    "square",
    "street",
    "road",
    "avenue",
    "quay",
    "harbour",
    "harbor",
    "bay",
    "river",
    "island",
    "hill",
    "hills",
    "valley",
    "park",
    "bridge",
    "province",
    "region",
    "county",
    "city",
    "town",
    "village",
    "coast",
    "beach",
    "docks",
    "wharf",
    "pier",
    "station",
    "airport",
    "heights",
    "plaza",
    "terminal",
    "estate",
    "estates",
    "lane",
    "ward",
    "borough",
    "peninsula",
    "marsh",
    "canal",
    "market",
    "gardens",
    "embankment",
];

const PLACE_PREFIXES: &[&str] = &[
    "port", "mount", "lake", "fort", "cape", "saint", "st", "new",
];

const CONNECTORS: &[&str] = &[
    "of", "de", "del", "da", "di", "du", "la", "le", "van", "von", "der", "den", "al", "el", "bin",
    "ibn", "bint", "and", "&", "for", "the",
];

/// Capitalised words that start sentences or denote no entity.
const NOT_NAMES: &[&str] = &[
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "after",
    "before",
    "when",
    "while",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "he",
    "she",
    "they",
    "we",
    "i",
    "you",
    "his",
    "her",
    "their",
    "our",
    "but",
    "and",
    "or",
    "yet",
    "so",
    "however",
    "meanwhile",
    "last",
    "next",
    "according",
    "if",
    "as",
    "by",
    "for",
    "from",
    "with",
    "without",
    "under",
    "over",
    "during",
    "since",
    "there",
    "here",
    "what",
    "who",
    "whom",
    "which",
    "why",
    "how",
    "where",
    "some",
    "many",
    "most",
    "all",
    "both",
    "each",
    "every",
    "no",
    "not",
    "one",
    "two",
    "three",
    "four",
    "five",
    "first",
    "second",
    "third",
    "later",
    "earlier",
    "today",
    "yesterday",
    "tomorrow",
    "then",
    "also",
    "still",
    "even",
    "only",
    "such",
    "other",
    "another",
    "several",
    "few",
    "more",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "mr",
    "mrs",
    "ms",
    "dr",
    "page",
    "section",
    "chapter",
    "table",
    "figure",
    "note",
    "notes",
    "source",
    "sources",
    "update",
    "editorial",
    "opinion",
    "analysis",
    "minutes",
    "agenda",
    "item",
    "present",
    "absent",
    "q",
    "a",
    "yes",
    "thank",
    "thanks",
    "good",
    "although",
    "because",
    "once",
    "despite",
    "until",
    "unless",
    "whether",
    "within",
    "among",
    "between",
    "against",
    "about",
    "above",
    "below",
    "into",
    "onto",
    "upon",
    "throughout",
    "now",
    "never",
    "always",
    "perhaps",
    "instead",
    "indeed",
    "finally",
    "overall",
    "nearly",
    "almost",
    "residents",
    "officials",
    "critics",
    "supporters",
    "members",
    "workers",
    "city",
];

/// (relation type, active phrases, passive phrases). Passive phrases reverse the direction:
/// "A was backed by B" is B → supports → A.
const TRIGGERS: &[(&str, &[&str], &[&str])] = &[
    (
        "founded",
        &["co-founded", "founded", "established", "set up", "created"],
        &["founded by", "established by", "set up by", "created by"],
    ),
    (
        "leads",
        &[
            "leads",
            "led",
            "heads",
            "headed",
            "chairs",
            "chaired",
            "runs",
            "ran",
            "directs",
            "directed",
            "presides over",
            "leader of",
            "head of",
            "chair of",
            "chairman of",
            "chairwoman of",
            "chief executive of",
            "ceo of",
            "director of",
            "president of",
            "mayor of",
            "secretary of",
            "editor of",
            "captain of",
            "governor of",
        ],
        &[
            "led by",
            "headed by",
            "chaired by",
            "run by",
            "directed by",
            "managed by",
        ],
    ),
    (
        "supports",
        &[
            "backed",
            "backs",
            "supported",
            "supports",
            "endorsed",
            "endorses",
            "championed",
            "sponsored",
            "campaigned for",
            "voted for",
            "stood behind",
            "defended",
            "praised",
        ],
        &[
            "backed by",
            "supported by",
            "endorsed by",
            "sponsored by",
            "championed by",
            "defended by",
        ],
    ),
    (
        "funds",
        &[
            "funded",
            "funds",
            "financed",
            "finances",
            "bankrolled",
            "donated to",
            "donated",
            "lent",
            "loaned",
            "paid",
        ],
        &[
            "funded by",
            "financed by",
            "bankrolled by",
            "paid by",
            "loaned by",
        ],
    ),
    (
        "opposes",
        &[
            "opposed",
            "opposes",
            "criticised",
            "criticized",
            "criticises",
            "criticizes",
            "accused",
            "accuses",
            "attacked",
            "condemned",
            "sued",
            "challenged",
            "denounced",
            "blocked",
            "voted against",
            "investigated",
            "investigates",
            "rivals",
            "rival of",
            "clashed with",
            "campaigned against",
            "defeated",
            "beat",
            "charged",
            "prosecuted",
            "fired",
            "dismissed",
        ],
        &[
            "opposed by",
            "criticised by",
            "criticized by",
            "accused by",
            "investigated by",
            "sued by",
            "challenged by",
            "condemned by",
            "defeated by",
            "charged by",
            "prosecuted by",
            "fired by",
            "dismissed by",
        ],
    ),
    (
        "family",
        &[
            "married",
            "married to",
            "wife of",
            "husband of",
            "daughter of",
            "son of",
            "brother of",
            "sister of",
            "cousin of",
            "father of",
            "mother of",
            "niece of",
            "nephew of",
            "uncle of",
            "aunt of",
            "in-law of",
            "widow of",
            "grandson of",
            "granddaughter of",
            "brother-in-law of",
            "sister-in-law of",
            "son-in-law of",
            "daughter-in-law of",
        ],
        &[],
    ),
    (
        "member_of",
        &[
            "member of",
            "joined",
            "belongs to",
            "sits on",
            "serves on",
            "elected to",
            "seat on",
            "candidate for",
            "ran for",
            "stood for",
            "spokesperson for",
            "spokesman for",
            "spokeswoman for",
            "treasurer of",
            "official of",
            "organiser for",
            "organizer for",
        ],
        &[],
    ),
    (
        "works_for",
        &[
            "works for",
            "worked for",
            "employed by",
            "advises",
            "advised",
            "adviser to",
            "advisor to",
            "lawyer for",
            "counsel to",
            "represents",
            "represented",
            "consultant to",
            "lobbied for",
            "lobbyist for",
        ],
        &[],
    ),
    (
        "allied_with",
        &[
            "allied with",
            "allies with",
            "ally of",
            "partnered with",
            "coalition with",
            "teamed up with",
            "signed a deal with",
            "agreement with",
            "joined forces with",
            "merged with",
            "partner of",
        ],
        &[],
    ),
    (
        "owns",
        &[
            "owns",
            "owned",
            "acquired",
            "bought",
            "controls",
            "controlled",
            "took over",
            "stake in",
            "holds a stake in",
            "publishes",
            "published",
            "operates",
            "operated",
        ],
        &[
            "owned by",
            "acquired by",
            "bought by",
            "controlled by",
            "taken over by",
            "published by",
            "operated by",
        ],
    ),
    (
        "located_in",
        &[
            "based in",
            "headquartered in",
            "located in",
            "lives in",
            "live in",
            "offices in",
            "office in",
            "operates in",
            "built in",
            "born in",
            "grew up in",
            "represents",
        ],
        &[],
    ),
    (
        "contracted",
        &[
            "awarded",
            "hired",
            "contracted",
            "commissioned",
            "appointed",
            "nominated",
            "granted",
        ],
        &[
            "awarded to",
            "hired by",
            "contracted by",
            "commissioned by",
            "appointed by",
            "nominated by",
            "granted to",
        ],
    ),
    (
        "met_with",
        &[
            "met with",
            "met",
            "negotiated with",
            "talked with",
            "spoke with",
            "dined with",
            "meeting with",
            "talks with",
            "visited",
        ],
        &[],
    ),
];

/// Arabic cue words: (cue, entity type, how many following words form the name).
const ARABIC_CUES: &[(&str, &str, usize)] = &[
    ("السيد", "person", 2),
    ("السيدة", "person", 2),
    ("الوزير", "person", 2),
    ("الوزيرة", "person", 2),
    ("القاضي", "person", 2),
    ("القاضية", "person", 2),
    ("الدكتور", "person", 2),
    ("الدكتورة", "person", 2),
    ("المستشار", "person", 2),
    ("المستشارة", "person", 2),
    ("العمدة", "person", 2),
    ("رئيس البلدية", "person", 2),
    ("رئيسة البلدية", "person", 2),
    ("عضو المجلس", "person", 2),
    ("عضوة المجلس", "person", 2),
    ("شركة", "organization", 2),
    ("حزب", "organization", 2),
    ("نقابة", "organization", 2),
    ("بنك", "organization", 1),
    ("صحيفة", "organization", 1),
    ("هيئة", "organization", 2),
    ("جمعية", "organization", 2),
    ("لجنة", "organization", 2),
    ("مؤسسة", "organization", 2),
    ("مجلس", "organization", 1),
    ("حي", "location", 1),
    ("منطقة", "location", 1),
    ("ميناء", "location", 1),
    ("مدينة", "location", 1),
    ("شارع", "location", 1),
    ("ساحة", "location", 1),
    ("رصيف", "location", 1),
];

#[derive(Debug, Clone)]
struct Span {
    /// Byte range of the name in the sentence.
    start: usize,
    end: usize,
    name: String,
    ty: &'static str,
    /// Title present before the name (a person cue).
    titled: bool,
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn is_capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() => true,
        // al-Rashid, d'Arcy, McDonald-style prefixes with a capital after the joiner
        Some(c) if c.is_lowercase() => {
            let rest: String = word.chars().skip_while(|c| c.is_lowercase()).collect();
            let mut r = rest.chars();
            matches!(r.next(), Some('-' | '\'' | '’'))
                && r.next().is_some_and(char::is_uppercase)
                && word.len() <= 40
        }
        _ => false,
    }
}

/// Words of a sentence with byte offsets; trailing punctuation is stripped from words.
fn words(sentence: &str) -> Vec<(usize, &str)> {
    sentence
        .split_word_bound_indices()
        .filter(|(_, w)| w.chars().any(char::is_alphanumeric) || *w == "&")
        .collect()
}

fn strip_possessive(w: &str) -> &str {
    w.strip_suffix("'s")
        .or_else(|| w.strip_suffix("’s"))
        .unwrap_or(w)
}

fn classify(tokens: &[&str], titled: bool) -> &'static str {
    let last = tokens.last().map(|t| lower(t)).unwrap_or_default();
    let first = tokens.first().map(|t| lower(t)).unwrap_or_default();
    if tokens.len() >= 2 && last == "family" {
        return "group";
    }
    if tokens
        .iter()
        .any(|t| ORG_WORDS.contains(&lower(t).as_str()))
    {
        return "organization";
    }
    if PLACE_WORDS.contains(&last.as_str())
        || (tokens.len() >= 2 && PLACE_PREFIXES.contains(&first.as_str()))
    {
        return "location";
    }
    if titled {
        return "person";
    }
    if (2..=4).contains(&tokens.len()) {
        return "person";
    }
    "unknown"
}

/// Find capitalised name spans in one sentence.
fn name_spans(sentence: &str) -> Vec<Span> {
    let ws = words(sentence);
    let mut spans = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let (start, w) = ws[i];
        let wl = lower(w);
        // Title cue: "Mayor Victoria Lund", "Dr. Anders Holm".
        let mut titled = false;
        let mut j = i;
        while j < ws.len() && TITLES.contains(&lower(ws[j].1).as_str()) {
            titled = true;
            j += 1;
        }
        if titled && j < ws.len() && is_capitalised(ws[j].1) {
            i = j;
        } else if titled {
            i = j.max(i + 1);
            continue;
        }
        let (s0, w0) = ws[i];
        if !is_capitalised(w0) || (NOT_NAMES.contains(&lower(w0).as_str()) && !titled) {
            // "the Harbour Trust": skip leading article, the name starts at the next word.
            let _ = (start, wl);
            i += 1;
            continue;
        }
        let mut end_idx = i;
        let mut k = i + 1;
        while k < ws.len() {
            let (_, wk) = ws[k];
            let gap = &sentence[ws[k - 1].0 + ws[k - 1].1.len()..ws[k].0];
            if gap.contains([',', ';', ':', '(', ')', '"', '“', '”', '.', '!', '?', '\n']) {
                break;
            }
            if is_capitalised(wk) && !NOT_NAMES.contains(&lower(wk).as_str()) {
                end_idx = k;
                k += 1;
                continue;
            }
            if CONNECTORS.contains(&lower(wk).as_str())
                && k + 1 < ws.len()
                && is_capitalised(ws[k + 1].1)
                && !NOT_NAMES.contains(&lower(ws[k + 1].1).as_str())
            {
                k += 1;
                continue;
            }
            break;
        }
        let (e0, ew) = ws[end_idx];
        let mut end = e0 + ew.len();
        let raw = &sentence[s0..end];
        let stripped = strip_possessive(raw);
        end -= raw.len() - stripped.len();
        let tokens: Vec<&str> = sentence[s0..end].split_whitespace().collect();
        let ty = classify(&tokens, titled);
        spans.push(Span {
            start: s0,
            end,
            name: sentence[s0..end].to_owned(),
            ty,
            titled,
        });
        i = end_idx + 1;
    }
    spans
}

/// Arabic names after cue words.
fn arabic_spans(sentence: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    for (cue, ty, n) in ARABIC_CUES {
        let mut from = 0;
        while let Some(pos) = sentence[from..].find(cue) {
            let cue_start = from + pos;
            let after = cue_start + cue.len();
            from = after;
            // The cue must be a whole word.
            let before_ok = sentence[..cue_start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric() || c == 'و');
            if !before_ok || !sentence[after..].starts_with(' ') {
                continue;
            }
            let rest = &sentence[after..];
            let mut taken = Vec::new();
            let mut offset = after;
            for w in rest.split_inclusive(char::is_whitespace) {
                let word = w.trim_end();
                let clean = word.trim_end_matches(|c: char| !c.is_alphanumeric());
                if !clean.is_empty()
                    && clean
                        .chars()
                        .all(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
                {
                    taken.push((offset, clean));
                    if taken.len() == *n || clean.len() != word.len() {
                        break;
                    }
                } else if !word.is_empty() {
                    break;
                }
                offset += w.len();
            }
            if let (Some(first), Some(last)) = (taken.first(), taken.last()) {
                let (s, e) = (first.0, last.0 + last.1.len());
                let name = if *ty == "person" {
                    sentence[s..e].to_owned()
                } else {
                    format!("{} {}", cue, &sentence[s..e])
                };
                spans.push(Span {
                    start: if *ty == "person" { s } else { cue_start },
                    end: e,
                    name,
                    ty,
                    titled: *ty == "person",
                });
            }
        }
    }
    spans.sort_by_key(|s| s.start);
    spans.dedup_by(|b, a| b.start < a.end);
    spans
}

/// Question words that ask about a relation type without using a trigger phrase.
const QUESTION_CUES: &[(&str, &[&str])] = &[
    (
        "funds",
        &[
            "pay", "pays", "paid", "money", "fund", "finance", "financed", "donor", "donors",
            "donation", "loan", "loans", "bankroll",
        ],
    ),
    (
        "supports",
        &[
            "back",
            "backer",
            "backers",
            "support",
            "supporter",
            "supporters",
            "endorse",
            "ally",
            "champion",
        ],
    ),
    (
        "opposes",
        &[
            "oppose",
            "opponent",
            "opponents",
            "against",
            "critic",
            "critics",
            "criticise",
            "criticize",
            "rival",
            "rivals",
            "enemy",
            "enemies",
            "accuse",
        ],
    ),
    (
        "leads",
        &[
            "lead", "leader", "head", "chair", "run", "runs", "boss", "ceo", "director", "chief",
        ],
    ),
    (
        "owns",
        &[
            "own", "owner", "owners", "bought", "buy", "acquire", "control",
        ],
    ),
    (
        "family",
        &[
            "family",
            "relative",
            "relatives",
            "related",
            "married",
            "wife",
            "husband",
            "son",
            "daughter",
            "brother",
            "sister",
            "father",
            "mother",
            "children",
        ],
    ),
    ("member_of", &["member", "members", "belong", "join"]),
    (
        "works_for",
        &[
            "work", "works", "employee", "employer", "employs", "advise", "adviser", "advisor",
            "lawyer",
        ],
    ),
    (
        "allied_with",
        &["allied", "alliance", "partner", "partners", "coalition"],
    ),
    (
        "met_with",
        &["meet", "meeting", "meetings", "talks", "negotiate"],
    ),
    (
        "founded",
        &[
            "found",
            "founder",
            "founders",
            "established",
            "create",
            "started",
        ],
    ),
];

/// Relation types a question asks about ("who backed the minister?" → supports), from the
/// extractor's trigger phrases and a few question forms. Used to focus graph retrieval.
pub fn relation_types_in(question: &str) -> Vec<&'static str> {
    let text = format!(
        " {} ",
        lower(question)
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut types: Vec<&'static str> = Vec::new();
    for (ty, active, passive) in TRIGGERS {
        if active
            .iter()
            .chain(passive.iter())
            .any(|p| text.contains(&format!(" {p} ")))
            && !types.contains(ty)
        {
            types.push(ty);
        }
    }
    for (ty, cues) in QUESTION_CUES {
        if cues.iter().any(|p| text.contains(&format!(" {p} "))) && !types.contains(ty) {
            types.push(ty);
        }
    }
    types
}

fn find_trigger(between: &str) -> Option<(&'static str, bool)> {
    let text = format!(" {} ", lower(between).replace([',', ';', '\''], " "));
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = format!(" {text} ");
    let mut best: Option<(usize, usize, &'static str, bool)> = None; // (pos, -len, type, passive)
    for (ty, active, passive) in TRIGGERS {
        for (phrases, is_passive) in [(*passive, true), (*active, false)] {
            for p in phrases {
                if let Some(pos) = text.find(&format!(" {p} ")) {
                    let candidate = (pos, usize::MAX - p.len(), *ty, is_passive);
                    if best.is_none_or(|b| (candidate.0, candidate.1) < (b.0, b.1)) {
                        best = Some(candidate);
                    }
                }
            }
        }
    }
    best.map(|(_, _, ty, passive)| (ty, passive))
}

struct Found {
    key: String,
    name: String,
    ty: &'static str,
}

impl OfflineExtractor {
    fn sentence_entities(
        sentence: &str,
        persons_by_surname: &HashMap<String, Vec<usize>>,
        doc_entities: &[Found],
        known: &HashMap<String, &'static str>,
    ) -> Vec<(Span, Option<usize>)> {
        let mut spans = name_spans(sentence);
        spans.extend(arabic_spans(sentence));
        spans.sort_by_key(|s| s.start);
        let mut out = Vec::new();
        for mut span in spans {
            let key = name_key(&span.name);
            if span.ty == "unknown" {
                // A bare surname of exactly one person in this document is that person.
                if let Some(candidates) = persons_by_surname.get(&key)
                    && candidates.len() == 1
                {
                    out.push((span, Some(candidates[0])));
                    continue;
                }
                if let Some(ty) = known.get(&key) {
                    span.ty = ty;
                } else {
                    let before = lower(sentence[..span.start].trim_end());
                    if ["in", "at", "from", "near", "across", "around", "to"]
                        .iter()
                        .any(|p| before.ends_with(&format!(" {p}")) || before == *p)
                    {
                        span.ty = "location";
                    } else {
                        continue;
                    }
                }
            }
            let existing = doc_entities
                .iter()
                .position(|f| f.key == key && f.ty == span.ty);
            out.push((span, existing));
        }
        out
    }
}

fn is_arabic_letter(c: char) -> bool {
    ('\u{0600}'..='\u{06FF}').contains(&c) && c.is_alphabetic()
}

/// `حزب عمال الميناء (Harbour Labour Party)`: an Arabic name followed by a Latin one in
/// parentheses names one entity in two scripts. The Latin span keeps the entity (English
/// documents name it that way); the Arabic name — the Arabic span that ends at the bracket, or
/// else as many Arabic words as the Latin name has (at most four) — becomes its alias, so an
/// Arabic query finds the entity and, through it, the English evidence.
fn cross_script_aliases(
    sentence: &str,
    found: Vec<(Span, Option<usize>)>,
) -> Vec<(Span, Option<usize>, Vec<String>)> {
    let mut aliases: Vec<Vec<String>> = vec![Vec::new(); found.len()];
    let mut consumed = vec![false; found.len()];
    for (j, (latin, _)) in found.iter().enumerate() {
        if latin.name.chars().any(is_arabic_letter) {
            continue;
        }
        let before = sentence[..latin.start].trim_end();
        let after = sentence[latin.end..].trim_start();
        let (Some(before), true) = (before.strip_suffix('('), after.starts_with(')')) else {
            continue;
        };
        let before = before.trim_end_matches(|c: char| !c.is_alphanumeric());
        if !before.chars().next_back().is_some_and(is_arabic_letter) {
            continue;
        }
        let arabic_span = found
            .iter()
            .position(|(s, _)| s.end == before.len() && s.name.chars().any(is_arabic_letter));
        let alias = match arabic_span {
            Some(i) => {
                consumed[i] = true;
                found[i].0.name.clone()
            }
            None => {
                let wanted = latin.name.split_whitespace().count().clamp(1, 4);
                let words: Vec<&str> = before
                    .split_whitespace()
                    .rev()
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                    .take_while(|w| !w.is_empty() && w.chars().all(is_arabic_letter))
                    .take(wanted)
                    .collect();
                words.into_iter().rev().collect::<Vec<_>>().join(" ")
            }
        };
        if !alias.is_empty() {
            aliases[j].push(alias);
        }
    }
    found
        .into_iter()
        .zip(aliases)
        .zip(consumed)
        .filter(|(_, gone)| !gone)
        .map(|(((span, index), aliases), _)| (span, index, aliases))
        .collect()
}

/// Sentences (and lines) of a text, without all-capitals lines: headlines repeat the body's
/// names in a form where capitalisation says nothing ("WHY WE ENDORSE VICTORIA LUND").
fn sentences(text: &str) -> Vec<&str> {
    text.split_sentence_bounds()
        .flat_map(|s| s.split('\n'))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter(|s| {
            let letters = s.chars().filter(|c| c.is_alphabetic()).count();
            let upper = s.chars().filter(|c| c.is_uppercase()).count();
            !(letters >= 8 && upper * 10 >= letters * 8)
        })
        .collect()
}

impl Extractor for OfflineExtractor {
    fn name(&self) -> &str {
        "offline"
    }

    fn extract(&self, chunks: &[&str]) -> Result<Vec<ChunkExtraction>> {
        // Pass 1: typed multi-word names of the whole document, so bare surnames and
        // sentence-initial single words can be resolved in pass 2.
        let mut doc_entities: Vec<Found> = Vec::new();
        let mut known: HashMap<String, &'static str> = HashMap::new();
        for chunk in chunks {
            for sentence in sentences(chunk) {
                let mut spans = name_spans(sentence);
                spans.extend(arabic_spans(sentence));
                for span in spans {
                    if span.ty == "unknown" {
                        continue;
                    }
                    let key = name_key(&span.name);
                    if key.is_empty() {
                        continue;
                    }
                    known.entry(key.clone()).or_insert(span.ty);
                    if !doc_entities.iter().any(|f| f.key == key && f.ty == span.ty) {
                        doc_entities.push(Found {
                            key,
                            name: span.name.clone(),
                            ty: span.ty,
                        });
                    }
                }
            }
        }
        let mut persons_by_surname: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in doc_entities.iter().enumerate() {
            if f.ty == "person"
                && let Some(surname) = f.key.split(' ').next_back()
                && f.key.contains(' ')
            {
                persons_by_surname
                    .entry(surname.to_owned())
                    .or_default()
                    .push(i);
            }
        }

        // Pass 2: per chunk, entities with counts and relations.
        let mut out = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let mut extraction = ChunkExtraction::default();
            let mut seen: HashMap<(String, &'static str), usize> = HashMap::new();
            for sentence in sentences(chunk) {
                let found =
                    Self::sentence_entities(sentence, &persons_by_surname, &doc_entities, &known);
                let found = cross_script_aliases(sentence, found);
                let mut occurrences: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, entity idx in extraction)
                for (span, doc_index, other_scripts) in found {
                    let (name, ty) = match doc_index {
                        Some(i) => (doc_entities[i].name.clone(), doc_entities[i].ty),
                        None => (span.name.clone(), span.ty),
                    };
                    let key = (name_key(&name), ty);
                    let idx = match seen.get(&key) {
                        Some(i) => {
                            extraction.entities[*i].count += 1;
                            for alias in &other_scripts {
                                if !extraction.entities[*i].aliases.contains(alias) {
                                    extraction.entities[*i].aliases.push(alias.clone());
                                }
                            }
                            *i
                        }
                        None => {
                            let description: String = sentence.chars().take(240).collect();
                            let mut aliases = Vec::new();
                            if ty == "person" && name_key(&name).contains(' ') {
                                // The surname alone finds the person in queries ("Lund").
                                if let Some(surname) = name.split_whitespace().next_back() {
                                    let surname = strip_possessive(surname).to_owned();
                                    if persons_by_surname
                                        .get(&name_key(&surname))
                                        .is_some_and(|v| v.len() == 1)
                                    {
                                        aliases.push(surname);
                                    }
                                }
                            }
                            if span.name != name {
                                aliases.push(span.name.clone());
                            }
                            aliases.extend(other_scripts);
                            extraction.entities.push(ExtractedEntity {
                                name: name.clone(),
                                entity_type: ty.to_owned(),
                                description,
                                aliases,
                                count: 1,
                            });
                            seen.insert(key, extraction.entities.len() - 1);
                            extraction.entities.len() - 1
                        }
                    };
                    let _ = span.titled;
                    occurrences.push((span.start, span.end, idx));
                }
                // Relations between consecutive names, and from the first name (the subject)
                // to later ones when a trigger sits between them.
                let mut linked: HashSet<(usize, usize)> = HashSet::new();
                for a in 0..occurrences.len() {
                    for b in a + 1..occurrences.len().min(a + 4) {
                        let (sa, ea, ia) = occurrences[a];
                        let (sb, _, ib) = occurrences[b];
                        let _ = sa;
                        if ia == ib || sb < ea || sb - ea > 160 {
                            continue;
                        }
                        let between = &sentence[ea..sb];
                        let relation = match find_trigger(between) {
                            Some((ty, passive)) => Some((ty, passive)),
                            None if b == a + 1 => Some(("associated_with", false)),
                            None => None,
                        };
                        let Some((ty, passive)) = relation else {
                            continue;
                        };
                        let (s, t) = if passive { (ib, ia) } else { (ia, ib) };
                        if !linked.insert((s.min(t), s.max(t))) {
                            continue;
                        }
                        let se = &extraction.entities[s];
                        let te = &extraction.entities[t];
                        extraction.relations.push(ExtractedRelation {
                            source: se.name.clone(),
                            source_type: Some(se.entity_type.clone()),
                            target: te.name.clone(),
                            target_type: Some(te.entity_type.clone()),
                            relation_type: ty.to_owned(),
                            description: sentence.chars().take(300).collect(),
                        });
                    }
                }
            }
            out.push(extraction);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> ChunkExtraction {
        OfflineExtractor
            .extract(&[text])
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default()
    }

    fn has(e: &ChunkExtraction, name: &str, ty: &str) -> bool {
        e.entities
            .iter()
            .any(|x| x.name == name && x.entity_type == ty)
    }

    fn rel(e: &ChunkExtraction, s: &str, ty: &str, t: &str) -> bool {
        e.relations
            .iter()
            .any(|r| r.source == s && r.relation_type == ty && r.target == t)
    }

    #[test]
    fn finds_people_organisations_and_places_by_cues() {
        let e = run(
            "Mayor Victoria Lund met the Dockworkers Union in the Saltmarket District. \
                     The Halvard Shipping Company is based in Port Halvard.",
        );
        assert!(has(&e, "Victoria Lund", "person"), "{e:?}");
        assert!(has(&e, "Dockworkers Union", "organization"));
        assert!(has(&e, "Saltmarket District", "location"));
        assert!(has(&e, "Halvard Shipping Company", "organization"));
        assert!(has(&e, "Port Halvard", "location"));
        assert!(
            rel(&e, "Halvard Shipping Company", "located_in", "Port Halvard"),
            "{:?}",
            e.relations
        );
    }

    #[test]
    fn passive_voice_reverses_the_relation() {
        let e = run("Councillor Anders Holm was backed by the Bank of Halvard.");
        assert!(
            rel(&e, "Bank of Halvard", "supports", "Anders Holm"),
            "{:?}",
            e.relations
        );
    }

    #[test]
    fn bare_surname_resolves_to_the_person_named_earlier() {
        let out = OfflineExtractor
            .extract(&[
                "Ingrid Valtersen chairs the Harbour Trust.",
                "Later, Valtersen opposed the Civic Renewal Party.",
            ])
            .unwrap_or_default();
        assert!(
            rel(
                &out[1],
                "Ingrid Valtersen",
                "opposes",
                "Civic Renewal Party"
            ),
            "{:?}",
            out[1]
        );
    }

    #[test]
    fn same_name_different_types_stay_apart() {
        let e = run("Victoria Lund toured Victoria District. Edward Marsh founded Marsh Holdings.");
        assert!(has(&e, "Victoria Lund", "person"));
        assert!(has(&e, "Victoria District", "location"));
        assert!(
            rel(&e, "Edward Marsh", "founded", "Marsh Holdings"),
            "{:?}",
            e.relations
        );
    }

    #[test]
    fn questions_name_the_relation_types_they_ask_about() {
        assert_eq!(
            relation_types_in("Who backed the minister?"),
            vec!["supports"]
        );
        assert_eq!(
            relation_types_in("What did Ingrid Valtersen pay for?"),
            vec!["funds"]
        );
        assert!(relation_types_in("Who leads the Dockworkers Union?").contains(&"leads"));
        assert!(relation_types_in("Tell me about the harbour").is_empty());
    }

    #[test]
    fn all_capitals_headlines_yield_no_shouting_fragments() {
        let e = run(
            "EDITORIAL: WHY WE ENDORSE VICTORIA LUND\nThe Gazette endorses Victoria Lund for mayor.",
        );
        assert!(has(&e, "Victoria Lund", "person"), "{e:?}");
        assert!(
            !e.entities
                .iter()
                .any(|x| x.name.chars().all(|c| !c.is_lowercase())),
            "{e:?}"
        );
    }

    #[test]
    fn an_arabic_name_with_its_latin_form_in_brackets_becomes_an_alias() {
        let e = run(
            "فازت فيكتوريا لوند، زعيمة حزب عمال الميناء (Harbour Labour Party)، بمنصب العمدة. \
             موّل صندوق الميناء (Harbour Trust) هدم السوق.",
        );
        let party = e
            .entities
            .iter()
            .find(|x| x.name == "Harbour Labour Party")
            .unwrap_or_else(|| panic!("{e:?}"));
        assert_eq!(party.aliases, vec!["حزب عمال الميناء".to_owned()]);
        let trust = e
            .entities
            .iter()
            .find(|x| x.name == "Harbour Trust")
            .unwrap_or_else(|| panic!("{e:?}"));
        assert_eq!(trust.aliases, vec!["صندوق الميناء".to_owned()]);
        // The Arabic span was folded into the Latin entity, not kept as a second one.
        assert!(
            !e.entities.iter().any(|x| x.name == "حزب عمال الميناء"),
            "{e:?}"
        );
    }

    #[test]
    fn arabic_names_follow_cue_words() {
        let e = run("التقى السيد أنders بممثلي شركة الشحن الكبرى في حي الميناء.");
        assert!(
            e.entities
                .iter()
                .any(|x| x.entity_type == "organization" && x.name.starts_with("شركة")),
            "{e:?}"
        );
        assert!(
            e.entities
                .iter()
                .any(|x| x.entity_type == "location" && x.name.starts_with("حي"))
        );
    }
}
