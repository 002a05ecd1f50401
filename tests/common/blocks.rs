//! Comparing the `sops:` blocks two tools wrote, without the values that differ on every run.

/// The `sops:` block with the values that differ on every run (timestamps, ciphertexts)
/// replaced, so two tools' blocks can be compared line for line.
pub fn block_shape(text: &str) -> Vec<String> {
    let block = &text[text.find("\nsops:\n").expect("a sops block")..];
    block
        .lines()
        .map(|line| {
            for field in ["enc: ", "created_at: ", "lastmodified: ", "mac: "] {
                if let Some(at) = line.find(field) {
                    return format!("{}{field}…", &line[..at]);
                }
            }
            line.to_string()
        })
        .collect()
}

/// The `sops:` block's lines without the two a value change rewrites.
pub fn block_without_stamps(text: &str) -> Vec<&str> {
    let block = &text[text.find("\nsops:\n").expect("a sops block")..];
    block
        .lines()
        .filter(|l| !l.trim_start().starts_with("lastmodified:") && !l.trim_start().starts_with("mac:"))
        .collect()
}
