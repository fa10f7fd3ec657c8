package credential

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/scan/awskey"
	"github.com/keywarden/keywarden/internal/secret"
)

// Errors of CheckShape, for errors.Is.
var (
	ErrNotKeyID  = errors.New("malformed access key id")
	ErrNotSecret = errors.New("malformed secret access key")
)

// CheckShape refuses an id and a secret that do not have the shape of an
// AWS access key: an id of AKIA or ASIA and 16 characters of base32, A-Z and
// 2-7 (scan's matcher), a secret of 40 characters of A-Z, a-z, 0-9, + and /.
// Its errors say what is wrong and quote neither value: a secret pasted
// where the id goes would be printed.
func CheckShape(id string, sec secret.Secret) error {
	kind := awskey.KindNone
	if len(id) == awskey.KeyIDLen {
		kind = awskey.ParseKeyID([]byte(id))
	}
	if kind != awskey.KindLongTerm && kind != awskey.KindTemporary {
		return fmt.Errorf("%w: want AKIA or ASIA and 16 characters of A-Z and 2-7; %s", ErrNotKeyID, idFault(id))
	}
	s := sec.Reveal()
	if len(s) != awskey.SecretLen || strings.IndexFunc(s, func(r rune) bool { return r > 127 || !awskey.IsSecretChar(byte(r)) }) >= 0 {
		return fmt.Errorf("%w: want %d characters of A-Z, a-z, 0-9, + and /; %s", ErrNotSecret, awskey.SecretLen, secretFault(s))
	}
	return nil
}

// idFault says what is wrong with id, without quoting it.
func idFault(id string) string {
	switch {
	case id == "":
		return "it is empty"
	case len(id) != awskey.KeyIDLen:
		return fmt.Sprintf("it has %d characters", len(id))
	case awskey.PrefixKind([]byte(id)) == awskey.KindNone:
		return "it starts otherwise"
	case awskey.PrefixKind([]byte(id)) != awskey.KindLongTerm && awskey.PrefixKind([]byte(id)) != awskey.KindTemporary:
		return "it is another kind of credential"
	}
	return "it has other characters"
}

// secretFault says what is wrong with s, without quoting it.
func secretFault(s string) string {
	switch {
	case s == "":
		return "it is empty"
	case len(s) != awskey.SecretLen:
		return fmt.Sprintf("it has %d", len(s))
	case strings.ContainsAny(s, " \t\"'"):
		return "it has spaces or quotes"
	}
	return "it has other characters"
}
