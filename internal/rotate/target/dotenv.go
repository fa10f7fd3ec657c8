package target

import (
	"bytes"
	"strings"
)

// editDotenv returns src with the value of every assignment to vals[i][0]
// replaced by vals[i][1] and every other byte kept: comments, blank lines,
// CRLF or LF endings, `export ` prefixes, the quote style of each value, an
// inline comment after it, a missing final newline. Variables src does not
// assign are appended, in the file's line-ending and export style.
func editDotenv(src []byte, vals [2][2]string) []byte {
	var out bytes.Buffer
	out.Grow(len(src) + 128)
	found := [2]bool{}
	exported := false
	eol := "\n"
	for first, rest := true, src; len(rest) > 0; first = false {
		line, term := rest, []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, term, rest = rest[:i], rest[i:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		if bytes.HasSuffix(line, []byte("\r")) {
			line, term = line[:len(line)-1], append([]byte("\r"), term...)
		}
		if first && string(term) == "\r\n" {
			eol = "\r\n"
		}
		a, ok := parseAssign(string(line))
		if ok {
			exported = exported || a.export
			for i, kv := range vals {
				if a.key == kv[0] {
					found[i] = true
					line = []byte(a.replace(string(line), kv[1]))
				}
			}
		}
		out.Write(line)
		out.Write(term)
	}
	prefix := ""
	if exported {
		prefix = "export "
	}
	missing := []string{}
	for i, kv := range vals {
		if !found[i] {
			missing = append(missing, prefix+kv[0]+"="+kv[1])
		}
	}
	if len(missing) == 0 {
		return out.Bytes()
	}
	if len(src) > 0 && src[len(src)-1] != '\n' {
		// Keep the file's missing final newline: separate, do not terminate.
		out.WriteString(eol + strings.Join(missing, eol))
		return out.Bytes()
	}
	out.WriteString(strings.Join(missing, eol) + eol)
	return out.Bytes()
}

// assign is one KEY=VALUE line; value is line[start:end], inside its quotes.
type assign struct {
	key        string
	export     bool
	quote      byte // '"', '\'' or 0
	start, end int
	closed     bool // the quote is closed on this line
}

// parseAssign recognises `[ws][export ws]KEY[ws]=[ws]VALUE[ws][#comment]`.
func parseAssign(line string) (assign, bool) {
	var a assign
	i := skipBlank(line, 0)
	if rest := line[i:]; strings.HasPrefix(rest, "export") && len(rest) > 6 && (rest[6] == ' ' || rest[6] == '\t') {
		a.export = true
		i = skipBlank(line, i+6)
	}
	k := i
	for i < len(line) && isKeyByte(line[i], i == k) {
		i++
	}
	if i == k {
		return a, false
	}
	a.key = line[k:i]
	i = skipBlank(line, i)
	if i >= len(line) || line[i] != '=' {
		return a, false
	}
	i = skipBlank(line, i+1)
	if i < len(line) && (line[i] == '"' || line[i] == '\'') {
		a.quote = line[i]
		a.start = i + 1
		a.end, a.closed = closingQuote(line, a.start, a.quote)
		return a, true
	}
	a.start, a.end = i, unquotedEnd(line, i)
	return a, true
}

// replace returns line with the value set to v, in the same quotes.
func (a assign) replace(line, v string) string {
	if a.quote != 0 && !a.closed {
		return line[:a.start] + v + string(a.quote)
	}
	return line[:a.start] + v + line[a.end:]
}

func skipBlank(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isKeyByte(c byte, first bool) bool {
	switch {
	case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return true
	case c >= '0' && c <= '9', c == '.', c == '-':
		return !first
	}
	return false
}

// closingQuote finds the quote that ends a value starting at i; inside double
// quotes a backslash escapes the next byte.
func closingQuote(s string, i int, q byte) (int, bool) {
	for ; i < len(s); i++ {
		if q == '"' && s[i] == '\\' {
			i++
			continue
		}
		if s[i] == q {
			return i, true
		}
	}
	return len(s), false
}

// unquotedEnd is where an unquoted value ends: before the blanks that precede
// an inline `#` comment, or before trailing blanks.
func unquotedEnd(s string, i int) int {
	end := len(s)
	for j := i; j < len(s); j++ {
		if s[j] == '#' && j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
			end = j
			break
		}
	}
	for end > i && (s[end-1] == ' ' || s[end-1] == '\t') {
		end--
	}
	return end
}
