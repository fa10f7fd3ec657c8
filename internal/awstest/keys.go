// Package awstest holds test helpers: the moto_server harness, git repository
// builders, golden files and fake credentials. It is imported only by tests.
package awstest

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
)

// FakeKeyID returns a well-formed long-term access key id (AKIA…) for seed,
// whose account id decodes to account (a 12-digit number). Keys are built at
// run time so that no key-shaped literal is ever committed.
func FakeKeyID(seed string, account uint64) string {
	return fakeID("AKIA", seed, account)
}

// FakeSessionKeyID is FakeKeyID for a temporary (ASIA…) key id.
func FakeSessionKeyID(seed string, account uint64) string {
	return fakeID("ASIA", seed, account)
}

// fakeID lays the account into the 10 bytes after the prefix the way AWS does
// (bit 47 set, account in bits 46..7), padded with seed-derived bits.
func fakeID(prefix, seed string, account uint64) string {
	sum := sha256.Sum256([]byte("id:" + seed))
	var raw [10]byte
	copy(raw[:], sum[:])
	v := uint64(1)<<47 | (account&(1<<40-1))<<7 | uint64(sum[0]&0x7f)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	copy(raw[:6], b[2:])
	return prefix + base32.StdEncoding.EncodeToString(raw[:])[:16]
}

// FakeSecret returns a 40-character secret access key for seed.
func FakeSecret(seed string) string {
	sum := sha256.Sum256([]byte("secret:" + seed))
	s := base64.StdEncoding.EncodeToString(append(sum[:], sum[:8]...))
	return s[:40]
}

// FakeSessionToken returns a session-token-shaped string for seed.
func FakeSessionToken(seed string) string {
	var out []byte
	for i := 0; len(out) < 300; i++ {
		sum := sha256.Sum256([]byte{byte(i), 't'})
		sum = sha256.Sum256(append(sum[:], seed...))
		out = append(out, sum[:]...)
	}
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(out)[:380]
}
