package awsfile

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, s string, kind Kind) *File {
	t.Helper()
	f, err := Parse([]byte(s), kind)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	if got := string(f.Bytes()); got != s {
		t.Fatalf("Parse(%q).Bytes() = %q", s, got)
	}
	return f
}

func TestSetWritesExactBytes(t *testing.T) {
	tests := []struct {
		name, in, profile, key, value, want string
		kind                                Kind
	}{
		{name: "keeps tabs and spaces around equals and crlf",
			in:      "[default]\r\naws_access_key_id\t=  OLD\r\n# a = comment\r\n",
			profile: "default", key: "aws_access_key_id", value: "NEW",
			want: "[default]\r\naws_access_key_id\t=  NEW\r\n# a = comment\r\n"},
		{name: "keeps a missing final newline",
			in:      "[default]\naws_access_key_id=OLD",
			profile: "default", key: "aws_access_key_id", value: "NEW",
			want: "[default]\naws_access_key_id=NEW"},
		{name: "keeps an inline comment",
			in:      "[p]\nregion = us-east-1 ; main ; = x\n",
			profile: "p", key: "region", value: "eu-west-1",
			want: "[p]\nregion = eu-west-1 ; main ; = x\n"},
		{name: "replaces a hash that is part of the value",
			in:      "[p]\naws_secret_access_key = ab#cd\n",
			profile: "p", key: "aws_secret_access_key", value: "xy",
			want: "[p]\naws_secret_access_key = xy\n"},
		{name: "keeps the key's spelling",
			in:      "[p]\nAWS_Access_Key_ID = OLD\n",
			profile: "p", key: "aws_access_key_id", value: "NEW",
			want: "[p]\nAWS_Access_Key_ID = NEW\n"},
		{name: "rewrites every duplicate so no stale copy stays",
			in:      "[p]\nk = A\n[q]\nk = Q\n[p]\nk = B\n",
			profile: "p", key: "k", value: "C",
			want: "[p]\nk = C\n[q]\nk = Q\n[p]\nk = C\n"},
		{name: "drops continuation lines of the old value",
			in:      "[p]\nk = a\n  b\n\n  c\nnext = 1\n",
			profile: "p", key: "k", value: "z",
			want: "[p]\nk = z\n\nnext = 1\n"},
		{name: "keeps quotes",
			in:      "[p]\nk = \"OLD\"  # c\n",
			profile: "p", key: "k", value: "NEW",
			want: "[p]\nk = \"NEW\"  # c\n"},
		{name: "keeps a colon separator",
			in:      "[p]\nregion: us-east-1\n",
			profile: "p", key: "region", value: "eu-west-1",
			want: "[p]\nregion: eu-west-1\n"},
		{name: "adds a key after the last key in the section style",
			in:      "[a]\nx=1\n  y=2\n# about b\n\n[b]\nk = 2\n",
			profile: "a", key: "region", value: "r",
			want: "[a]\nx=1\n  y=2\n  region=r\n# about b\n\n[b]\nk = 2\n"},
		{name: "adds a key after a nested value without joining it",
			in:      "[p]\ns3 =\n  addressing_style = path\n",
			profile: "p", key: "region", value: "r",
			want: "[p]\ns3 =\n  addressing_style = path\nregion = r\n"},
		{name: "adds a key to an empty section with crlf",
			in:      "[a]\r\n[b]\r\nk=1\r\n",
			profile: "a", key: "k", value: "v",
			want: "[a]\r\nk=v\r\n[b]\r\nk=1\r\n"},
		{name: "adds a key at the end of a file without final newline",
			in:      "[a]\nk = 1",
			profile: "a", key: "j", value: "2",
			want: "[a]\nk = 1\nj = 2"},
		{name: "appends a profile to an empty file",
			in:      "",
			profile: "default", key: "aws_access_key_id", value: "ID",
			want: "[default]\naws_access_key_id = ID\n"},
		{name: "appends a profile after a file without final newline",
			in:      "[a]\r\nk=1",
			profile: "b", key: "k", value: "2",
			want: "[a]\r\nk=1\r\n\r\n[b]\r\nk=2"},
		{name: "credentials ignore a profile-prefixed section",
			in:      "[profile x]\nk = v\n",
			profile: "x", key: "k", value: "w",
			want: "[profile x]\nk = v\n\n[x]\nk = w\n"},
		{name: "a bom hides the first header from the sdk",
			in:      "\ufeff[default]\nk = v\n",
			profile: "default", key: "k", value: "w",
			want: "\ufeff[default]\nk = v\n\n[default]\nk = w\n"},
		{name: "config finds a header with inner spaces",
			in: "[ profile  x ]\nregion = a\n", kind: Config,
			profile: "x", key: "aws_access_key_id", value: "ID",
			want: "[ profile  x ]\nregion = a\naws_access_key_id = ID\n"},
		{name: "config prefers profile default over default",
			in: "[default]\nregion = a\n[profile default]\nregion = b\n", kind: Config,
			profile: "default", key: "region", value: "c",
			want: "[default]\nregion = a\n[profile default]\nregion = c\n"},
		{name: "config appends a named profile with its prefix",
			in: "[default]\nregion = a\n", kind: Config,
			profile: "dev", key: "region", value: "b",
			want: "[default]\nregion = a\n\n[profile dev]\nregion = b\n"},
		{name: "config skips sso-session sections",
			in: "[sso-session dev]\nsso_region = a\n", kind: Config,
			profile: "dev", key: "region", value: "b",
			want: "[sso-session dev]\nsso_region = a\n\n[profile dev]\nregion = b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.in, tt.kind)
			if err := f.Set(tt.profile, tt.key, tt.value); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(f.Bytes())); diff != "" {
				t.Errorf("bytes (-want +got):\n%s", diff)
			}
			if got, ok := f.Get(tt.profile, tt.key); !ok || got != tt.value {
				t.Errorf("Get after Set = %q, %v; want %q", got, ok, tt.value)
			}
		})
	}
}

func TestGetReadsLikeTheSDK(t *testing.T) {
	in := "top = ignored\n" +
		"[p]\n" +
		"Region = us-east-1 # comment\n" +
		"hash=a#b\n" +
		"multi = one\n  two\n" +
		"s3 =\n  max_concurrent_requests = 10\n" +
		"quoted = 'x y'\n" +
		"  indented = z ; c\n" +
		"[q]\nk = 1\n[p]\nk = 2\n"
	f := mustParse(t, in, Credentials)
	tests := []struct {
		profile, key, want string
		ok                 bool
	}{
		{"p", "region", "us-east-1", true},
		{"p", "REGION", "us-east-1", true},
		{"p", "hash", "a#b", true},
		{"p", "multi", "one\ntwo", true},
		{"p", "s3", "", true},
		{"p", "max_concurrent_requests", "", false},
		{"p", "quoted", "x y", true},
		{"p", "indented", "z", true},
		{"p", "k", "2", true},
		{"q", "k", "1", true},
		{"p", "top", "", false},
		{"missing", "k", "", false},
	}
	for _, tt := range tests {
		got, ok := f.Get(tt.profile, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q, %q) = %q, %v; want %q, %v", tt.profile, tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if diff := cmp.Diff([]string{"p", "q"}, f.Profiles()); diff != "" {
		t.Errorf("Profiles (-want +got):\n%s", diff)
	}
	want := []string{"region", "hash", "multi", "s3", "quoted", "indented", "k"}
	if diff := cmp.Diff(want, f.Keys("p")); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
}

func TestConfigProfiles(t *testing.T) {
	in := "[default]\n[profile a]\n[b]\n[sso-session s]\n[services x]\n[profile  c]\n[Default]\n"
	f := mustParse(t, in, Config)
	if diff := cmp.Diff([]string{"default", "a", "c", "Default"}, f.Profiles()); diff != "" {
		t.Errorf("Profiles (-want +got):\n%s", diff)
	}
}

func TestSetRejectsWhatTheSDKWouldReadDifferently(t *testing.T) {
	tests := []struct {
		name, profile, key, value string
		want                      error
	}{
		{"newline in value", "p", "k", "a\nb", ErrBadValue},
		{"carriage return in value", "p", "k", "a\rb", ErrBadValue},
		{"leading space", "p", "k", " a", ErrBadValue},
		{"inline comment marker", "p", "k", "a #b", ErrBadValue},
		{"lone quote", "p", "k", `"`, ErrBadValue},
		{"value in quotes", "p", "k", `"a"`, ErrBadValue},
		{"key with equals", "p", "k=x", "v", ErrBadName},
		{"empty key", "p", "", "v", ErrBadName},
		{"profile with hash", "new#1", "k", "v", ErrBadName},
		{"profile with double space", "a  b", "k", "v", ErrBadName},
		{"profile-prefixed name in credentials", "profile x", "k", "v", ErrBadName},
	}
	const in = "[p]\nk = old\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, in, Credentials)
			err := f.Set(tt.profile, tt.key, tt.value)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Set error = %v, want %v", err, tt.want)
			}
			if got := string(f.Bytes()); got != in {
				t.Errorf("file changed on error: %q", got)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name, in, key, want string
		err                 error
	}{
		{name: "removes the line and its continuation lines",
			in: "[p]\r\na = 1\r\nk = x\r\n  y\r\n# keep\r\nb = 2\r\n", key: "k",
			want: "[p]\r\na = 1\r\n# keep\r\nb = 2\r\n"},
		{name: "removes every duplicate",
			in: "[p]\nk = 1\n[p]\nK = 2\n", key: "k", want: "[p]\n[p]\n"},
		{name: "missing key is a no-op",
			in: "[p]\na = 1", key: "k", want: "[p]\na = 1"},
		{name: "refuses when a following line would change meaning",
			in: "[p]\na =\n  x = 1\nb = 2\n  c = 3\n", key: "b",
			want: "[p]\na =\n  x = 1\nb = 2\n  c = 3\n", err: ErrUnsafeEdit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.in, Credentials)
			if err := f.Delete("p", tt.key); !errors.Is(err, tt.err) {
				t.Fatalf("Delete error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, string(f.Bytes())); diff != "" {
				t.Errorf("bytes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejectsLoneQuote(t *testing.T) {
	for _, in := range []string{"[p]\nk = \"\n", "[p]\n  k = '\n", "k='"} {
		var pe *ParseError
		if _, err := Parse([]byte(in), Credentials); !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a ParseError", in, err)
		}
	}
}

func TestProfilesWithKey(t *testing.T) {
	in := "[a]\naws_access_key_id = K1\n[b]\naws_access_key_id=K2\n[c]\nAWS_ACCESS_KEY_ID = K1\n"
	f := mustParse(t, in, Credentials)
	if diff := cmp.Diff([]string{"a", "c"}, f.ProfilesWithKey("K1")); diff != "" {
		t.Errorf("ProfilesWithKey (-want +got):\n%s", diff)
	}
}

func TestSetBefore(t *testing.T) {
	tests := []struct {
		name, in, want string
		before         []string
	}{
		{name: "before the first line of either key, styled like it",
			in:     "[p]\nregion = x\nb\t=  2\na = 1\nout = json\n[q]\nb = 9\n",
			before: []string{"a", "b"},
			want:   "[p]\nregion = x\nk\t=  v\nb\t=  2\na = 1\nout = json\n[q]\nb = 9\n"},
		{name: "in the first of duplicate sections, with crlf",
			in:     "[p]\r\nx = 1\r\na = 1\r\n[p]\r\na = 2\r\n",
			before: []string{"a"},
			want:   "[p]\r\nx = 1\r\nk = v\r\na = 1\r\n[p]\r\na = 2\r\n"},
		{name: "before the last line without a final newline",
			in: "[p]\na = 1", before: []string{"a"}, want: "[p]\nk = v\na = 1"},
		{name: "no such line: as Set",
			in: "[p]\nx = 1\n\n[q]\n", before: []string{"a"}, want: "[p]\nx = 1\nk = v\n\n[q]\n"},
		{name: "an existing key is rewritten in place",
			in: "[p]\na = 1\nk = old\n", before: []string{"a"}, want: "[p]\na = 1\nk = v\n"},
		{name: "a missing profile is appended",
			in: "[q]\na = 1\n", before: []string{"a"}, want: "[q]\na = 1\n\n[p]\nk = v\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.in, Credentials)
			if err := f.SetBefore("p", "k", "v", tt.before...); err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("SetBefore:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
