package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// writeTable renders doc as a plain table (Document.Header set): a bold
// header row, one row of Details per entry. A cell that is exactly its
// entry's severity name gets that severity's color. With no entries it
// writes nothing.
func writeTable(w io.Writer, doc Document, paint func(code, s string) string) {
	if len(doc.Entries) > 0 {
		rows := make([][]string, 0, len(doc.Entries)+1)
		rows = append(rows, doc.Header)
		for _, e := range doc.Entries {
			rows = append(rows, e.Details)
		}
		widths := columnWidths(rows)
		for i, row := range rows {
			var b strings.Builder
			for j, cell := range row {
				cell = sanitize(cell)
				code := ansiBold
				if i > 0 {
					code = ""
					if sev := doc.Entries[i-1].Severity; cell == sev.String() {
						code = severityColor(sev)
					}
				}
				b.WriteString(paint(code, cell))
				if j < len(row)-1 && j < len(widths)-1 {
					b.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell)+2))
				}
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
	}
}

// columnWidths is the widest sanitized cell of each column, in runes.
func columnWidths(rows [][]string) []int {
	var widths []int
	for _, row := range rows {
		for j, cell := range row {
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(sanitize(cell)))
		}
	}
	return widths
}
