//! A test-only age plugin, `age-plugin-unencrypted`: its "encryption" stores the file key in
//! the clear. ksec's tests put it on PATH to check that plugin recipients (`age1unencrypted1…`)
//! and identities (`AGE-PLUGIN-UNENCRYPTED-1…`) go through the age plugin protocol, as sops
//! 3.13 lets them. It is an example target (built by `cargo test`, never installed), and
//! `age-plugin` is a dev-dependency: nothing of it reaches the ksec binary.
//!
//! `age-plugin-unencrypted` alone prints a fixed identity and its recipient;
//! `--age-plugin=recipient-v1|identity-v1` runs the protocol.

use std::collections::{HashMap, HashSet};
use std::io;

use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret;
use age_plugin::identity::{self, IdentityPluginV1};
use age_plugin::recipient::{self, RecipientPluginV1};
use age_plugin::{Callbacks, PluginHandler, print_new_identity, run_state_machine};

const PLUGIN_NAME: &str = "unencrypted";
const STANZA_TAG: &str = "unencrypted";

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = RecipientPlugin;
    type IdentityV1 = IdentityPlugin;

    fn recipient_v1(self) -> io::Result<RecipientPlugin> {
        Ok(RecipientPlugin { count: 0 })
    }

    fn identity_v1(self) -> io::Result<IdentityPlugin> {
        Ok(IdentityPlugin)
    }
}

struct RecipientPlugin {
    count: usize,
}

impl RecipientPluginV1 for RecipientPlugin {
    fn add_recipient(&mut self, index: usize, plugin_name: &str, _bytes: &[u8]) -> Result<(), recipient::Error> {
        if plugin_name != PLUGIN_NAME {
            return Err(recipient::Error::Recipient {
                index,
                message: "not an unencrypted recipient".to_owned(),
            });
        }
        self.count += 1;
        Ok(())
    }

    fn add_identity(&mut self, index: usize, _plugin_name: &str, _bytes: &[u8]) -> Result<(), recipient::Error> {
        Err(recipient::Error::Identity {
            index,
            message: "encrypting to identities is not supported".to_owned(),
        })
    }

    /// No labels: the stanzas may be mixed with any others in one file.
    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _callbacks: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        let stanzas = file_keys
            .into_iter()
            .map(|file_key| {
                (0..self.count)
                    .map(|_| Stanza {
                        tag: STANZA_TAG.to_owned(),
                        args: vec![],
                        body: file_key.expose_secret().to_vec(),
                    })
                    .collect()
            })
            .collect();
        Ok(Ok(stanzas))
    }
}

struct IdentityPlugin;

impl IdentityPluginV1 for IdentityPlugin {
    fn add_identity(&mut self, index: usize, plugin_name: &str, _bytes: &[u8]) -> Result<(), identity::Error> {
        if plugin_name == PLUGIN_NAME {
            Ok(())
        } else {
            Err(identity::Error::Identity {
                index,
                message: "not an unencrypted identity".to_owned(),
            })
        }
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        _callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut file_keys = HashMap::new();
        for (index, stanzas) in files.into_iter().enumerate() {
            let Some(stanza) = stanzas.into_iter().find(|s| s.tag == STANZA_TAG) else {
                continue;
            };
            let key = FileKey::try_init_with_mut(|file_key| {
                if stanza.body.len() == file_key.len() {
                    file_key.copy_from_slice(&stanza.body);
                    Ok(())
                } else {
                    Err(vec![identity::Error::Stanza {
                        file_index: index,
                        stanza_index: 0,
                        message: "the file key has the wrong length".to_owned(),
                    }])
                }
            });
            file_keys.insert(index, key);
        }
        Ok(file_keys)
    }
}

fn main() -> io::Result<()> {
    let state_machine = std::env::args().find_map(|arg| arg.strip_prefix("--age-plugin=").map(str::to_owned));
    match state_machine {
        Some(state_machine) => run_state_machine(&state_machine, Handler),
        None => {
            print_new_identity(PLUGIN_NAME, b"ksec", b"ksec");
            Ok(())
        }
    }
}
