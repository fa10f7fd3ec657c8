// Package awsfile edits the AWS shared files ~/.aws/credentials and
// ~/.aws/config without disturbing them: an edit changes only the edited
// values, and every other byte (comments starting with # or ;, blank lines,
// order, CRLF line endings, spacing around "=", a missing final newline,
// other profiles) stays as it was.
//
// The reader follows the AWS SDK for Go v2 (config/internal/ini) rule for
// rule, so that an edit lands on the value the SDK actually uses:
//
//   - lines are split on "\n" only; blank lines and lines whose first
//     non-blank character is # or ; are skipped;
//   - a line that is "[...]" once a # or ; and what follows is cut is a
//     section header, even when indented; "[ profile   x ]" names the
//     section "profile x";
//   - a key line starting in column 0 splits at the first "=" (or ":" when it
//     comes first); an inline comment is cut only where # or ; follows a
//     space or tab ("key=a#b" keeps "a#b"); the key is lower-cased; a value
//     wrapped in matching quotes is unquoted;
//   - an indented "k = v" line belongs to the key above when that key's
//     value is empty (nested values such as "s3 =\n  max_concurrent_requests
//     = 10"), and is a key of its own otherwise; an indented line without
//     "=" continues the value above;
//   - duplicate sections merge and the last definition of a key wins; keys
//     before the first section are ignored;
//   - in the credentials file a profile P is [P] and [profile P] is ignored;
//     in the config file it is [profile P], [default] (any case) counts for
//     the default profile unless [profile default] exists, and other
//     sections ([sso-session X], [services X]) are not profiles.
//
// Set rewrites every definition of a key in a profile, so no stale copy of a
// rotated secret survives in a shadowed duplicate. Each edit is re-read and
// rejected (ErrBadValue, ErrUnsafeEdit) unless the SDK would read exactly the
// intended change and nothing else.
//
// Load, Save and Lock handle the files themselves: Save is atomic,
// follows symlinks and keeps the file's mode (0600 for a new file); Lock is
// an advisory lock on path+".lock" so that concurrent rotations of one file
// take turns. Resolve tells which static key a profile uses and, when it has
// none it could rotate, why not.
package awsfile
