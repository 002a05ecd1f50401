//! The terminal side of the library's [`Callbacks`]: passphrases are asked on the controlling
//! terminal (`/dev/tty`, so that piped stdin and stdout stay data), as sops asks them, and
//! messages go to stderr after `ksec:`.

use std::io::{self, Write};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::keys::Callbacks;

/// Answers the library's questions on the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

impl Callbacks for Terminal {
    fn display_message(&self, message: &str) {
        let _ = writeln!(io::stderr().lock(), "ksec: {message}");
    }

    /// An empty answer (just Enter) gives no passphrase: the user declines to unlock the key.
    fn request_passphrase(&self, description: &str) -> io::Result<Option<SecretString>> {
        let answer = Zeroizing::new(rpassword::prompt_password(description)?);
        // A copy has no spare capacity, so making it a boxed secret does not reallocate and
        // leave an unwiped buffer behind; the answer itself is wiped on drop.
        Ok((!answer.is_empty()).then(|| SecretString::from(answer.as_str().to_owned())))
    }
}
