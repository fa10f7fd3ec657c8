// Package report renders findings, results and alerts as text, json, jsonl, csv or sarif.
package report

import (
	"io"

	"github.com/keywarden/keywarden/internal/scan"
)

// Options control rendering.
type Options struct {
	ShowSecrets bool   // write secrets in clear (only when the user asked with --show-secrets)
	Color       bool   // ANSI color in text output (only on a TTY)
	Version     string // tool version, for SARIF
}

// Formats lists the --format values scan supports.
var Formats = []string{"text", "json", "jsonl", "csv", "sarif"}

// WriteScan renders scan findings in format. TODO(report agent).
func WriteScan(w io.Writer, format string, findings []scan.Finding, opts Options) error { return nil }
