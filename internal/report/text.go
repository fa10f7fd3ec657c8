package report

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/severity"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiBRed   = "\x1b[1;31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

// writeText lists entries for people: a heading per group (file, or file at
// commit), one aligned line per entry, then the summary line.
func writeText(w io.Writer, doc Document, opts Options) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !opts.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	if doc.Header != nil {
		writeTable(bw, doc, paint)
		writeSummary(bw, doc)
		return bw.Flush()
	}
	for start := 0; start < len(doc.Entries); {
		end := start + 1
		group := doc.Entries[start].Location.group()
		for end < len(doc.Entries) && doc.Entries[end].Location.group() == group {
			end++
		}
		fmt.Fprintln(bw, paint(ansiBold, sanitize(group)))
		writeRows(bw, doc.Entries[start:end], paint)
		start = end
	}
	writeSummary(bw, doc)
	return bw.Flush()
}

// withGaps is a summary of a run that could not read n things: its
// findings, or their absence, hold only for what was read, and the list
// (writeSummary's) comes before it.
func withGaps(summary string, n int) string {
	if n == 0 {
		return summary
	}
	if rest, ok := strings.CutPrefix(summary, "no findings"); ok {
		summary = "no findings in what was read" + rest
	}
	return fmt.Sprintf("%s; incomplete: %d not read, listed above", summary, n)
}

// writeSummary ends the text: what could not be read, then the summary line.
func writeSummary(w io.Writer, doc Document) {
	if len(doc.Incomplete) > 0 {
		if len(doc.Entries) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "Not read, so what is above is incomplete:")
		for _, line := range gapLines(doc.Incomplete) {
			fmt.Fprintf(w, "  %s\n", sanitize(line))
		}
	}
	if doc.Summary != "" {
		if len(doc.Entries) > 0 || len(doc.Incomplete) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, doc.Summary)
	}
}

// writeRows prints one group's entries with columns padded to a common width;
// padding is computed on the plain text so color codes do not break alignment.
func writeRows(w io.Writer, entries []Entry, paint func(code, s string) string) {
	rows := make([][]string, len(entries))
	var widths []int
	for i, e := range entries {
		row := append([]string{position(e.Location), e.Severity.String(), e.RuleID}, e.Details...)
		if len(e.Details) == 0 && e.Message != "" {
			row = append(row, e.Message)
		}
		for j := range row {
			row[j] = sanitize(row[j])
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(row[j]))
		}
		rows[i] = row
	}
	for i, row := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for j, cell := range row {
			pad := ""
			if j < len(row)-1 {
				pad = strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell)+2)
			}
			b.WriteString(paint(cellColor(j, entries[i].Severity), cell) + pad)
		}
		fmt.Fprintln(w, b.String())
	}
}

func position(l Location) string {
	if l.Line <= 0 {
		return "-"
	}
	return fmt.Sprintf("%d:%d", l.Line, max(l.Column, 1))
}

func cellColor(col int, sev severity.Level) string {
	switch col {
	case 0:
		return ansiDim
	case 1:
		return severityColor(sev)
	}
	return ""
}

func severityColor(sev severity.Level) string {
	switch sev {
	case severity.Critical:
		return ansiBRed
	case severity.High:
		return ansiRed
	case severity.Medium:
		return ansiYellow
	case severity.Low:
		return ansiCyan
	}
	return ""
}

// sanitize keeps control characters from untrusted paths and messages out of
// the terminal, where they could forge output or move the cursor.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// gapLines words the gaps for a terminal: one line a gap, except that the
// same reason for several sources of one kind ("region eu-west-1", "region
// us-east-1", ...) is one line naming them all, so a service missing in
// every region does not fill the screen. The machine formats keep each gap.
func gapLines(gaps []gap.Gap) []string {
	gapKind := regexp.MustCompile(`^[a-z]+$`) // "region", "account": never a path
	type group struct {
		kind, reason string
		names        []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, g := range gaps {
		kind, name, ok := strings.Cut(g.Source, " ")
		if !ok || !gapKind.MatchString(kind) || strings.Contains(name, " ") {
			kind, name = g.Source, ""
		}
		key := kind + "\x00" + g.Reason
		if name == "" {
			key += "\x00" + fmt.Sprint(len(groups)) // a source of no kind stays alone
		}
		gr := byKey[key]
		if gr == nil {
			gr = &group{kind: kind, reason: g.Reason}
			byKey[key] = gr
			groups = append(groups, gr)
		}
		if name != "" {
			gr.names = append(gr.names, name)
		}
	}
	out := make([]string, 0, len(groups))
	for _, gr := range groups {
		switch len(gr.names) {
		case 0:
			out = append(out, gap.Gap{Source: gr.kind, Reason: gr.reason}.String())
		case 1:
			out = append(out, gap.Gap{Source: gr.kind + " " + gr.names[0], Reason: gr.reason}.String())
		default:
			out = append(out, fmt.Sprintf("%d %ss (%s): %s", len(gr.names), gr.kind, strings.Join(gr.names, ", "), gr.reason))
		}
	}
	return out
}
