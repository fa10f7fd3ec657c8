// Package awskey holds the hand-written matchers for AWS key ids, secret keys
// and session tokens, and decodes the account id from a key id.
package awskey

// AccountID decodes the 12-digit AWS account id from an access key id, offline,
// where the key's format carries it. TODO(detector agent): implement.
func AccountID(keyID string) (string, bool) { return "", false }
