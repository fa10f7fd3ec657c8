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
	if len(keyID) != KeyIDLen || PrefixKind([]byte(keyID[:4])) == KindNone {
		return "", false
	}
	body := keyID[4:]
	for i := 0; i < len(body); i++ {
		if !isBase32(body[i]) {
			return "", false
		}
	}
	if c := body[0]; !(c >= 'Q' && c <= 'Z' || c >= '2' && c <= '7') {
		return "", false
	}
	var raw [10]byte
	if _, err := base32.StdEncoding.Decode(raw[:], []byte(body)); err != nil {
		return "", false
	}
	var b [8]byte
	copy(b[2:], raw[:6])
	v := binary.BigEndian.Uint64(b[:])
	return fmt.Sprintf("%012d", (v&0x7fffffffff80)>>7), true
}

func isBase32(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }
