//! Spelling suggestions for misspelt field names: the known name a field most likely meant.

/// The `known` field a misspelt one most likely meant: same letters in another case, or a
/// small edit away (one edit for short names, two for long ones).
pub(super) fn suggestion(field: &str, known: &[&'static str]) -> Option<&'static str> {
    if let Some(same) = known.iter().find(|f| f.eq_ignore_ascii_case(field)) {
        return Some(same);
    }
    let lower = field.to_ascii_lowercase();
    known
        .iter()
        .map(|f| (edit_distance(&lower, &f.to_ascii_lowercase()), *f))
        .filter(|(distance, f)| *distance <= (f.len() / 4).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, f)| f)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::SECRET_FIELDS;

    fn secret_field(field: &str) -> Option<&'static str> {
        suggestion(field, &SECRET_FIELDS)
    }

    #[test]
    fn suggestions_cover_small_typos_and_nothing_far() {
        assert_eq!(secret_field("stringdata"), Some("stringData"));
        assert_eq!(secret_field("StringData"), Some("stringData"));
        assert_eq!(secret_field("strngData"), Some("stringData"));
        assert_eq!(secret_field("datas"), Some("data"));
        assert_eq!(secret_field("metdata"), Some("metadata"));
        assert_eq!(secret_field("immutible"), Some("immutable"));
        assert_eq!(secret_field("apiversion"), Some("apiVersion"));
        assert_eq!(secret_field("meta"), None);
        assert_eq!(secret_field("spec"), None);
    }
}
