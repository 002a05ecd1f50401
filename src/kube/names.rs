//! The API server's rules for the names in a Secret: its name and namespace (RFC 1123, as
//! apimachinery's `IsDNS1123Subdomain` and `IsDNS1123Label`) and the keys of its `data` and
//! `stringData` (`IsConfigMapKey`).

/// `DNS1123SubdomainMaxLength`, the longest Secret key and Secret name.
const MAX_KEY_LEN: usize = 253;

/// What is wrong with a `data`/`stringData` key (`IsConfigMapKey`), if anything.
pub(super) fn key_problem(key: &str) -> Option<String> {
    let mut problems = Vec::new();
    if key.len() > MAX_KEY_LEN {
        problems.push(format!("longer than {MAX_KEY_LEN} characters"));
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        problems.push("only letters, digits, `-`, `_` and `.` are allowed".to_string());
    }
    if key == "." || key == ".." {
        problems.push("`.` and `..` are not allowed".to_string());
    } else if key.starts_with("..") {
        problems.push("must not start with `..`".to_string());
    }
    (!problems.is_empty()).then(|| format!("invalid key: {}", problems.join("; ")))
}

/// A lowercase RFC 1123 subdomain, as Secret names must be.
pub(super) fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= MAX_KEY_LEN && name.split('.').all(|label| is_rfc1123_label(label, MAX_KEY_LEN))
}

/// apimachinery's `maskTrailingDash`: a name prefix may end in `-`.
pub(super) fn mask_trailing_dash(prefix: &str) -> String {
    match prefix.strip_suffix('-') {
        Some(head) if !head.is_empty() => format!("{head}a"),
        _ => prefix.to_string(),
    }
}

/// A lowercase RFC 1123 label, as namespaces must be.
pub(super) fn is_dns_label(name: &str) -> bool {
    is_rfc1123_label(name, 63)
}

fn is_rfc1123_label(label: &str, max: usize) -> bool {
    let bytes = label.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= max
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_namespaces_follow_rfc_1123() {
        assert!(is_dns_subdomain("db.prod-1"));
        assert!(!is_dns_subdomain("Bad_Name"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain(&"a".repeat(MAX_KEY_LEN + 1)));
        assert!(is_dns_label("kube-system"));
        assert!(!is_dns_label("a.b"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(!is_dns_label("-a"));
    }

    #[test]
    fn a_name_prefix_may_end_in_a_dash() {
        assert!(is_dns_subdomain(&mask_trailing_dash("db-")));
        assert!(!is_dns_subdomain("db-"));
        assert!(!is_dns_subdomain(&mask_trailing_dash("-")));
        assert!(!is_dns_subdomain(&mask_trailing_dash("Db-")));
    }

    #[test]
    fn keys_allow_letters_digits_dash_underscore_and_dot() {
        assert_eq!(key_problem("ok-_.K9"), None);
        assert_eq!(key_problem(".env"), None);
        assert!(key_problem("a/b").is_some());
        assert!(key_problem("").is_some());
    }
}
