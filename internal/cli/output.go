package cli

import (
	"io"
	"os"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/ui"
)

// writeOutput renders a report to stdout, in colour where it is a terminal
// that takes colour, or else atomically to the file path with perm.
func writeOutput(deps Deps, path string, perm os.FileMode, render func(w io.Writer, color bool) error) error {
	if path == "" {
		return render(deps.Stdout, ui.ColorOK(deps.Stdout))
	}
	return atomicfile.Write(path, perm, func(w io.Writer) error { return render(w, false) })
}

// document renders doc in format, for writeOutput.
func document(format string, doc report.Document) func(io.Writer, bool) error {
	return func(w io.Writer, color bool) error {
		return report.Write(w, format, doc, report.Options{Version: Version(), Color: color})
	}
}
