//! BERT WordPiece tokenisation, reading a Hugging Face `tokenizer.json`.
//!
//! Reproduces what the `tokenizers` library does for BERT-family models, which is what
//! sentence-transformers runs: special tokens written in the text (`[CLS]`, `[SEP]`, ...)
//! are matched on the raw text first; the rest is normalised (`BertNormalizer`: control
//! characters dropped, whitespace folded, CJK ideographs isolated, accents stripped,
//! lowercased), split on whitespace and punctuation (`BertPreTokenizer`), and cut into
//! greedy longest-match word pieces (`WordPiece`). The padding and truncation stored in the
//! file are ignored: the embedder truncates to its own maximum and never pads.

use std::collections::HashMap;

use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

use super::Error;

/// The ids of the special tokens the encoder wraps every text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Specials {
    /// `[CLS]`, first token of every sequence.
    pub cls: u32,
    /// `[SEP]`, last token of every sequence.
    pub sep: u32,
    /// `[UNK]`, for words the vocabulary cannot spell.
    pub unk: u32,
    /// `[PAD]`.
    pub pad: u32,
}

/// A BERT tokenizer: vocabulary, normaliser flags and special tokens.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    vocab: HashMap<String, u32>,
    /// The vocabulary's entries keyed as `##piece` looked up without allocating: same map.
    prefix: String,
    max_word_chars: usize,
    clean_text: bool,
    chinese_chars: bool,
    strip_accents: bool,
    lowercase: bool,
    /// Added tokens matched verbatim in the raw text, longest first.
    added: Vec<(String, u32)>,
    specials: Specials,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Model {
        file: "tokenizer.json",
        reason: reason.into(),
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B920..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_punctuation()
}

impl Tokenizer {
    /// Parses a `tokenizer.json` holding a WordPiece model with a `BertNormalizer`.
    pub fn from_json(text: &str) -> Result<Tokenizer, Error> {
        // Two typed passes (serde skips what a struct does not name, without allocating):
        // the model's type first, so another kind of tokenizer gets a clear error, then
        // the WordPiece fields with the 30k-entry vocabulary read straight into its map.
        #[derive(serde::Deserialize)]
        struct Kind {
            model: KindOnly,
        }
        #[derive(serde::Deserialize)]
        struct KindOnly {
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct File {
            model: WordPieceJson,
            #[serde(default)]
            normalizer: serde_json::Value,
            #[serde(default)]
            pre_tokenizer: serde_json::Value,
            #[serde(default)]
            added_tokens: serde_json::Value,
        }
        #[derive(serde::Deserialize)]
        struct WordPieceJson {
            vocab: HashMap<String, u32>,
            continuing_subword_prefix: Option<String>,
            max_input_chars_per_word: Option<usize>,
            unk_token: Option<String>,
        }
        let k: Kind =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON of a tokenizer: {e}")))?;
        let kind = k.model.kind.unwrap_or_default();
        if kind != "WordPiece" {
            return Err(Error::UnsupportedArchitecture(format!(
                "tokenizer model {kind:?}: only WordPiece (BERT-family) tokenizers are supported"
            )));
        }
        let f: File =
            serde_json::from_str(text).map_err(|e| bad(format!("WordPiece model: {e}")))?;
        let vocab = f.model.vocab;
        let prefix = f
            .model
            .continuing_subword_prefix
            .unwrap_or_else(|| "##".into());
        let max_word_chars = f.model.max_input_chars_per_word.unwrap_or(100);
        let unk_tok = f.model.unk_token.unwrap_or_else(|| "[UNK]".into());
        let unk_tok = unk_tok.as_str();
        let v = serde_json::json!({"normalizer": f.normalizer, "pre_tokenizer": f.pre_tokenizer, "added_tokens": f.added_tokens});

        let norm = v.get("normalizer").filter(|n| !n.is_null());
        let (mut clean_text, mut chinese_chars, mut strip_accents, mut lowercase) =
            (false, false, false, false);
        if let Some(n) = norm {
            let t = n.get("type").and_then(|x| x.as_str()).unwrap_or("");
            if t != "BertNormalizer" {
                return Err(Error::UnsupportedArchitecture(format!(
                    "tokenizer normalizer {t:?}: only BertNormalizer is supported"
                )));
            }
            let flag = |k: &str, d: bool| n.get(k).and_then(|x| x.as_bool()).unwrap_or(d);
            clean_text = flag("clean_text", true);
            chinese_chars = flag("handle_chinese_chars", true);
            lowercase = flag("lowercase", true);
            // null means "follow lowercase", as in BERT's original tokenizer.
            strip_accents = n
                .get("strip_accents")
                .and_then(|x| x.as_bool())
                .unwrap_or(lowercase);
        }
        if let Some(p) = v.get("pre_tokenizer").filter(|p| !p.is_null()) {
            let t = p.get("type").and_then(|x| x.as_str()).unwrap_or("");
            if t != "BertPreTokenizer" {
                return Err(Error::UnsupportedArchitecture(format!(
                    "tokenizer pre_tokenizer {t:?}: only BertPreTokenizer is supported"
                )));
            }
        }
        let mut added = Vec::new();
        if let Some(list) = v.get("added_tokens").and_then(|x| x.as_array()) {
            for t in list {
                let content = t
                    .get("content")
                    .and_then(|x| x.as_str())
                    .ok_or_else(|| bad("added token without content"))?;
                let id = t
                    .get("id")
                    .and_then(|x| x.as_u64())
                    .ok_or_else(|| bad("added token without id"))? as u32;
                let normalized = t
                    .get("normalized")
                    .and_then(|x| x.as_bool())
                    .unwrap_or(false);
                if !normalized && !content.is_empty() {
                    added.push((content.to_string(), id));
                }
            }
        }
        added.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let lookup = |name: &str| -> Result<u32, Error> {
            vocab
                .get(name)
                .copied()
                .ok_or_else(|| bad(format!("the vocabulary has no {name}")))
        };
        let specials = Specials {
            cls: lookup("[CLS]")?,
            sep: lookup("[SEP]")?,
            unk: lookup(unk_tok)?,
            pad: lookup("[PAD]")?,
        };
        Ok(Tokenizer {
            vocab,
            prefix,
            max_word_chars,
            clean_text,
            chinese_chars,
            strip_accents,
            lowercase,
            added,
            specials,
        })
    }

    /// The special-token ids.
    pub fn specials(&self) -> Specials {
        self.specials
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The token ids of `text` without `[CLS]`/`[SEP]`, appended to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        let mut rest = text;
        let mut scratch = String::new();
        'outer: while !rest.is_empty() {
            // The earliest added token (longest at a tie) splits the text; the part before it
            // is ordinary text.
            let mut best: Option<(usize, usize, u32)> = None;
            for (tok, id) in &self.added {
                if let Some(pos) = rest.find(tok.as_str()) {
                    if best.is_none_or(|(p, l, _)| pos < p || (pos == p && tok.len() > l)) {
                        best = Some((pos, tok.len(), *id));
                    }
                }
            }
            match best {
                Some((pos, len, id)) => {
                    self.encode_plain(&rest[..pos], &mut scratch, out);
                    out.push(id);
                    rest = &rest[pos + len..];
                }
                None => {
                    self.encode_plain(rest, &mut scratch, out);
                    break 'outer;
                }
            }
        }
    }

    /// Number of tokens `text` becomes, `[CLS]` and `[SEP]` included, before truncation.
    pub fn count(&self, text: &str) -> usize {
        let mut ids = Vec::new();
        self.encode_into(text, &mut ids);
        ids.len() + 2
    }

    /// `[CLS] tokens [SEP]`, the tokens cut so the whole is at most `max_len` (>= 2).
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids = vec![self.specials.cls];
        self.encode_into(text, &mut ids);
        ids.truncate(max_len.max(2) - 1);
        ids.push(self.specials.sep);
        ids
    }

    fn normalize(&self, text: &str, out: &mut String) {
        out.clear();
        let mut stage1 = String::with_capacity(text.len());
        for c in text.chars() {
            if self.clean_text {
                if c == '\0' || c == '\u{fffd}' || is_control(c) {
                    continue;
                }
                if is_whitespace(c) {
                    stage1.push(' ');
                    continue;
                }
            }
            if self.chinese_chars && is_chinese(c) {
                stage1.push(' ');
                stage1.push(c);
                stage1.push(' ');
            } else {
                stage1.push(c);
            }
        }
        let push_lower = |out: &mut String, c: char| {
            if self.lowercase {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        };
        if self.strip_accents {
            for c in stage1.nfd().filter(|c| !c.is_mark_nonspacing()) {
                push_lower(out, c);
            }
        } else {
            for c in stage1.chars() {
                push_lower(out, c);
            }
        }
    }

    fn encode_plain(&self, text: &str, scratch: &mut String, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        self.normalize(text, scratch);
        for word in scratch.split(char::is_whitespace) {
            // Each punctuation character is a word of its own.
            let mut start = 0;
            for (i, c) in word.char_indices() {
                if is_punctuation(c) {
                    if start < i {
                        self.wordpiece(&word[start..i], out);
                    }
                    self.wordpiece(&word[i..i + c.len_utf8()], out);
                    start = i + c.len_utf8();
                }
            }
            if start < word.len() {
                self.wordpiece(&word[start..], out);
            }
        }
    }

    fn wordpiece(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > self.max_word_chars {
            out.push(self.specials.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        let mut key = String::with_capacity(word.len() + self.prefix.len());
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                key.clear();
                if start > 0 {
                    key.push_str(&self.prefix);
                }
                key.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(key.as_str()) {
                    found = Some(id);
                    break;
                }
                // Step back one character.
                end = word[..end]
                    .char_indices()
                    .next_back()
                    .map_or(start, |(i, _)| i);
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(mark);
                    out.push(self.specials.unk);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Tokenizer {
        let vocab = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "!", "un", "##aff", "##able",
            "cafe", "中", "a",
        ];
        let vocab: serde_json::Map<String, serde_json::Value> = vocab
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), serde_json::json!(i)))
            .collect();
        let json = serde_json::json!({
            "added_tokens": [{"id": 2, "content": "[CLS]", "normalized": false}, {"id": 3, "content": "[SEP]", "normalized": false}],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 10, "vocab": vocab}
        });
        Tokenizer::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn bert_normalisation_pretokenisation_and_wordpiece() {
        let t = tiny();
        assert_eq!(t.encode("Hello, World!", 64), vec![2, 4, 1, 5, 6, 3]);
        assert_eq!(t.encode("unaffable", 64), vec![2, 7, 8, 9, 3]);
        // Accents stripped (composed and decomposed), control characters dropped, CJK split.
        assert_eq!(
            t.encode("Caf\u{e9} cafe\u{301}\u{0}\u{200b}中a", 64),
            vec![2, 10, 10, 11, 12, 3]
        );
        // A word the pieces cannot spell, and one longer than the word limit, are [UNK].
        assert_eq!(t.encode("unx helloworldhello", 64), vec![2, 1, 1, 3]);
        // Special tokens written in the text are matched verbatim, not normalised.
        assert_eq!(
            t.encode("hello[SEP]world [cls]", 64),
            vec![2, 4, 3, 5, 1, 1, 1, 3]
        );
        assert_eq!(t.count(""), 2);
        assert_eq!(t.encode("", 64), vec![2, 3]);
        // Truncation keeps [CLS] and [SEP].
        assert_eq!(t.encode("hello world hello world", 4), vec![2, 4, 5, 3]);
    }

    #[test]
    fn other_tokenizers_are_refused_with_their_type() {
        let err = Tokenizer::from_json(r#"{"model": {"type": "BPE"}}"#).unwrap_err();
        assert!(err.to_string().contains("BPE"), "{err}");
        assert!(Tokenizer::from_json("{")
            .unwrap_err()
            .to_string()
            .contains("tokenizer.json"));
    }
}
