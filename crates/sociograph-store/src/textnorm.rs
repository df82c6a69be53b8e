//! Text normalisation shared by indexing and querying.
//!
//! Both sides must agree, so the FTS index and entity keys are built from [`normalize`] output.
//! Beyond case folding it unifies Arabic spelling variants (hamza-carrying alefs, alef maqsura,
//! taa marbuta), drops tashkeel and tatweel, and folds compatibility forms (NFKC), so Arabic text
//! matches however it was typed.

use unicode_normalization::UnicodeNormalization;

/// Lower-cased, NFKC-folded text with Arabic variants unified. Keeps word boundaries.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkc() {
        match c {
            // Arabic tashkeel (harakat, shadda, sukun, superscript alef) and tatweel.
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => {}
            'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
            'ى' => out.push('ي'),
            'ة' => out.push('ه'),
            // Typographic apostrophes and dashes join name parts ("O’Neil", "al‑Rashid").
            '\u{2019}' | '\u{2018}' => out.push('\''),
            '\u{2010}'..='\u{2015}' => out.push('-'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Words of `text` after [`normalize`]: runs of alphanumerics (any script).
pub fn words(text: &str) -> Vec<String> {
    normalize(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The identity key of a name: its normalised words joined by single spaces.
pub fn name_key(name: &str) -> String {
    words(name).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_variants_fold_to_one_spelling() {
        assert_eq!(normalize("أحمد"), normalize("احمد"));
        assert_eq!(normalize("مَدِينَة"), "مدينه");
        assert_eq!(normalize("مـــدينة"), "مدينه");
    }

    #[test]
    fn name_key_ignores_case_punctuation_and_spacing() {
        assert_eq!(name_key("  Leila  HADDAD "), "leila haddad");
        assert_eq!(name_key("O’Neil-Smith, Jr."), "o neil smith jr");
    }
}
