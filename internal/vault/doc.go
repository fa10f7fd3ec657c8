// Package vault keeps AWS long-term access keys, and the short-term STS
// sessions minted from them, encrypted at rest in one file: it moves keys
// there from the AWS shared files (and back), and serves their sessions.
//
// # Model
//
// The store is a single age file (https://age-encryption.org), by default
// ~/.local/share/keywarden/vault.age. Its plaintext is one JSON document
// holding every entry (profile -> access key id, secret access key, where it
// was imported from) and every cached session (key -> session credentials
// and expiry). Everything in the document is encrypted, including profile
// names and key ids; only the file's size and modification time leak.
//
// The file's decryption key lives in one of two places, chosen when the store
// is created and read back from the age header afterwards (an X25519 stanza
// means keyring, an scrypt stanza means file):
//
//   - backend "keyring": a random X25519 age identity kept in the OS keyring
//     (Secret Service, macOS Keychain, Windows Credential Manager) under
//     service "keywarden" and an account derived from the store's absolute
//     path. No prompt; the keyring's own unlock protects it.
//   - backend "file": a passphrase (age's scrypt recipient), from
//     KEYWARDEN_PASSPHRASE or a terminal prompt. Every open pays one scrypt
//     derivation, whose cost is the work factor (Options.ScryptLogN).
//
// # Threats covered
//
// A copy of the store file (a backup, a synced folder, a stolen disk, a
// leaked dotfiles repository, a scanner sweeping plaintext ~/.aws files) does
// not reveal keys without the keyring item or the passphrase. A wrong
// passphrase or a damaged file never destroys data: writes take an exclusive
// lock, re-read and decrypt the current file, and replace it atomically,
// keeping the previous good version as path+".bak". Secrets are held as
// secret.Secret, so errors, logs and String() never show them.
//
// Not covered: malware running as the same user while the keyring is
// unlocked or the passphrase is typed, and the short-term credentials a
// command receives in its environment (they expire, which is the point).
//
// # Sessions
//
// SessionSpecFor reads from the shared files how a profile's session is
// minted: the long-term key at the root of its source_profile chain, the
// roles assumed from it, the MFA serial, and durations clamped to what STS
// accepts (Effective). CacheKey names that session in the store's cache.
// This package makes no AWS call: vaultaws mints the session a spec says.
// Sessions serves them: from the cache, else minted and cached, as
// credential_process prints them (Process) or for a command (ForCommand).
//
// # Import and export
//
// PlanImport chooses the profiles whose keys move into the store; Importer
// stores each key, reads it back, and only then replaces the profile's key
// lines with a credential_process line running keywarden (ProcessCommand).
// Export puts a key back where that line is.
package vault
