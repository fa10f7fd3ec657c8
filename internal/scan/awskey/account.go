package awskey

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
)

// AccountID decodes the 12-digit AWS account id from an access key id, offline,
// where the key's format carries it: newer ids hold base32 in the 16
// characters after the prefix, whose first 6 bytes, big-endian, carry the
// account in bits 46..7. Older ids (AKIAI..., AKIAJ...) predate this layout;
// their first character after the prefix is below Q, so they are refused
// rather than decoded to a wrong account.
func AccountID(keyID string) (string, bool) {
	if len(keyID) != KeyIDLen || ParseKeyID([]byte(keyID)) == KindNone {
		return "", false
	}
	n, ok := accountBits([]byte(keyID[4:]))
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%012d", n), true
}

// maxAccount is the largest account id: 12 decimal digits.
const maxAccount = 999_999_999_999

// accountBits decodes the account field of a 16-character base32 body in the
// newer format (bit 47 set: a first character Q-Z or 2-7). The field holds 40
// bits, room for numbers past 12 digits that no account has.
func accountBits(body []byte) (uint64, bool) {
	if c := body[0]; !(c >= 'Q' && c <= 'Z' || c >= '2' && c <= '7') {
		return 0, false
	}
	var raw [10]byte
	if _, err := base32.StdEncoding.Decode(raw[:], body); err != nil {
		return 0, false
	}
	var b [8]byte
	copy(b[2:], raw[:6])
	return (binary.BigEndian.Uint64(b[:]) & 0x7fffffffff80) >> 7, true
}

// plausibleAccount reports whether a base32 body could be AWS's: an id in
// the newer format must encode an account of at most 12 digits; an id in
// the older format carries none and passes.
func plausibleAccount(body []byte) bool {
	n, ok := accountBits(body)
	return !ok || n <= maxAccount
}
