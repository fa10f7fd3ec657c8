package git

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

func scanStaged(t *testing.T, dir string) []got {
	t.Helper()
	var sink scan.Collector
	env := scan.Env{Detector: scan.NewDetector(), Sink: &sink, Stats: &scan.Stats{}}
	if err := ScanStaged(context.Background(), dir, Options{}, env); err != nil {
		t.Fatalf("ScanStaged: %v", err)
	}
	return summarize(sink.Findings())
}

func TestScanStagedReportsOnlyWhatTheCommitAdds(t *testing.T) {
	staged := func(k key, path string) []got { return []got{{Rule: scan.RuleKeyPair, KeyID: k.id, Path: path}} }
	tests := []struct {
		name  string
		build func(r *awstest.GitRepo, k key) []got
	}{
		{"added key in the first commit", func(r *awstest.GitRepo, k key) []got {
			r.Write("creds", k.file)
			r.Git("add", "creds")
			return staged(k, "creds")
		}},
		{"added key in a later commit", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Write("config/creds", "# creds\n"+k.file)
			r.Git("add", "-A")
			return staged(k, "config/creds")
		}},
		{"key already committed is not reported", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("creds", k.file, "old leak")
			r.Write("creds", "# a new comment line\n"+k.file)
			r.Git("add", "-A")
			return nil
		}},
		{"renamed file with a committed key is not reported", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("creds", k.file, "old leak")
			r.Git("mv", "creds", "credentials")
			return nil
		}},
		{"unstaged key is not reported", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Write("README", "hello\n"+k.file)
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := awstest.NewGitRepo(t)
			want := tt.build(r, newKey(tt.name))
			if diff := cmp.Diff(want, scanStaged(t, r.Dir)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
