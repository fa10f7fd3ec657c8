package rotate

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

const day = 24 * time.Hour

// exampleConfig is the file of docs/rotate.md: defaults, a user delivered to
// three targets with its own max_age, and two profiles, one without grace.
const exampleConfig = `# defaults for every entry
grace: 7d
max_age: 90d          # rotate only keys at least this old (--if-older-than)
rotations:
  - user: ci-deployer               # a service user's key, delivered to targets
    to: [secretsmanager:ci/deployer, "github:acme/api:production", envfile:/etc/app/aws.env]
    max_age: 60d
  - profile: default                # a profile of ~/.aws/credentials
  - profile: prod
    grace: 0d
`

func TestParseConfigInheritsAndOverridesDefaults(t *testing.T) {
	got, err := ParseConfig([]byte(exampleConfig), "rotations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Entries: []Entry{
		{User: "ci-deployer", To: []string{"secretsmanager:ci/deployer", "github:acme/api:production", "envfile:/etc/app/aws.env"},
			MaxAge: 60 * day, Grace: 7 * day, GraceSet: true, Line: 5},
		{Profile: "default", MaxAge: 90 * day, Grace: 7 * day, GraceSet: true, Line: 8},
		{Profile: "prod", MaxAge: 90 * day, Grace: 0, GraceSet: true, Line: 9},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestParseConfigAccepts(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []Entry
	}{
		{"no defaults leaves grace and max age unset",
			"rotations:\n  - profile: dev\n",
			[]Entry{{Profile: "dev", Line: 2}}},
		{"a bare number is days and 0 grace is set",
			"grace: 0\nmax_age: 30\nrotations:\n  - profile: dev\n",
			[]Entry{{Profile: "dev", MaxAge: 30 * day, GraceSet: true, Line: 4}}},
		{"hours and weeks",
			"rotations:\n  - profile: dev\n    max_age: 2w\n    grace: 36h\n",
			[]Entry{{Profile: "dev", MaxAge: 14 * day, Grace: 36 * time.Hour, GraceSet: true, Line: 2}}},
		{"a single target without a list",
			"rotations:\n  - user: app\n    to: ssm:/app/aws/\n",
			[]Entry{{User: "app", To: []string{"ssm:/app/aws/"}, Line: 2}}},
		{"a user's key picked by id",
			"rotations:\n  - user: app\n    key_id: AKIAIOSFODNN7EXAMPLE\n    to: [exec:./deliver.sh]\n",
			[]Entry{{User: "app", KeyID: "AKIAIOSFODNN7EXAMPLE", To: []string{"exec:./deliver.sh"}, Line: 2}}},
		{"a profile may also deliver to targets and shared files",
			"rotations:\n  - profile: ci\n    to: [\"credentials:ci,backup\", config:dev]\n",
			[]Entry{{Profile: "ci", To: []string{"credentials:ci,backup", "config:dev"}, Line: 2}}},
		{"a target list shared with an anchor",
			"rotations:\n  - user: a\n    to: &t [gitlab:acme/api]\n  - user: b\n    to: *t\n",
			[]Entry{{User: "a", To: []string{"gitlab:acme/api"}, Line: 2}, {User: "b", To: []string{"gitlab:acme/api"}, Line: 4}}},
		{"two keys of one user are two rotations",
			"rotations:\n  - {user: a, key_id: AKIAIOSFODNN7EXAMPLE, to: [ssm:/a]}\n  - {user: a, key_id: AKIAI44QH8DHBEXAMPLE, to: [ssm:/b]}\n",
			[]Entry{{User: "a", KeyID: "AKIAIOSFODNN7EXAMPLE", To: []string{"ssm:/a"}, Line: 2},
				{User: "a", KeyID: "AKIAI44QH8DHBEXAMPLE", To: []string{"ssm:/b"}, Line: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.yaml), "r.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigRejectsWithFileAndLine(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the whole error
	}{
		{"a typo in an entry key", "rotations:\n  - profile: dev\n    maxage: 30d\n",
			`r.yaml:3: unknown key "maxage" (known keys: profile, user, key_id, to, max_age, grace)`},
		{"a typo in a top-level key", "grace: 1d\nrotation:\n  - profile: dev\n",
			`r.yaml:2: unknown key "rotation" (known keys: grace, max_age, rotations)`},
		{"both profile and user", "rotations:\n  - profile: dev\n    user: app\n    to: [ssm:/x]\n",
			`r.yaml:2: a rotation has both profile: dev and user: app; want exactly one`},
		{"neither profile nor user", "rotations:\n  - profile: dev\n  - grace: 1d\n",
			`r.yaml:3: a rotation needs profile: or user:`},
		{"a user without targets", "rotations:\n  - user: app\n",
			`r.yaml:2: user app: want to: with at least one target, or its new key is lost`},
		{"an empty target list", "rotations:\n  - user: app\n    to: []\n",
			`r.yaml:3: to: the list is empty`},
		{"an unknown target kind", "rotations:\n  - user: app\n    to:\n      - ssm:/ok\n      - vault:secret/aws\n",
			`r.yaml:5: to: "vault:secret/aws": want KIND:VALUE with KIND one of secretsmanager, ssm, envfile, github, gitlab, exec, credentials, config`},
		{"a target with nothing after the kind", "rotations:\n  - user: app\n    to: [envfile:]\n",
			`r.yaml:3: to: "envfile:": nothing after envfile:`},
		{"a target that is a mapping", "rotations:\n  - user: app\n    to: [{ssm: /x}]\n",
			`r.yaml:3: to: want a target such as secretsmanager:NAME, found a mapping`},
		{"zero max age", "max_age: 0d\nrotations:\n  - profile: dev\n",
			`r.yaml:1: max_age: "0d": want a positive whole number with a unit h, d or w (e.g. 90d)`},
		{"a negative grace", "rotations:\n  - profile: dev\n    grace: -1d\n",
			`r.yaml:3: grace: "-1d": want a whole number with a unit h, d or w (e.g. 90d)`},
		{"minutes are not a unit", "rotations:\n  - profile: dev\n    max_age: 90m\n",
			`r.yaml:3: max_age: "90m": want a positive whole number with a unit h, d or w (e.g. 90d)`},
		{"an empty grace", "grace:\nrotations:\n  - profile: dev\n",
			`r.yaml:1: grace: want a duration such as 90d, found nothing`},
		{"a key given twice", "rotations:\n  - profile: dev\n    grace: 1d\n    grace: 2d\n",
			`r.yaml:4: grace: given twice (first at line 3)`},
		{"a profile listed twice", "rotations:\n  - profile: dev\n  - profile: prod\n  - profile: dev\n",
			`r.yaml:4: rotations[2]: profile dev is already listed at line 2`},
		{"a user listed twice", "rotations:\n  - {user: a, to: [ssm:/a]}\n  - {user: a, to: [ssm:/b]}\n",
			`r.yaml:3: rotations[1]: user a is already listed at line 2`},
		{"a bad user name", "rotations:\n  - user: ci deployer\n    to: [ssm:/a]\n",
			`r.yaml:2: user: "ci deployer" is not a valid user`},
		{"a bad key id", "rotations:\n  - user: a\n    key_id: akia1\n    to: [ssm:/a]\n",
			`r.yaml:3: key_id: "akia1" is not a valid key id`},
		{"a profile with brackets", "rotations:\n  - profile: \"[dev]\"\n",
			`r.yaml:2: profile: "[dev]" is not a valid profile`},
		{"no rotations list", "grace: 1d\n", `r.yaml:1: no rotations: list`},
		{"an empty rotations list", "rotations: []\n", `r.yaml:1: rotations: the list is empty`},
		{"rotations as a mapping", "rotations:\n  profile: dev\n", `r.yaml:2: rotations: want a list of entries, found a mapping`},
		{"an entry that is a string", "rotations:\n  - dev\n", `r.yaml:2: a rotation: want a mapping with profile: or user:, found "dev"`},
		{"a list at the top", "- profile: dev\n", `r.yaml:1: want a mapping with a rotations: list, found a list`},
		{"an empty file", "", `r.yaml: empty file: want a rotations: list`},
		{"only comments", "# nothing yet\n", `r.yaml: empty file: want a rotations: list`},
		{"a second document", "rotations:\n  - profile: a\n---\nrotations:\n  - profile: b\n",
			`r.yaml:3: a second YAML document (---): keep every rotation in one`},
		{"broken YAML", "rotations:\n  - profile: dev\n    grace: 1d: 2\n",
			`r.yaml:3: not valid YAML: mapping values are not allowed in this context`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml), "r.yaml")
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestLoadConfigNamesThePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rotations.yaml")
	if err := os.WriteFile(path, []byte(exampleConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil || len(cfg.Entries) != 3 {
		t.Fatalf("LoadConfig: %d entries, %v", len(cfg.Entries), err)
	}
	if err := os.WriteFile(path, []byte("rotations:\n  - profile: a\n    gracee: 1d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.HasPrefix(err.Error(), path+":3: unknown key \"gracee\"") {
		t.Errorf("bad file: %v", err)
	}
	_, err = LoadConfig(filepath.Join(dir, "missing.yaml"))
	if !os.IsNotExist(unwrapAll(err)) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// TestTargetKindsMatchTargetForms keeps the kinds a rotations file accepts in
// step with the targets target.Parse knows (and the shared-file ones).
func TestTargetKindsMatchTargetForms(t *testing.T) {
	var fromForms []string
	for _, m := range regexp.MustCompile(`(?:^|, )([a-z]+):`).FindAllStringSubmatch(target.Forms, -1) {
		if !slices.Contains(fromForms, m[1]) {
			fromForms = append(fromForms, m[1])
		}
	}
	want := append(fromForms, "credentials", "config")
	if diff := cmp.Diff(want, targetKinds); diff != "" {
		t.Errorf("targetKinds (-target.Forms +config.go):\n%s", diff)
	}
}

// FuzzParseConfig: hostile files never panic, and what parses keeps the
// invariants the rotation relies on.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(exampleConfig))
	f.Add([]byte("rotations:\n  - {user: a, to: &t [ssm:/a]}\n  - {user: b, to: *t}\n"))
	f.Add([]byte("a: &a [*a]\nrotations: *a\n"))
	f.Add([]byte("rotations:\n  - profile: dev\n    <<: {grace: 1d}\n"))
	f.Add([]byte("---\n...\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, "f.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if len(cfg.Entries) == 0 {
			t.Error("no error and no entries")
		}
		for _, e := range cfg.Entries {
			if (e.Profile == "") == (e.User == "") || e.User != "" && len(e.To) == 0 || e.MaxAge < 0 || e.Grace < 0 {
				t.Errorf("entry breaks an invariant: %+v", e)
			}
		}
	})
}
