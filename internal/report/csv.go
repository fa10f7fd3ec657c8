package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeCSV writes a header row of doc.Columns and one row per entry. Cells
// that a spreadsheet would run as a formula are prefixed with a quote, since
// paths and commit authors come from untrusted content.
func writeCSV(w io.Writer, doc Document) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(doc.Columns); err != nil {
		return err
	}
	for _, fields := range doc.rows() {
		row := make([]string, len(doc.Columns))
		for _, f := range fields {
			for i, c := range doc.Columns {
				if c == f.Key {
					row[i] = csvCell(f.Value)
				}
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		s = v
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		s = strings.Join(v, ";")
	case map[string]any:
		b, err := json.Marshal(v) // keys sorted: the same cell on every run
		if err != nil {
			return ""
		}
		s = string(b)
	default:
		s = fmt.Sprint(v)
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
