package dotgit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"

	"github.com/keywarden/keywarden/internal/scan"
)

// leakFile is a well-known file that, when a web server serves it, usually
// hands out AWS credentials. shape says whether a body really is such a file,
// so that a site answering every path with a page is not reported.
type leakFile struct {
	path  string
	what  string
	shape func([]byte) bool
}

// leakFiles is kept short on purpose: each entry costs one request per site,
// and each is a file AWS keys are commonly found in.
var leakFiles = []leakFile{
	{".env", "dotenv file", isEnvFile},
	{".env.local", "dotenv file", isEnvFile},
	{".env.production", "dotenv file", isEnvFile},
	{".env.prod", "dotenv file", isEnvFile},
	{".env.development", "dotenv file", isEnvFile},
	{".env.dev", "dotenv file", isEnvFile},
	{".env.staging", "dotenv file", isEnvFile},
	{".env.backup", "dotenv file", isEnvFile},
	{".env.bak", "dotenv file", isEnvFile},
	{".env.old", "dotenv file", isEnvFile},
	{".aws/credentials", "AWS shared credentials file", isINIFile},
	{".aws/config", "AWS config file", isINIFile},
	{".s3cfg", "s3cmd configuration", isINIFile},
	{".boto", "boto configuration", isINIFile},
	{".passwd-s3fs", "s3fs password file", isS3fsFile},
	{".git-credentials", "git credential store", isGitCredentials},
	{"terraform.tfstate", "Terraform state", isTFState},
	{".terraform/terraform.tfstate", "Terraform state", isTFState},
}

// scanLeakFiles fetches each leak file; one that exists and has the right
// shape is an exposure finding, and its content is scanned for keys (findings
// located at the file's URL).
func scanLeakFiles(ctx context.Context, f *fetcher, maxSize int64, env scan.Env) error {
	for _, lf := range leakFiles {
		body, err := f.get(ctx, lf.path, maxSize)
		if errors.Is(err, errBound) {
			return err
		}
		if err != nil {
			continue // not served, or a failure already warned about
		}
		if looksHTML(body) || !lf.shape(body) {
			continue
		}
		u := f.urlOf(lf.path)
		env.Sink.Add(exposure(scan.RuleExposedFile, u, "web server serves "+lf.path+" ("+lf.what+")"))
		env.ScanBytes(body, scan.Location{Source: "url", Path: u, InHead: true})
	}
	return nil
}

// exposure builds the finding for something a site should not serve; it
// carries no key, and its fingerprint depends on the rule and URL only.
func exposure(rule scan.Rule, u, msg string) scan.Finding {
	return scan.Finding{
		Rule:        rule,
		Severity:    rule.Severity(),
		Source:      "url",
		Path:        u,
		InHead:      true,
		Verified:    scan.VerifiedNotChecked,
		Message:     msg,
		Fingerprint: scan.Fingerprint(rule, "", "", u),
	}
}

// looksHTML reports whether a body is a web page rather than a plain file.
func looksHTML(b []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype")) || bytes.HasPrefix(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<head")) || bytes.Contains(head, []byte("<body"))
}

var (
	envLine     = regexp.MustCompile(`(?m)^[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*[ \t]*=`)
	iniSection  = regexp.MustCompile(`(?m)^[ \t]*\[[^\]\n]+\][ \t]*\r?$`)
	iniKeyValue = regexp.MustCompile(`(?m)^[ \t]*[A-Za-z_][A-Za-z0-9_. -]*[ \t]*[=:]`)
	s3fsLine    = regexp.MustCompile(`(?m)^(?:[^:\s]+:)?[A-Z0-9]{16,128}:[A-Za-z0-9/+=]{20,}\r?$`)
	credURL     = regexp.MustCompile(`(?m)^[a-z][a-z0-9+.-]*://[^\s:@/]+:[^\s@/]+@[^\s/]+`)
)

func isEnvFile(b []byte) bool  { return envLine.Match(b) }
func isINIFile(b []byte) bool  { return iniSection.Match(b) && iniKeyValue.Match(b) }
func isS3fsFile(b []byte) bool { return s3fsLine.Match(b) }

func isGitCredentials(b []byte) bool { return credURL.Match(b) }

func isTFState(b []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil {
		return false
	}
	_, hasTF := probe["terraform_version"]
	return hasTF
}
