//! Paths into a tree in sops's syntax (`["data"]["password"]`, `["list"][0]`), as `set`,
//! `unset` and `--extract` take them.

/// A path that is not in sops's syntax.
#[derive(Debug, thiserror::Error)]
#[error("invalid tree path {path:?}: {problem}")]
pub struct InvalidTreePath {
    pub path: String,
    pub problem: PathProblem,
}

/// What is wrong with a path.
#[derive(Debug, thiserror::Error)]
pub enum PathProblem {
    #[error("component {0} doesn't end with ]")]
    Unclosed(String),
    #[error("{0} is neither a quoted key nor an index")]
    NeitherKeyNorIndex(String),
    #[error("the path is empty")]
    Empty,
}

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
    pub fn parse(text: &str) -> Result<TreePath, InvalidTreePath> {
        let bad = |problem: PathProblem| InvalidTreePath {
            path: text.to_string(),
            problem,
        };
        let mut steps = Vec::new();
        for piece in text.split('[').filter(|p| !p.is_empty()) {
            let inner = piece
                .strip_suffix(']')
                .ok_or_else(|| bad(PathProblem::Unclosed(piece.to_string())))?;
            let quoted = inner.len() >= 2
                && ((inner.starts_with('"') && inner.ends_with('"'))
                    || (inner.starts_with('\'') && inner.ends_with('\'')));
            if quoted {
                steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
            } else {
                let index = inner
                    .parse()
                    .map_err(|_| bad(PathProblem::NeitherKeyNorIndex(inner.to_string())))?;
                steps.push(Step::Index(index));
            }
        }
        if steps.is_empty() {
            return Err(bad(PathProblem::Empty));
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
        for bad in ["bad", "[x]"] {
            let error = crate::Error::from(TreePath::parse(bad).unwrap_err());
            assert_eq!(error.exit_code(), 91, "{bad}");
        }
    }
}
