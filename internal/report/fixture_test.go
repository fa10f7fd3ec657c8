package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
)

// AWS's documentation examples: safe to land in golden files.
const (
	exampleKeyID        = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret       = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleOtherKeyID   = "AKIAI44QH8DHBEXAMPLE"
	exampleSessionKeyID = "ASIAIOSFODNN7EXAMPLE"
	exampleSessionSec   = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	exampleToken        = "FAKE-SESSION-TOKEN-EXAMPLE"
)

// finding builds a finding the way scan.NewFinding does, with a fixed account
// id so golden files do not depend on the account decoder.
func finding(rule scan.Rule, keyID, sec string, loc scan.Location, line, col int) scan.Finding {
	s := secret.New(sec)
	f := scan.Finding{
		Rule: rule, Severity: rule.Severity(), KeyID: keyID, Secret: s, SecretSHA256: s.SHA256(),
		Source: loc.Source, Path: loc.Path, Line: line, Column: col, Commit: loc.Commit,
		Author: loc.Author, Date: loc.Date, InHead: loc.InHead, Verified: scan.VerifiedNotChecked,
	}
	if keyID != "" {
		f.AccountID = "123456789012"
	}
	f.Fingerprint = scan.Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, f.Path)
	return f
}

// fixture is the fixed set of findings every format's golden file renders.
func fixture() []scan.Finding {
	file := scan.Location{Source: "file", Path: "deploy/prod.env", InHead: true}
	gitLoc := scan.Location{Source: "git", Path: "config/app.yml", Commit: "0123456789abcdef0123456789abcdef01234567",
		Author: "Dev Example <dev@example.com>", Date: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	active := finding(scan.RuleKeyPair, exampleKeyID, exampleSecret, file, 3, 15)
	active.Verified, active.ARN = scan.VerifiedActive, "arn:aws:iam::123456789012:user/deploy"
	inGit := finding(scan.RuleKeyPair, exampleKeyID, exampleSecret, gitLoc, 12, 9)
	inGit.Verified, inGit.ARN = scan.VerifiedActive, active.ARN
	session := finding(scan.RuleSession, exampleSessionKeyID, exampleSessionSec, file, 7, 1)
	session.SessionToken = secret.New(exampleToken)
	session.Verified = scan.VerifiedInvalid
	idOnly := finding(scan.RuleKeyID, exampleOtherKeyID, "", scan.Location{Source: "file", Path: `docs/notes, "draft".md`, InHead: true}, 1, 30)
	lone := finding(scan.RuleSecretKey, "", exampleSecret, scan.Location{Source: "archive", Path: "=backup.zip!etc/app.ini", InHead: true}, 4, 12)
	lone.Encoding = "base64"
	exposed := scan.Finding{Rule: scan.RuleExposedGit, Severity: scan.RuleExposedGit.Severity(), Source: "url",
		Path: "https://www.example.com/.git/", Verified: scan.VerifiedNotChecked,
		Message: "https://www.example.com/.git/HEAD is publicly readable"}
	exposed.Fingerprint = scan.Fingerprint(exposed.Rule, "", "", exposed.Path)
	// Deliberately out of order: the report sorts.
	return []scan.Finding{session, inGit, exposed, active, lone, idOnly}
}

func render(t *testing.T, format string, findings []scan.Finding, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteScan(&buf, format, findings, nil, opts); err != nil {
		t.Fatalf("WriteScan(%s): %v", format, err)
	}
	return buf.Bytes()
}
