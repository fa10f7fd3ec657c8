package bounded

import (
	"errors"
	"strings"
	"testing"
)

func TestReadAllRefusesPastItsBound(t *testing.T) {
	if data, err := ReadAll(strings.NewReader("abcd"), 4, "x"); err != nil || string(data) != "abcd" {
		t.Errorf("at the bound: %q, %v", data, err)
	}
	_, err := ReadAll(strings.NewReader("abcde"), 4, "a dotenv file")
	var tl *TooLargeError
	if !errors.As(err, &tl) || err.Error() != "larger than 4 bytes, not a dotenv file" {
		t.Errorf("past the bound: %v", err)
	}
	if _, err := ReadAll(strings.NewReader(strings.Repeat("a", 2<<20+1)), 2<<20, ""); err == nil || err.Error() != "larger than 2 MiB" {
		t.Errorf("MiB: %v", err)
	}
}
