package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/severity"
)

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "keywarden"
	toolInfoURI  = "https://github.com/keywarden/keywarden"
	// FingerprintKey names keywarden's fingerprint in SARIF partialFingerprints.
	FingerprintKey = "keywarden/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Results     []sarifResult     `json:"results"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
}

// sarifInvocation says the run did not read all it was asked to: SARIF's
// place for "incomplete".
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level      string            `json:"level"`
	Message    sarifText         `json:"message"`
	Properties map[string]string `json:"properties"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifRuleConf  `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

// sarifLogical names a thing that is not a file: for audit, an AWS resource.
type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// writeSARIF writes a SARIF 2.1.0 log as GitHub code scanning accepts it.
// Secrets never appear in clear here, even with ShowSecrets: SARIF is made to
// be uploaded.
func writeSARIF(w io.Writer, doc Document, opts Options) error {
	driver := sarifDriver{Name: toolName, Version: opts.Version, InformationURI: toolInfoURI, Rules: []sarifRule{}}
	index := map[string]int{}
	for _, r := range doc.Rules {
		index[r.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRuleOf(r))
	}
	results := make([]sarifResult, 0, len(doc.Entries))
	for _, e := range doc.Entries {
		i, ok := index[e.RuleID]
		if !ok { // an adapter forgot a rule: add a minimal one rather than emit a dangling index
			i = len(driver.Rules)
			index[e.RuleID] = i
			driver.Rules = append(driver.Rules, sarifRuleOf(RuleMeta{ID: e.RuleID, Name: e.RuleID, Short: e.RuleID, Full: e.RuleID, Help: e.RuleID, Severity: e.Severity}))
		}
		results = append(results, sarifResultOf(e, i))
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: results, Invocations: sarifInvocations(doc.Incomplete)}
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// sarifInvocations is the invocation of a run with gaps: not successful,
// one error notification per gap, its source and reason also as
// properties; none (no invocation object) for a run that read everything.
// Every verb's SARIF gets it through Document.Incomplete.
func sarifInvocations(gaps []gap.Gap) []sarifInvocation {
	if len(gaps) == 0 {
		return nil
	}
	inv := sarifInvocation{ToolExecutionNotifications: make([]sarifNotification, 0, len(gaps))}
	for _, g := range gaps {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:      "error", // SARIF: the condition made the analysis incomplete
			Message:    sarifText{Text: "not read: " + g.String()},
			Properties: map[string]string{"source": g.Source, "reason": g.Reason},
		})
	}
	return []sarifInvocation{inv}
}

func sarifRuleOf(r RuleMeta) sarifRule {
	tags := append([]string{"security"}, r.Tags...)
	return sarifRule{
		ID:                   r.ID,
		Name:                 r.Name,
		ShortDescription:     sarifText{Text: r.Short},
		FullDescription:      sarifText{Text: r.Full},
		Help:                 sarifText{Text: r.Help},
		DefaultConfiguration: sarifRuleConf{Level: sarifLevel(r.Severity)},
		Properties: map[string]any{
			"tags":              tags,
			"security-severity": securitySeverity(r.Severity),
			"precision":         "high",
		},
	}
}

func sarifResultOf(e Entry, ruleIndex int) sarifResult {
	res := sarifResult{
		RuleID:    e.RuleID,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(e.Severity),
		Message:   sarifText{Text: e.Message},
		Locations: []sarifLocation{sarifLocationOf(e.Location)},
	}
	if e.Fingerprint != "" {
		res.PartialFingerprints = map[string]string{FingerprintKey: e.Fingerprint}
	}
	if len(e.Properties) > 0 {
		res.Properties = map[string]any{}
		for _, p := range e.Properties {
			res.Properties[p.Key] = p.Value
		}
	}
	return res
}

func sarifLocationOf(l Location) sarifLocation {
	if l.Logical != "" {
		return sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: l.Logical, Kind: "resource"}}}
	}
	phys := &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(l.Path)}}
	if l.Line >= 1 {
		phys.Region = &sarifRegion{StartLine: l.Line, StartColumn: max(l.Column, 1)}
	}
	return sarifLocation{PhysicalLocation: phys}
}

// artifactURI turns a path into a URI reference: relative paths stay relative
// with forward slashes (GitHub resolves them against the repository root),
// absolute paths become file URIs, URLs pass through.
func artifactURI(p string) string {
	if u, err := url.Parse(p); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return p
	}
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" {
		return "stdin"
	}
	if path.IsAbs(p) || (len(p) > 2 && p[1] == ':' && p[2] == '/') {
		return (&url.URL{Scheme: "file", Path: "/" + strings.TrimPrefix(p, "/")}).String()
	}
	return (&url.URL{Path: strings.TrimPrefix(p, "./")}).String()
}

// sarifLevel maps a severity to SARIF's level.
func sarifLevel(s severity.Level) string {
	switch {
	case s >= severity.High:
		return "error"
	case s == severity.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score GitHub uses to rank alerts
// (over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, below low).
func securitySeverity(s severity.Level) string {
	switch s {
	case severity.Critical:
		return "9.5"
	case severity.High:
		return "8.0"
	case severity.Medium:
		return "5.5"
	case severity.Low:
		return "3.0"
	}
	return "0.0"
}
