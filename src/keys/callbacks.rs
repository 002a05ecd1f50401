//! What the key providers ask of the program that uses them while a key is in use: a passphrase,
//! or that the user be told something. The library never prompts, reads the terminal or prints
//! itself; ksec's binary answers on the terminal, and a program that embeds the library answers
//! however suits it. The shape follows the `age` crate's `Callbacks`.

use std::io;

use secrecy::SecretString;

/// Answers the questions key providers ask while a key is in use.
///
/// Identities hold on to their callbacks: a passphrase-protected SSH key asks only when a file
/// turns out to be encrypted to it, long after discovery.
pub trait Callbacks: Send + Sync {
    /// Shows the user a message about a key in use (that a passphrase did not unlock it, say).
    /// Messages never hold key material.
    fn display_message(&self, message: &str);

    /// Asks the user for a passphrase; `description` is the prompt. `Ok(None)` when the user
    /// gave none, `Err` when there is no way to ask (no terminal, say).
    fn request_passphrase(&self, description: &str) -> io::Result<Option<SecretString>>;
}

/// Callbacks that never prompt, for tests and unattended runs: no passphrase is ever given, so
/// passphrase-protected keys stay locked, and there is no one to show messages to.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrompt;

impl Callbacks for NoPrompt {
    fn display_message(&self, _message: &str) {}

    fn request_passphrase(&self, _description: &str) -> io::Result<Option<SecretString>> {
        Ok(None)
    }
}
