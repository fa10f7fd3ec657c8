package target

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestSetKeyFields(t *testing.T) {
	c := Credentials{AccessKeyID: awstest.FakeKeyID("new", 123456789012), SecretAccessKey: secret.New(awstest.FakeSecret("new"))}
	id, sec := c.AccessKeyID, c.SecretAccessKey.Reveal()
	tests := []struct {
		name, in, want string
	}{
		{"empty becomes a new object", "",
			`{"AccessKeyId":"` + id + `","SecretAccessKey":"` + sec + `"}`},
		{"object without key fields gets AccessKeyId", `{"region":"eu-west-1"}`,
			`{"region":"eu-west-1","AccessKeyId":"` + id + `","SecretAccessKey":"` + sec + `"}`},
		{"snake case spelling kept, other fields and order kept", `{"a":1,"aws_access_key_id":"x","n":{"b":[1, 2]},"aws_secret_access_key":"y"}`,
			`{"a":1,"aws_access_key_id":"` + id + `","n":{"b":[1,2]},"aws_secret_access_key":"` + sec + `"}`},
		{"env var spelling kept", `{"AWS_ACCESS_KEY_ID":"x","AWS_SECRET_ACCESS_KEY":"y"}`,
			`{"AWS_ACCESS_KEY_ID":"` + id + `","AWS_SECRET_ACCESS_KEY":"` + sec + `"}`},
		{"camel case half pair gets its other half", `{"accessKeyId":"x"}`,
			`{"accessKeyId":"` + id + `","secretAccessKey":"` + sec + `"}`},
		{"large numbers survive exactly", `{"n":12345678901234567890,"AccessKeyId":"x","SecretAccessKey":"y"}`,
			`{"n":12345678901234567890,"AccessKeyId":"` + id + `","SecretAccessKey":"` + sec + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetKeyFields(tt.in, c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SetKeyFields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetKeyFieldsRefusesNonObjects(t *testing.T) {
	c := Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret.New("x")}
	old := awstest.FakeSecret("old")
	for _, in := range []string{old, `"` + old + `"`, `[1]`, `{"a":1} {"b":2}`, `{"a":`, `null`} {
		_, err := SetKeyFields(in, c)
		if !errors.Is(err, errNotJSONObject) {
			t.Errorf("SetKeyFields(%q) error = %v, want errNotJSONObject", in, err)
		}
		if err != nil && strings.Contains(err.Error(), old) {
			t.Errorf("error quotes the old value: %v", err)
		}
	}
}

func FuzzSetKeyFields(f *testing.F) {
	for _, s := range []string{"", "{}", `{"AccessKeyId":1}`, `{"a":{"b":[]}}`, "[", `{"x":"\u00e9"}`} {
		f.Add(s)
	}
	c := Credentials{AccessKeyID: awstest.FakeKeyID("f", 123456789012), SecretAccessKey: secret.New(awstest.FakeSecret("f"))}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := SetKeyFields(in, c)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		again, err := SetKeyFields(out, c)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
		}
	})
}
