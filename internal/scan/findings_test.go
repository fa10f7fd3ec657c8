package scan

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/severity"
)

// at is a key pair finding of key at path, from source, on line.
func at(key, source, path string, line int) Finding {
	f := Finding{Rule: RuleKeyPair, Severity: RuleKeyPair.Severity(), KeyID: key, SecretSHA256: "sha-" + key,
		Source: source, Path: path, Line: line}
	f.Fingerprint = Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, f.Path)
	return f
}

func places(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s:%s:%d", f.KeyID, f.Source, f.Path, f.Line))
	}
	return out
}

func TestMergeWorkTreeLeavesOutWhatHistoryReports(t *testing.T) {
	for _, root := range []string{"repo", "./repo/", "."} {
		t.Run(root, func(t *testing.T) {
			prefix := map[string]string{"repo": "repo/", "./repo/": "repo/", ".": ""}[root]
			history := []Finding{at("A", "git", "config/creds", 2)}
			files := []Finding{
				at("A", "file", prefix+"config/creds", 3), // the same key at the same path: the history's
				at("A", "file", prefix+"copy/creds", 2),   // the same key elsewhere: its own finding
				at("B", "file", prefix+"config/creds", 5), // another key in the same file
			}
			got := places(MergeWorkTree(root, history, files))
			want := []string{"A git:config/creds:2", "A file:" + prefix + "copy/creds:2", "B file:" + prefix + "config/creds:5"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDropBaselinedKeepsWhatIsNew(t *testing.T) {
	old, moved, fresh := at("A", "file", "a", 1), at("A", "file", "b", 1), at("C", "file", "a", 9)
	baseline := map[string]bool{old.Fingerprint: true}
	got := places(DropBaselined([]Finding{old, moved, fresh}, baseline))
	if diff := cmp.Diff([]string{"A file:b:1", "C file:a:9"}, got); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if got := DropBaselined([]Finding{old}, nil); len(got) != 1 {
		t.Errorf("no baseline dropped %v", places(got))
	}
}

func TestSortIsBySourcePathCommitLineColumnRule(t *testing.T) {
	id := at("B", "file", "b", 1)
	id.Rule = RuleKeyID
	inCommit := at("A", "git", "a", 7)
	inCommit.Commit = "c1"
	fs := []Finding{id, at("A", "file", "b", 1), inCommit, at("A", "git", "a", 9), at("A", "file", "a", 4), at("A", "git", "a", 8)}
	Sort(fs)
	got := []string{}
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s:%s@%s:%d %s", f.Source, f.Path, f.Commit, f.Line, f.Rule))
	}
	want := []string{
		"file:a@:4 aws-access-key-pair", "file:b@:1 aws-access-key-id", "file:b@:1 aws-access-key-pair",
		"git:a@:8 aws-access-key-pair", "git:a@:9 aws-access-key-pair", "git:a@c1:7 aws-access-key-pair",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestFailsAtOrAboveTheLevel(t *testing.T) {
	id := at("B", "file", "b", 1)
	id.Rule, id.Severity = RuleKeyID, RuleKeyID.Severity() // medium
	if !Fails([]Finding{id}, severity.Medium) || Fails([]Finding{id}, severity.High) || Fails(nil, severity.Low) {
		t.Error("a medium finding must fail at medium and not at high; no finding never fails")
	}
}
