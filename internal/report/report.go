// Package report renders findings, results and alerts as text, json, jsonl,
// csv or sarif. Each verb has an adapter (scan.go for scan findings) that
// fills a format-neutral Document; one file per format renders a Document.
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/keywarden/keywarden/internal/gap"
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

// WriteScan renders scan findings in format, and gaps: what the scan could
// not read.
func WriteScan(w io.Writer, format string, findings []scan.Finding, gaps []gap.Gap, opts Options) error {
	return Write(w, format, ScanDocument(findings, gaps, opts), opts)
}

// Write renders doc in format. Verbs other than scan build their Document
// with their own adapter and call this.
func Write(w io.Writer, format string, doc Document, opts Options) error {
	var err error
	switch format {
	case "text":
		err = writeText(w, doc, opts)
	case "json":
		err = writeJSON(w, doc)
	case "jsonl":
		err = writeJSONL(w, doc)
	case "csv":
		err = writeCSV(w, doc)
	case "sarif":
		err = writeSARIF(w, doc, opts)
	default:
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}
