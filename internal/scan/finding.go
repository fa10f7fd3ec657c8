package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/keywarden/keywarden/internal/scan/awskey"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/severity"
)

// Rule names what a finding exposes. The values are part of the JSON contract.
type Rule string

const (
	RuleKeyPair     Rule = "aws-access-key-pair"     // key id + its secret: a working credential
	RuleSecretKey   Rule = "aws-secret-key"          // secret without its id in sight
	RuleKeyID       Rule = "aws-access-key-id"       // id alone: reveals the account, not a credential
	RuleSession     Rule = "aws-session-credentials" // ASIA id + secret (+ session token)
	RuleExposedGit  Rule = "exposed-git-directory"   // a web site serves its .git/
	RuleExposedFile Rule = "exposed-sensitive-file"  // a web site serves .env, .aws/credentials, ...
	RuleCanary      Rule = "aws-canary-key"          // a key keywarden planted as a canary: where it was meant to be
)

// Severity is the default severity of each rule.
func (r Rule) Severity() severity.Level {
	switch r {
	case RuleKeyPair:
		return severity.Critical
	case RuleSession, RuleSecretKey, RuleExposedGit, RuleExposedFile:
		return severity.High
	case RuleKeyID:
		return severity.Medium
	case RuleCanary:
		return severity.Info
	}
	return severity.Low
}

// Verification states of a finding (JSON "verified").
const (
	VerifiedNotChecked = "not_checked"
	VerifiedActive     = "active"
	VerifiedInactive   = "inactive"
	VerifiedInvalid    = "invalid"
	VerifiedUnknown    = "unknown"
	VerifiedCanary     = "canary" // the key's account hands out canary tokens: never sent to AWS
)

// Location says where content came from. Sources fill it; the detector never sees it.
type Location struct {
	Source string    // file | git | stdin | archive | url
	Path   string    // file path, archive member ("a.zip!dir/f"), or URL
	Commit string    // git: commit that introduced the content
	Author string    // git: that commit's author
	Date   time.Time // git: that commit's author date
	InHead bool      // git: content is still present at HEAD; files: always true
}

// Finding is one leaked credential at one place, as docs/formats.md's "Scan finding fields" describes it.
type Finding struct {
	Rule         Rule           `json:"rule"`
	Severity     severity.Level `json:"severity"`
	KeyID        string         `json:"key_id"`
	AccountID    string         `json:"account_id"`
	Secret       secret.Secret  `json:"secret"`
	SessionToken secret.Secret  `json:"-"`
	SecretSHA256 string         `json:"secret_sha256"`
	Fingerprint  string         `json:"fingerprint"`
	Source       string         `json:"source"`
	Path         string         `json:"path"`
	Line         int            `json:"line"`
	Column       int            `json:"column"`
	Commit       string         `json:"commit"`
	Author       string         `json:"author"`
	Date         time.Time      `json:"date"`
	InHead       bool           `json:"in_head"`
	Verified     string         `json:"verified"`
	ARN          string         `json:"arn"`
	Encoding     string         `json:"encoding,omitempty"` // base64 | url | json-escaped when the key was found encoded
	Message      string         `json:"message,omitempty"`  // for exposure findings: what was exposed
}

// NewFinding turns a detector match found at loc into a finding: decodes the
// account id offline, hashes the secret and computes the fingerprint.
func NewFinding(m Match, loc Location) Finding {
	f := Finding{
		Rule:         m.Rule,
		Severity:     m.Rule.Severity(),
		KeyID:        m.KeyID,
		Secret:       m.Secret,
		SessionToken: m.SessionToken,
		SecretSHA256: m.Secret.SHA256(),
		Source:       loc.Source,
		Path:         loc.Path,
		Line:         m.Line,
		Column:       m.Column,
		Commit:       loc.Commit,
		Author:       loc.Author,
		Date:         loc.Date,
		InHead:       loc.InHead,
		Verified:     VerifiedNotChecked,
		Encoding:     m.Encoding,
	}
	if id, ok := awskey.AccountID(m.KeyID); ok {
		f.AccountID = id
	}
	f.Fingerprint = Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, f.Path)
	return f
}

// Fingerprint identifies one leak at one path, stable across commits and line
// moves, so an allowlisted or baselined leak stays quiet as the file changes.
func Fingerprint(rule Rule, keyID, secretSHA256, path string) string {
	h := sha256.New()
	for _, s := range []string{string(rule), keyID, secretSHA256, path} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
