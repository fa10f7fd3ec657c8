package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// findingRow is one audit finding as the HTML findings table shows it.
type findingRow struct {
	Severity     string
	Level        int // for sorting: higher is worse
	Check        string
	Account      string
	Resource     string // the full ARN
	ResourceName string // user/alice, root
	Key          string
	Title        string
	Evidence     string
	Controls     string
	Remediation  []remedyPart
}

// remedyPart is a run of remediation prose, or a shell command to copy.
type remedyPart struct {
	Text string
	Code bool
}

// findingRows lists the findings worst first; within a severity they keep
// the document's order (audit.Run's: account, resource, key).
func findingRows(doc Document) []findingRow {
	rows := make([]findingRow, 0, len(doc.Entries))
	for _, e := range doc.Entries {
		controls := ""
		if c, ok := field(e, "controls").([]string); ok {
			controls = strings.Join(c, ", ")
		}
		resource := cmp.Or(fieldString(e, "resource"), e.Location.Path)
		rows = append(rows, findingRow{
			Severity:     e.Severity.String(),
			Level:        int(e.Severity),
			Check:        cmp.Or(fieldString(e, "check"), e.RuleID),
			Account:      cmp.Or(fieldString(e, "account_id"), "?"),
			Resource:     resource,
			ResourceName: resourceName(resource),
			Key:          cmp.Or(detail(e, 4), fieldString(e, "key_id"), "-"),
			Title:        cmp.Or(fieldString(e, "title"), e.Message),
			Evidence:     detail(e, 6),
			Controls:     controls,
			Remediation:  splitRemedy(fieldString(e, "remediation")),
		})
	}
	slices.SortStableFunc(rows, func(a, b findingRow) int { return b.Level - a.Level })
	return rows
}

// splitRemedy cuts remediation text at backticks: the audit checks quote
// every shell command in them, and the page shows those as copyable code.
// An unpaired backtick leaves the rest as prose.
func splitRemedy(s string) []remedyPart {
	var parts []remedyPart
	for s != "" {
		open := strings.IndexByte(s, '`')
		end := -1
		if open >= 0 {
			end = strings.IndexByte(s[open+1:], '`')
		}
		if open < 0 || end < 0 {
			parts = append(parts, remedyPart{Text: s})
			break
		}
		if open > 0 {
			parts = append(parts, remedyPart{Text: s[:open]})
		}
		if cmd := s[open+1 : open+1+end]; cmd != "" {
			parts = append(parts, remedyPart{Text: cmd, Code: true})
		}
		s = s[open+end+2:]
	}
	return parts
}

// keyColumn is one inventory header: its name and how the page sorts it.
type keyColumn struct {
	Name string
	Type string // num, date or text
}

// keyCell is one inventory cell. Sort, when set, is the machine value the
// page sorts by (days for age, RFC 3339 for last use); Title is hover text.
type keyCell struct {
	Text, Sort, Title, Class string
	Sorted                   bool // Sort is set, even when empty (unknown: listed last)
}

// keyTable lays the keys document out as header and rows of Details,
// adding sort values for the age and last-used columns.
func keyTable(doc Document) ([]keyColumn, [][]keyCell) {
	header := doc.Header
	if header == nil {
		header = doc.Columns
	}
	cols := make([]keyColumn, len(header))
	for i, h := range header {
		cols[i] = keyColumn{Name: h, Type: "text"}
		switch h {
		case "AGE":
			cols[i].Type = "num"
		case "LAST USED":
			cols[i].Type = "date"
		}
	}
	rows := make([][]keyCell, 0, len(doc.Entries))
	for _, e := range doc.Entries {
		row := make([]keyCell, len(header))
		for i, h := range header {
			row[i] = keyCellFor(e, h, detail(e, i))
		}
		rows = append(rows, row)
	}
	return cols, rows
}

func keyCellFor(e Entry, column, text string) keyCell {
	c := keyCell{Text: text}
	switch column {
	case "USER":
		c.Title = fieldString(e, "arn")
	case "STATUS":
		c.Class = "st-" + strings.ToLower(text)
	case "AGE":
		c.Sorted = true
		if d, ok := fieldInt(e, "age_days"); ok {
			c.Sort = strconv.Itoa(d)
		}
		// Unknown ages keep an empty sort value: the page lists them last.
	case "LAST USED":
		c.Sorted = true
		switch used := fieldString(e, "last_used"); used {
		case "never":
			c.Sort = "0" // before every date: never used is the stalest
		case "unknown", "":
		default:
			c.Sort, c.Title = used, used // the cell shows the day; hover gives the time
		}
	}
	return c
}
