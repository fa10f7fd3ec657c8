package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// writeJSON writes the entries as one JSON array, one object per line, so the
// output is both valid JSON and easy to diff.
func writeJSON(w io.Writer, doc Document) error {
	bw := bufio.NewWriter(w)
	rows := doc.rows()
	if len(rows) == 0 {
		bw.WriteString("[]\n")
		return bw.Flush()
	}
	bw.WriteString("[\n")
	for i, fields := range rows {
		obj, err := marshalFields(fields)
		if err != nil {
			return err
		}
		bw.WriteString("  ")
		bw.Write(obj)
		if i < len(rows)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// writeJSONL writes one JSON object per line.
func writeJSONL(w io.Writer, doc Document) error {
	bw := bufio.NewWriter(w)
	for _, fields := range doc.rows() {
		obj, err := marshalFields(fields)
		if err != nil {
			return err
		}
		bw.Write(obj)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// marshalFields encodes fields as a JSON object keeping their order, which
// encoding/json cannot do for maps.
func marshalFields(fields []Field) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := encodeValue(&buf, f.Key); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := encodeValue(&buf, f.Value); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// encodeValue writes v as compact JSON without HTML escaping (reports are not
// embedded in HTML, and "<" in a path should stay readable).
func encodeValue(buf *bytes.Buffer, v any) error {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
	return nil
}
