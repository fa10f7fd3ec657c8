package drill

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Seed001 is the seed-001 case: a key committed to a public repository,
// found, probed and readied for SES abuse.
var Seed001 = Scenario{
	Name:        "seed-001",
	Description: "a key committed to a public repository and deleted later; the finder probes it and readies SES for spam",
	Calls: []Call{
		{Service: "sts", Action: "GetCallerIdentity"},
		{Service: "iam", Action: "ListUsers"},
		{Service: "iam", Action: "ListRoles"},
		{Service: "s3", Action: "ListBuckets"},
		{Service: "ses", Action: "GetSendQuota"},
		{Service: "sts", Action: "GetSessionToken"},
		{Service: "iam", Action: "CreateUser"},
		{Service: "iam", Action: "CreateAccessKey"},
		{Service: "ses", Action: "GetSendQuota", Region: "ap-southeast-3"},
	},
	Expect: []string{"KW-CT-SES-RECON", "KW-CT-STS-SESSION-FROM-KEY"},
}

// StolenLaptop is a laptop's ~/.aws/credentials in a thief's hands: the
// thief checks the key, lists, mints a session to keep access after the
// key is shut, and uses it.
var StolenLaptop = Scenario{
	Name:        "stolen-laptop",
	Description: "the default profile of a stolen laptop's ~/.aws/credentials; the thief mints a session to outlive the key",
	Leak:        LeakLaptop,
	Calls: []Call{
		{Service: "sts", Action: "GetCallerIdentity"},
		{Service: "iam", Action: "ListUsers"},
		{Service: "iam", Action: "ListRoles"},
		{Service: "s3", Action: "ListBuckets"},
		{Service: "sts", Action: "GetSessionToken"},
		{Service: "ses", Action: "GetSendQuota", Session: true},
		{Service: "iam", Action: "CreateAccessKey"},
	},
	Expect: []string{"KW-CT-STS-SESSION-FROM-KEY", "KW-CT-RECON-LIST"},
}

// CILeak is a key pasted into a CI workflow, moved to the CI's secrets a
// commit later: still in the history, probed and tried for persistence.
var CILeak = Scenario{
	Name:        "ci-leak",
	Description: "a key pasted into a GitHub Actions workflow, moved to secrets a commit later; the finder lists and tries persistence",
	Leak:        LeakCIWorkflow,
	Calls: []Call{
		{Service: "sts", Action: "GetCallerIdentity"},
		{Service: "s3", Action: "ListBuckets"},
		{Service: "iam", Action: "ListRoles"},
		{Service: "iam", Action: "ListUsers"},
		{Service: "iam", Action: "CreateUser"},
		{Service: "iam", Action: "CreateAccessKey"},
		{Service: "sts", Action: "GetCallerIdentity", Region: "eu-north-1"},
	},
	Expect: []string{"KW-CT-RECON-LIST"},
}

// ExposedGit is a web site deployed with its repository: the .git/ is
// served, and the key deleted from the work tree is still in its history,
// which anyone can rebuild over HTTP (keywarden scan --url); the finder
// probes it and readies SES, as in seed-001.
var ExposedGit = Scenario{
	Name:        "exposed-git",
	Description: "a site deployed with its .git/; the key deleted from the work tree is still in the served history; the finder probes it and readies SES",
	ExposeGit:   true,
	Calls: []Call{
		{Service: "sts", Action: "GetCallerIdentity"},
		{Service: "s3", Action: "ListBuckets"},
		{Service: "ses", Action: "GetSendQuota"},
		{Service: "sts", Action: "GetSessionToken"},
		{Service: "iam", Action: "CreateUser"},
		{Service: "ses", Action: "GetSendQuota", Region: "sa-east-1"},
	},
	Expect: []string{"KW-CT-SES-RECON"},
}

// Builtin are the scenarios `drill run --scenario` knows by name.
var Builtin = []Scenario{Seed001, StolenLaptop, CILeak, ExposedGit}

// Supported are the calls a detonation can make.
var Supported = []Call{
	{Service: "sts", Action: "GetCallerIdentity"}, {Service: "sts", Action: "GetSessionToken"},
	{Service: "iam", Action: "ListUsers"}, {Service: "iam", Action: "ListRoles"},
	{Service: "iam", Action: "CreateUser"}, {Service: "iam", Action: "CreateAccessKey"},
	{Service: "s3", Action: "ListBuckets"}, {Service: "ses", Action: "GetSendQuota"},
}

// LoadScenario is the built-in scenario name, or the YAML file it names.
func LoadScenario(name string) (Scenario, error) {
	for _, s := range Builtin {
		if s.Name == name {
			return s, nil
		}
	}
	if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
		return Scenario{}, fmt.Errorf("--scenario %s: no such built-in scenario (want %s, or a .yaml file)", name, names())
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return Scenario{}, fmt.Errorf("--scenario %s: %w", name, err)
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt field would leave a budget or an alert unchecked
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Scenario{}, fmt.Errorf("--scenario %s: %s", name, yamlLine(err))
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(name, ".yaml")
	}
	return s, s.check(name)
}

// yamlLine is a YAML decoding error in one line, in the scenario's words.
func yamlLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	msg = unknownField.ReplaceAllString(msg, "unknown field $1")
	return durationValue.ReplaceAllString(msg, "$1: want a duration such as 15m")
}

var (
	unknownField  = regexp.MustCompile(`field (\S+) not found in type \S+`)
	durationValue = regexp.MustCompile("(cannot unmarshal !!\\w+ `[^`]*`) into time.Duration")
)

func names() string {
	var out []string
	for _, s := range Builtin {
		out = append(out, s.Name)
	}
	return strings.Join(out, ", ")
}

// check refuses a scenario with no call or a call the detonation cannot make.
func (s Scenario) check(file string) error {
	if err := s.Timeline.check(); err != nil {
		return fmt.Errorf("--scenario %s: %w", file, err)
	}
	switch s.Leak {
	case "", LeakRepoHistory, LeakLaptop, LeakCIWorkflow:
	default:
		return fmt.Errorf("--scenario %s: leak %q: want %s, %s or %s", file, s.Leak, LeakRepoHistory, LeakLaptop, LeakCIWorkflow)
	}
	if s.ExposeGit && s.Leak == LeakLaptop {
		return fmt.Errorf("--scenario %s: expose_git needs a repository: leak %s has none (want %s or %s)", file, s.Leak, LeakRepoHistory, LeakCIWorkflow)
	}
	if len(s.Calls) == 0 {
		return fmt.Errorf("--scenario %s: no calls", file)
	}
	for _, c := range s.Calls {
		if !slices.ContainsFunc(Supported, func(k Call) bool { return k.Service == c.Service && k.Action == c.Action }) {
			return fmt.Errorf("--scenario %s: call %s:%s is not one a drill makes", file, c.Service, c.Action)
		}
	}
	return nil
}
