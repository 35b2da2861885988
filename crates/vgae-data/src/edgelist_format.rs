//! How an edge-list file is laid out, and the rules that decide it when the user does not say: the delimiter
//! (comma, tab or whitespace), whether the first row is a header, the type of the node ids and the weight
//! column. [`crate::edgelist::load_with_format`] returns the decisions so `vgae data info` can print them.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What separates the fields of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delimiter {
    /// `,` (CSV).
    Comma,
    /// A tab (TSV).
    Tab,
    /// Runs of spaces (and tabs inside a field's padding), as `networkx.write_edgelist` writes.
    Whitespace,
}

impl Delimiter {
    /// The rule used when no delimiter is given: on the first row that is neither blank nor a `#` comment,
    /// with quoted text ignored, a comma if there is one, else a tab if there is one, else whitespace.
    pub fn detect(text: &str) -> Delimiter {
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        let mut quoted = false;
        let unquoted: String = first
            .chars()
            .filter(|&c| {
                if c == '"' {
                    quoted = !quoted;
                }
                !quoted
            })
            .collect();
        if unquoted.contains(',') {
            Delimiter::Comma
        } else if unquoted.contains('\t') {
            Delimiter::Tab
        } else {
            Delimiter::Whitespace
        }
    }

    /// The byte the CSV reader splits on (whitespace: a space, empty fields dropped).
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Tab => b'\t',
            Delimiter::Whitespace => b' ',
        }
    }

    /// `comma`, `tab` or `whitespace`.
    pub fn name(self) -> &'static str {
        match self {
            Delimiter::Comma => "comma",
            Delimiter::Tab => "tab",
            Delimiter::Whitespace => "whitespace",
        }
    }
}

impl FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "comma" | "," => Ok(Delimiter::Comma),
            "tab" | "\\t" => Ok(Delimiter::Tab),
            "whitespace" | "space" | " " => Ok(Delimiter::Whitespace),
            _ => Err(format!(
                "unknown delimiter '{s}': expected comma, tab or whitespace"
            )),
        }
    }
}

/// Whether the first row of an edge list is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderMode {
    /// The first row names the columns.
    Yes,
    /// Every row is an edge.
    No,
    /// Decided by [`decide_header`]'s rule.
    #[default]
    Auto,
}

impl FromStr for HeaderMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "yes" | "true" => Ok(HeaderMode::Yes),
            "no" | "false" => Ok(HeaderMode::No),
            "auto" => Ok(HeaderMode::Auto),
            _ => Err(format!(
                "unknown header mode '{s}': expected yes, no or auto"
            )),
        }
    }
}

/// The rule behind `--header auto`, in one sentence (printed by `vgae data info` and `--help`).
pub const HEADER_RULE: &str = "the first row is a header iff one of its fields is not a number in a column \
     that is a number on every later row, or both its ids are non-numeric and neither appears on a later row";

/// A finite number (ids and weights alike).
pub fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Applies [`HEADER_RULE`] to the first row and the rows after it; returns the decision and the reason.
pub fn decide_header(first: &[String], rest: &[Vec<String>]) -> (bool, String) {
    if rest.is_empty() {
        return (false, "auto: a single row is data".into());
    }
    for (c, f) in first.iter().enumerate() {
        if !is_number(f) && rest.iter().all(|r| r.get(c).is_some_and(|x| is_number(x))) {
            return (
                true,
                format!(
                    "auto: '{f}' in column {} is not a number, as it is on every later row",
                    c + 1
                ),
            );
        }
    }
    if first.len() >= 2 && !is_number(&first[0]) && !is_number(&first[1]) {
        let seen = rest
            .iter()
            .any(|r| r.iter().take(2).any(|x| x == &first[0] || x == &first[1]));
        if !seen {
            return (
                true,
                format!(
                    "auto: neither '{}' nor '{}' appears on a later row",
                    first[0], first[1]
                ),
            );
        }
    }
    (false, "auto: the first row reads as an edge".into())
}

/// What node ids look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdType {
    /// Every id is an integer.
    Integer,
    /// Some id is not an integer.
    String,
}

impl IdType {
    /// `integer` or `string`.
    pub fn name(self) -> &'static str {
        match self {
            IdType::Integer => "integer",
            IdType::String => "string",
        }
    }
}

/// Everything decided while reading an edge list, as `vgae data info` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeListFormat {
    /// The delimiter used.
    pub delimiter: Delimiter,
    /// Whether it was given (`--delimiter`) or detected.
    pub delimiter_given: bool,
    /// Whether the first row was taken as a header.
    pub header: bool,
    /// Why: `given` or the auto rule's reason.
    pub header_reason: String,
    /// The column names, when there is a header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// The type of the node ids.
    pub id_type: IdType,
    /// The weight column's name (the header's third field, or `column 3`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    /// Data rows read (header, blank lines and comments excluded).
    pub rows: usize,
    /// Rows skipped because their weight was `<= 0` (no edge).
    pub rows_nonpositive_weight: usize,
    /// Repeated edges (either direction) whose weight differed from the first one's, which was kept.
    pub duplicate_weights_differing: usize,
}

impl EdgeListFormat {
    /// The decisions as aligned `key  value` lines.
    pub fn lines(&self) -> Vec<(String, String)> {
        let header = match &self.columns {
            Some(c) if self.header => format!("yes: {} ({})", c.join(", "), self.header_reason),
            _ => format!("no ({})", self.header_reason),
        };
        let given = if self.delimiter_given {
            "given"
        } else {
            "auto"
        };
        let mut v = vec![
            ("header".to_string(), header),
            (
                "delimiter".to_string(),
                format!("{} ({given})", self.delimiter.name()),
            ),
            ("id type".to_string(), self.id_type.name().to_string()),
            (
                "weight column".to_string(),
                match &self.weight_column {
                    Some(w) => format!("{w} (kept as edge weights)"),
                    None => "none".to_string(),
                },
            ),
        ];
        if self.rows_nonpositive_weight > 0 {
            v.push((
                "rows skipped".to_string(),
                format!(
                    "{} with weight <= 0 (no edge)",
                    self.rows_nonpositive_weight
                ),
            ));
        }
        if self.duplicate_weights_differing > 0 {
            v.push((
                "repeated edges".to_string(),
                format!(
                    "{} with a different weight (the first weight kept)",
                    self.duplicate_weights_differing
                ),
            ));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &[&[&str]]) -> Vec<Vec<String>> {
        t.iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn header_rule_cases() {
        let r = rows(&[&["person_a", "person_b"], &["0", "1"], &["1", "2"]]);
        assert!(decide_header(&r[0], &r[1..]).0);
        let r = rows(&[&["source", "target", "weight"], &["a", "b", "1"]]);
        let (h, why) = decide_header(&r[0], &r[1..]);
        assert!(h && why.contains("column 3"), "{why}");
        let r = rows(&[&["source", "target"], &["Myriel", "Napoleon"]]);
        assert!(decide_header(&r[0], &r[1..]).1.contains("neither"));
        let r = rows(&[&["a", "b"], &["b", "c"]]);
        assert!(!decide_header(&r[0], &r[1..]).0);
        let r = rows(&[&["0", "1"], &["2", "3"]]);
        assert!(!decide_header(&r[0], &r[1..]).0);
        assert!(!decide_header(&r[0], &[]).0);
    }

    #[test]
    fn delimiter_rule_ignores_quoted_commas() {
        assert_eq!(Delimiter::detect("# c\na,b\n"), Delimiter::Comma);
        assert_eq!(Delimiter::detect("\"x, y\"\tz\n"), Delimiter::Tab);
        assert_eq!(Delimiter::detect("1  2\n"), Delimiter::Whitespace);
        assert_eq!("tab".parse::<Delimiter>(), Ok(Delimiter::Tab));
        assert!("semicolon".parse::<Delimiter>().is_err());
        assert_eq!("NO".parse::<HeaderMode>(), Ok(HeaderMode::No));
    }
}
