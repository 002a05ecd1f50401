//! Paths into a tree in sops's syntax (`["data"]["password"]`, `["list"][0]`), as `set`,
//! `unset` and `--extract` take them.

use crate::error::Error;

/// A path into a tree in sops's syntax: `["data"]["password"]`, `["list"][0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePath(pub Vec<Step>);

/// One step of a [`TreePath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl TreePath {
    /// Parses sops's `--extract` syntax (exit 91 on a malformed path).
    pub fn parse(text: &str) -> Result<TreePath, Error> {
        let bad = |message: String| Error::InvalidTreePath {
            path: text.to_string(),
            message,
        };
        let mut steps = Vec::new();
        for piece in text.split('[').filter(|p| !p.is_empty()) {
            let inner = piece
                .strip_suffix(']')
                .ok_or_else(|| bad(format!("component {piece} doesn't end with ]")))?;
            let quoted = inner.len() >= 2
                && ((inner.starts_with('"') && inner.ends_with('"'))
                    || (inner.starts_with('\'') && inner.ends_with('\'')));
            if quoted {
                steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
            } else {
                let index = inner
                    .parse()
                    .map_err(|_| bad(format!("{inner} is neither a quoted key nor an index")))?;
                steps.push(Step::Index(index));
            }
        }
        if steps.is_empty() {
            return Err(bad("the path is empty".into()));
        }
        Ok(TreePath(steps))
    }

    /// The path as sops's syntax writes it, for messages.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Step::Key(k) => format!("[{k:?}]"),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_as_sops_parses_them() {
        assert_eq!(
            TreePath::parse(r#"["a"][0]['b']"#).unwrap().0,
            [Step::Key("a".into()), Step::Index(0), Step::Key("b".into())]
        );
        assert_eq!(TreePath::parse("bad").unwrap_err().exit_code(), 91);
        assert_eq!(TreePath::parse("[x]").unwrap_err().exit_code(), 91);
    }
}
