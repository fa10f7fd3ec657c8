package awsfile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

var fuzzSeeds = []string{
	"",
	"[default]\r\naws_access_key_id\t=  OLD\r\n# a = comment\r\n",
	"[p]\nk = a\n  b\n\n  c\nnext = 1\n",
	"[p]\ns3 =\n  max_concurrent_requests = 10\nregion = x ; c\n",
	"\ufeff[default]\nk = v",
	"[ profile  x ]\nregion = a\n[default]\n[profile default]\nregion: b\n",
	"top = 1\n[p]\nk = \"q\" # c\n  j = 2 ; d\n[q]\n[p]\nK=3",
	"[sso-session s]\nsso_region=x\n[services y]\ns3 =\n  endpoint_url = z\n",
}

// FuzzRoundTrip: whatever parses comes back byte for byte.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []Kind{Credentials, Config} {
			file, err := Parse(data, kind)
			if err != nil {
				continue
			}
			if got := file.Bytes(); string(got) != string(data) {
				t.Fatalf("round trip changed %q into %q", data, got)
			}
		}
	})
}

// FuzzSet: after a successful Set, Get returns the value, every other
// profile reads the same, and every line that did not hold the key is still
// there, in order.
func FuzzSet(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "p", "k", "v", false)
		f.Add([]byte(s), "default", "region", "eu-west-1", true)
	}
	f.Fuzz(func(t *testing.T, data []byte, profile, key, value string, config bool) {
		kind := Credentials
		if config {
			kind = Config
		}
		file, err := Parse(data, kind)
		if err != nil {
			return
		}
		before := snapshot(file)
		kept := untouchedLines(file, profile, key)
		if err := file.Set(profile, key, value); err != nil {
			if string(file.Bytes()) != string(data) {
				t.Fatalf("failed Set changed the file")
			}
			return
		}
		if got, ok := file.Get(profile, key); !ok || got != value {
			t.Fatalf("Get after Set = %q, %v; want %q", got, ok, value)
		}
		after := snapshot(file)
		for name, val := range before {
			if after[name] != val && !strings.HasPrefix(name, profile+"\x00"+strings.ToLower(key)+"\x00") {
				t.Fatalf("%q changed from %q to %q", name, val, after[name])
			}
		}
		if !isSubsequence(kept, file.Bytes()) {
			t.Fatalf("lines not holding the key were changed:\n%q\n%q", data, file.Bytes())
		}
		if again, err := Parse(file.Bytes(), kind); err != nil || string(again.Bytes()) != string(file.Bytes()) {
			t.Fatalf("edited file does not parse again: %v", err)
		}
	})
}

func snapshot(f *File) map[string]string {
	out := map[string]string{}
	for _, p := range f.Profiles() {
		for _, k := range f.Keys(p) {
			v, _ := f.Get(p, k)
			out[p+"\x00"+k+"\x00"] = v
		}
	}
	return out
}

// untouchedLines are the raw lines of f that are not part of a definition
// of key in profile.
func untouchedLines(f *File, profile, key string) []string {
	skip := map[int]bool{}
	if sec, ok := f.sectionFor(profile); ok {
		for _, e := range f.all[sec][strings.ToLower(key)] {
			for _, i := range e.lines {
				skip[i] = true
			}
		}
	}
	var out []string
	for i, l := range f.lines {
		if !skip[i] {
			out = append(out, strings.TrimSuffix(l.raw, "\n"))
		}
	}
	return out
}

func isSubsequence(lines []string, data []byte) bool {
	got := strings.Split(string(data), "\n")
	j := 0
	for _, g := range got {
		if j < len(lines) && g == lines[j] {
			j++
		}
	}
	return j == len(lines)
}

// FuzzSDKAgrees: for every profile Parse finds, the real SDK reads the same
// region and key id; where Parse refuses a file the SDK cannot read it.
func FuzzSDKAgrees(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("[p]\naws_access_key_id = a # c\naws_secret_access_key='s'\nregion=r\n"), false)
	f.Add([]byte("[profile p]\nregion = r\n[p]\nregion = x\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, isConfig bool) {
		kind := Credentials
		if isConfig {
			kind = Config
		}
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, perr := Parse(data, kind)
		profiles := []string{"default", "p"}
		if perr == nil {
			profiles = append(profiles, file.Profiles()...)
		}
		for _, p := range profiles {
			sc, err, panicked := loadSDK(path, p, isConfig)
			if perr != nil {
				return // the SDK may or may not get past the bad line first
			}
			if panicked {
				t.Fatalf("sdk panicked on a file Parse accepted: %q", data)
			}
			if err != nil {
				continue // e.g. partial credentials, invalid values
			}
			if r, ok := file.Get(p, "region"); ok && sc.Region != r {
				t.Fatalf("profile %q: sdk region %q, Parse %q", p, sc.Region, r)
			}
			id, _ := file.Get(p, "aws_access_key_id")
			sec, _ := file.Get(p, "aws_secret_access_key")
			if id != "" && sec != "" && sc.Credentials.AccessKeyID != id {
				t.Fatalf("profile %q: sdk key %q, Parse %q", p, sc.Credentials.AccessKeyID, id)
			}
			if !file.HasProfile(p) {
				t.Fatalf("sdk found profile %q that Parse does not", p)
			}
		}
	})
}

func loadSDK(path, profile string, isConfig bool) (sc config.SharedConfig, err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	sc, err = config.LoadSharedConfigProfile(context.Background(), profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles, o.ConfigFiles = []string{}, []string{}
		if isConfig {
			o.ConfigFiles = []string{path}
		} else {
			o.CredentialsFiles = []string{path}
		}
	})
	return sc, err, false
}
