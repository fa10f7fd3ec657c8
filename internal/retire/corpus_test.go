package retire

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/policy"
)

// dirSource reads a directory of CloudTrail files.
type dirSource string

func (d dirSource) Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	return cloudtrail.ReadDir(ctx, string(d), opts, sink)
}

// pantherSource reads the events of panther-labeled.jsonl's lines.
type pantherSource string

func (p pantherSource) Read(_ context.Context, _ cloudtrail.Options, sink cloudtrail.Sink) error {
	f, err := os.Open(string(p))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct{ Event json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return err
		}
		e, err := cloudtrail.Decode(l.Event)
		if err != nil {
			continue // the corpus's deliberate edge cases
		}
		if err := sink(e); err != nil {
			return err
		}
	}
	return sc.Err()
}

// corpusKeys are the long-term keys whose own events a source holds.
func corpusKeys(t *testing.T, src policy.Source) []KeyInfo {
	t.Helper()
	seen := map[string]bool{}
	err := src.Read(context.Background(), cloudtrail.Options{}, func(e cloudtrail.Event) error {
		if k := e.UserIdentity.AccessKeyID; strings.HasPrefix(k, "AKIA") {
			seen[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []KeyInfo
	for k := range seen {
		keys = append(keys, KeyInfo{ID: k})
	}
	slices.SortFunc(keys, func(a, b KeyInfo) int { return strings.Compare(a.ID, b.ID) })
	return keys
}

// TestCorpusClassification plans every long-term key of the labelled
// CloudTrail corpus and reports how many keys fall in which class
// (docs/retire.md quotes the figures). The recordings come from test
// accounts driven by Terraform, Stratus Red Team and the console, with
// addresses masked in the invictus set: what must hold is that no key is
// classified from its AWS services' calls alone, and each key has a class
// and, unless mixed, a replacement.
func TestCorpusClassification(t *testing.T) {
	sets := []struct {
		name string
		src  policy.Source
	}{
		{"invictus-aws-dataset", dirSource(awstest.CorpusPath(t, "cloudtrail/invictus-aws-dataset"))},
		{"stratus-detonation-logs", dirSource(awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs"))},
		{"panther-labeled.jsonl", pantherSource(awstest.CorpusPath(t, "cloudtrail/panther-labeled.jsonl"))},
	}
	var lines []string
	for _, s := range sets {
		keys := corpusKeys(t, s.src)
		if len(keys) == 0 {
			t.Fatalf("%s: no long-term key", s.name)
		}
		p, err := MakePlan(context.Background(), Request{Keys: keys}, Env{Sources: []policy.Named{{Name: s.name, Source: s.src}}})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[Class]int{}
		for _, k := range p.Keys {
			counts[k.Class]++
			if want, ok := corpusLabels[k.AccessKeyID]; ok && (k.Class != want.class || k.Replacement.Kind != want.kind) {
				t.Errorf("%s %s: %s %s, want %s %s (%+v)", s.name, k.AccessKeyID, k.Class, k.Replacement.Kind, want.class, want.kind, k.Evidence)
			}
			if k.Class != ClassMixed && k.Class != ClassUnknown && k.Replacement.Kind == "" {
				t.Errorf("%s %s: class %s without a replacement", s.name, k.AccessKeyID, k.Class)
			}
			if k.Class != ClassUnused && k.Class != ClassMixed && k.Class != ClassUnknown && (k.Permissions == nil || k.Permissions.Events == 0) {
				t.Errorf("%s %s: class %s without permissions from its events", s.name, k.AccessKeyID, k.Class)
			}
			for _, e := range k.Evidence {
				if strings.Contains(e.Example, "amazonaws.com") || e.Example == "AWS Internal" {
					t.Errorf("%s %s: an AWS service's call decided: %+v", s.name, k.AccessKeyID, e)
				}
			}
		}
		var parts []string
		for _, c := range []Class{ClassAWS, ClassGitHub, ClassGitLab, ClassPerson, ClassThirdParty, ClassUnused, ClassMixed, ClassUnknown} {
			if counts[c] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", c, counts[c]))
			}
		}
		lines = append(lines, fmt.Sprintf("%s: %d keys: %s", s.name, len(p.Keys), strings.Join(parts, ", ")))
		if testing.Verbose() {
			for _, k := range p.Keys {
				t.Logf("  %s %s %s %+v", s.name, k.AccessKeyID, k.Class, k.Evidence)
			}
		}
	}
	t.Log("corpus classification:\n" + strings.Join(lines, "\n"))
}

// corpusLabels are keys of the corpus whose use the records show plainly:
// a Stratus detonation from an EC2 address of us-west-2, an invictus key
// through a VPC endpoint, a Panther fixture's aws-cli on macOS.
var corpusLabels = map[string]struct {
	class Class
	kind  string
}{
	"AKIAAM80VXLJF8NPK4VC": {ClassAWS, ReplaceInstanceProfile},
	"AKIATFQZ7NSC8Q4X21BJ": {ClassAWS, ReplaceInstanceProfile},
	"AKIASXP6SDP2F3JQERZ2": {ClassPerson, ReplaceExecRole},
}
