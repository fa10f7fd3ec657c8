package credential

import (
	"errors"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestCheckShape(t *testing.T) {
	id, sec := awstest.FakeKeyID("shape", 123456789012), awstest.FakeSecret("shape")
	for _, ok := range []struct{ id, sec string }{
		{id, sec},
		{awstest.FakeSessionKeyID("shape", 123456789012), sec},
		{"AKIA" + strings.Repeat("Z7", 8), strings.Repeat("a+/Z", 10)},
	} {
		if err := CheckShape(ok.id, secret.New(ok.sec)); err != nil {
			t.Errorf("CheckShape(%s): %v", ok.id, err)
		}
	}
	for _, bad := range []struct {
		name, id, sec string
		want          error
		says          string
	}{
		{"empty id", "", sec, ErrNotKeyID, "it is empty"},
		{"the secret in the id's place", sec, id, ErrNotKeyID, "it has 40 characters"},
		{"short id", id[:19], sec, ErrNotKeyID, "it has 19 characters"},
		{"lower case", strings.ToLower(id), sec, ErrNotKeyID, "it starts otherwise"},
		{"a user's unique id", "AIDA" + id[4:], sec, ErrNotKeyID, "it starts otherwise"},
		{"a bearer token id", "ABIA" + id[4:], sec, ErrNotKeyID, "another kind of credential"},
		{"punctuation", id[:19] + "-", sec, ErrNotKeyID, "other characters"},
		{"a digit outside base32", id[:19] + "8", sec, ErrNotKeyID, "other characters"},
		{"empty secret", id, "", ErrNotSecret, "it is empty"},
		{"short secret", id, sec[:39], ErrNotSecret, "it has 39"},
		{"quoted secret", id, `"` + sec[1:39] + `"`, ErrNotSecret, "spaces or quotes"},
		{"base64url secret", id, sec[:39] + "-", ErrNotSecret, "other characters"},
		{"non-ASCII secret", id, sec[:38] + "é", ErrNotSecret, "other characters"},
	} {
		err := CheckShape(bad.id, secret.New(bad.sec))
		if !errors.Is(err, bad.want) || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%s: %v, want %v saying %q", bad.name, err, bad.want, bad.says)
		}
		for _, v := range []string{bad.id, bad.sec} {
			if len(v) > 4 && strings.Contains(err.Error(), v) {
				t.Errorf("%s: %q quotes a value", bad.name, err)
			}
		}
	}
}
