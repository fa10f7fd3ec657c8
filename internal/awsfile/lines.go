package awsfile

import "strings"

// rawLines copies the file's lines as strings, ready to be edited.
func (f *File) rawLines() []string {
	raw := make([]string, len(f.lines))
	for i, l := range f.lines {
		raw[i] = l.raw
	}
	return raw
}

// replaced rewrites the value of every definition of sec/key and drops the
// lines attached to the old values.
func (f *File) replaced(sec, key, value string) []string {
	raw := f.rawLines()
	drop := map[int]bool{}
	for _, e := range f.all[sec][key] {
		l := f.lines[e.lines[0]]
		raw[e.lines[0]] = l.raw[:l.vStart] + value + l.raw[l.vEnd:]
		for _, i := range e.lines[1:] {
			drop[i] = true
		}
	}
	out := raw[:0]
	for i, r := range raw {
		if !drop[i] {
			out = append(out, r)
		}
	}
	return out
}

// inserted adds "key = value" after the last key line of the profile's last
// section (or after its header), styled like that section's key lines when
// styled is true.
func (f *File) inserted(sec, key, value string, styled bool) []string {
	hdrs := f.headers[sec]
	h := hdrs[len(hdrs)-1]
	at, sample := h, -1
	for i := h + 1; i < len(f.lines) && f.lines[i].kind != lineSection; i++ {
		switch f.lines[i].kind {
		case lineProperty:
			at, sample = i, i
		case lineSub, lineCont:
			at = i
		}
	}
	text := key + " = " + value
	if styled {
		if sample < 0 {
			sample = f.firstProperty()
		}
		if sample >= 0 {
			text = f.styled(sample, key, value)
		}
	}
	return insertAfter(f.rawLines(), at, text, f.eol)
}

// appended adds a new section for the profile at the end of the file.
func (f *File) appended(sec, key, value string) []string {
	raw := f.rawLines()
	noFinalEOL := len(raw) > 0 && !strings.HasSuffix(raw[len(raw)-1], "\n")
	if noFinalEOL {
		raw[len(raw)-1] += f.eol
	}
	if len(raw) > 0 && strings.TrimSpace(raw[len(raw)-1]) != "" {
		raw = append(raw, f.eol)
	}
	text := key + " = " + value
	if s := f.firstProperty(); s >= 0 {
		text = strings.TrimLeft(f.styled(s, key, value), " \t")
	}
	raw = append(raw, "["+sec+"]"+f.eol, text+f.eol)
	if noFinalEOL {
		raw[len(raw)-1] = text // keep the file without a final newline
	}
	return raw
}

// firstDefinition is the index of sec's first line defining one of keys,
// or -1.
func (f *File) firstDefinition(sec string, keys []string) int {
	first := -1
	for _, k := range keys {
		for _, e := range f.all[sec][strings.ToLower(k)] {
			if i := e.lines[0]; first < 0 || i < first {
				first = i
			}
		}
	}
	return first
}

func (f *File) firstProperty() int {
	for i, l := range f.lines {
		if l.kind == lineProperty {
			return i
		}
	}
	return -1
}

// styled writes key and value with the indentation and separator spacing of
// the property on line i.
func (f *File) styled(i int, key, value string) string {
	l := f.lines[i]
	indent, mid := l.raw[:l.kStart], l.raw[l.kEnd:l.vOuter]
	if strings.Trim(indent, " \t") != "" {
		indent = ""
	}
	if l.vOuter == l.vEnd || strings.Trim(mid, " \t=:") != "" {
		mid = " = " // an empty sample value hides the spacing after "="
	}
	return indent + key + mid + value
}

// insertAfter inserts text as a line after raw[at] (before the first line
// when at is -1). A last line without a final newline stays the last one
// without a newline.
func insertAfter(raw []string, at int, text, eol string) []string {
	out := make([]string, 0, len(raw)+1)
	out = append(out, raw[:at+1]...)
	if at >= 0 && !strings.HasSuffix(out[at], "\n") {
		out[at] += eol
		return append(out, text)
	}
	out = append(out, text+eol)
	return append(out, raw[at+1:]...)
}
