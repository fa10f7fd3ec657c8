package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// TestAuditBadFlagsAreOneLineExit2: each bad flag is one line naming it,
// exit 2, before the AWS configuration is even loaded.
func TestAuditBadFlagsAreOneLineExit2(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--as-of", "next week"}, `keywarden: parse --as-of "next week": want a date`},
		{[]string{"--format", "yaml"}, `keywarden: --format "yaml": want one of text, json, jsonl, csv, sarif, html`},
		{[]string{"keys", "--format", "sarif"}, `keywarden: --format "sarif": want one of text, json, jsonl, csv`},
		{[]string{"keys", "--format", "html"}, `keywarden: --format "html": want one of text, json, jsonl, csv`},
		{[]string{"--diff", keys, "--format", "sarif"}, `keywarden: --format "sarif": want one of text, json, jsonl, csv`},
		{[]string{"--diff", keys}, `keywarden: --diff: open ` + keys + `: no such file or directory`},
		{[]string{"--fail-on", "severe"}, `keywarden: --fail-on "severe": want one of info, low, medium, high, critical`},
		{[]string{"--max-key-age", "0d"}, `keywarden: --max-key-age "0d": want a positive whole number`},
		{[]string{"--max-unused", "45m"}, `keywarden: --max-unused "45m": want a whole number`},
		{[]string{"--new-user-days", "0"}, `keywarden: --new-user-days 0: want a positive number of days`},
		{[]string{"--third-party-tag", "vendor"}, `keywarden: --third-party-tag "vendor": want KEY=VALUE`},
		{[]string{"--required-tag", "aws:createdBy"}, `keywarden: --required-tag "aws:createdBy": want a tag key of your own (aws: keys are AWS's)`},
		{[]string{"--region", "useast1"}, `keywarden: --region "useast1": want a region name such as us-east-1`},
		{[]string{"--org", "--org-concurrency", "0"}, `keywarden: --org-concurrency 0: want a positive number`},
		{[]string{"--org", "--role-name", ""}, `keywarden: --role-name: want a role name`},
	}
	loaded := false
	load := func(context.Context, awsx.Options) (aws.Config, error) {
		loaded = true
		return aws.Config{}, errors.New("no AWS here")
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(append([]string{"audit"}, tt.args...), Deps{Stdout: &stdout, Stderr: &stderr, LoadAWS: load})
		if code != ExitError || !strings.HasPrefix(stderr.String(), tt.want) || strings.Count(stderr.String(), "keywarden:") != 1 || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", tt.args, code, stdout.String(), stderr.String())
		}
	}
	if loaded {
		t.Error("a bad flag still loaded the AWS configuration")
	}
}

// TestTellNotes: notes go to stderr, warnings as warnings, unread accounts
// as errors, each account's warnings capped on their own.
func TestTellNotes(t *testing.T) {
	notes := []audit.Note{{Kind: audit.NoteInfo, Account: "1 (a)", Text: "credential report generated 2h00m ago"}}
	for range maxWarnings + 2 {
		notes = append(notes, audit.Note{Kind: audit.NoteWarning, Account: "1 (a)", Text: "user deploy: throttled"})
	}
	for i := range maxWarnings + 2 {
		notes = append(notes, audit.Note{Kind: audit.NoteWarning, Account: "1 (a)", Text: "role r" + string(rune('a'+i)) + ": throttled"})
	}
	notes = append(notes, audit.Note{Kind: audit.NoteError, Account: "2", Text: "not audited: denied"},
		audit.Note{Kind: audit.NoteWarning, Account: "3", Text: "no credential report"})
	var buf bytes.Buffer
	tellNotes(&buf, notes)
	out := buf.String()
	for _, want := range []string{
		"account 1 (a): credential report generated 2h00m ago\nwarning: account 1 (a): user deploy: throttled\nwarning: account 1 (a): role ra: throttled\n",
		"warning: 3 more warnings not shown\nerror: account 2: not audited: denied\nwarning: account 3: no credential report\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "user deploy: throttled"); n != 1 {
		t.Errorf("a warning said %d times:\n%s", n, out)
	}
}
