package awsfile

import (
	"fmt"
	"strings"
	"unicode"
)

// Kind says which of the two shared files a File is: they name profile
// sections differently.
type Kind int

const (
	// Credentials is ~/.aws/credentials: a profile P is the section [P];
	// sections named [profile P] are ignored by the SDK.
	Credentials Kind = iota
	// Config is ~/.aws/config: a profile P is [profile P]; [default] is
	// also accepted for the default profile; [sso-session X] and
	// [services X] are not profiles.
	Config
)

func (k Kind) String() string {
	if k == Config {
		return "config"
	}
	return "credentials"
}

type lineKind uint8

const (
	lineOther    lineKind = iota // blank, comment, or text the SDK ignores
	lineSection                  // [name]
	lineProperty                 // key = value: starts an entry
	lineSub                      // indented key = value inside a map-valued entry
	lineCont                     // indented continuation of the current entry
)

// line is one line of the file with what the SDK's reader makes of it.
type line struct {
	raw  string // the bytes, with the "\n" terminator when there is one
	kind lineKind
	name string // section name, for lineSection
	// For lineProperty: key spelling span, the value span to replace (inside
	// quotes when quoted), and the start of the value including its quote.
	kStart, kEnd, vStart, vEnd, vOuter int
}

// entry is one definition of a key: its property line and the lines that
// attach to it (map entries and continuations).
type entry struct {
	section string
	key     string
	lines   []int // indices into File.lines; lines[0] is the property
	str     string
	mp      map[string]string
}

// File is a parsed shared file. The zero value is not usable; build one with
// Parse or Load.
type File struct {
	kind    Kind
	path    string // where Load read it; "" for a parsed one
	lines   []line
	order   []string                       // section names, first appearance
	headers map[string][]int               // section name -> header lines
	values  map[string]map[string]*entry   // what the SDK keeps: last wins
	all     map[string]map[string][]*entry // every definition, for edits
	eol     string                         // the file's line ending, for added lines
}

// ParseError is returned for input the AWS SDK cannot read at all.
type ParseError struct {
	Line int // 1-based
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads data the way the AWS SDK for Go v2 reads a shared file. It only
// fails where the SDK itself cannot read the file (a value that is a lone
// quote makes the SDK's reader panic).
func Parse(data []byte, kind Kind) (*File, error) {
	p := &parser{f: &File{
		kind:    kind,
		headers: map[string][]int{},
		values:  map[string]map[string]*entry{},
		all:     map[string]map[string][]*entry{},
		eol:     "\n",
	}}
	p.f.lines = splitLines(string(data))
	for i := range p.f.lines {
		if err := p.line(i); err != nil {
			return nil, err
		}
	}
	for _, l := range p.f.lines {
		if strings.HasSuffix(l.raw, "\n") {
			if strings.HasSuffix(l.raw, "\r\n") {
				p.f.eol = "\r\n"
			}
			break
		}
	}
	return p.f, nil
}

// splitLines splits on "\n" like the SDK, keeping each terminator.
func splitLines(s string) []line {
	out := make([]line, 0, strings.Count(s, "\n")+1)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, line{raw: s})
			break
		}
		out = append(out, line{raw: s[:i+1]})
		s = s[i+1:]
	}
	return out
}

type parser struct {
	f        *File
	csection string
	inSect   bool   // a header was seen (csection may still be "")
	cur      *entry // the entry of the SDK's "current key"
}

func (p *parser) line(i int) error {
	l := &p.f.lines[i]
	content := strings.TrimSuffix(l.raw, "\n")
	if strings.TrimSpace(content) == "" || isComment(content) {
		return nil
	}
	if name, ok := sectionName(content); ok {
		p.section(i, name)
		return nil
	}
	if c := content[0]; c != ' ' && c != '\t' {
		return p.property(i, content)
	}
	return p.indented(i, content)
}

func (p *parser) section(i int, name string) {
	l := &p.f.lines[i]
	l.kind, l.name = lineSection, name
	p.csection, p.inSect, p.cur = name, true, nil
	if _, ok := p.f.values[name]; !ok {
		p.f.values[name] = map[string]*entry{}
		p.f.all[name] = map[string][]*entry{}
		p.f.order = append(p.f.order, name)
	}
	p.f.headers[name] = append(p.f.headers[name], i)
}

// property handles a line starting in column 0.
func (p *parser) property(i int, content string) error {
	t := strings.TrimRight(content[:propertyCommentCut(content)], " \t")
	sep := sepIndex(t)
	if sep < 0 {
		return nil
	}
	ks, ke := trimSpan(t, 0, sep)
	vs, ve := trimSpan(t, sep+1, len(t))
	raw := t[vs:ve]
	if isLoneQuote(raw) {
		return &ParseError{Line: i + 1, Msg: "value is a lone quote, which the AWS SDK cannot read"}
	}
	if p.csection == "" {
		return nil // the SDK ignores keys outside a named section
	}
	outer := vs
	if isQuoted(raw) {
		vs, ve = vs+1, ve-1
	}
	l := &p.f.lines[i]
	l.kStart, l.kEnd, l.vStart, l.vEnd, l.vOuter = ks, ke, vs, ve, outer
	p.define(i, strings.ToLower(t[ks:ke]), content[vs:ve])
	return nil
}

// indented handles a line starting with a space or tab: a map entry of the
// current key when its value is empty, else a key of its own, or a
// continuation line.
func (p *parser) indented(i int, content string) error {
	lt := strings.TrimLeft(content, " \t")
	off := len(content) - len(lt)
	sep := sepIndex(lt)
	if sep < 0 {
		if p.csection == "" || p.cur == nil || p.cur.key == "" {
			return nil
		}
		p.own(i, lineCont)
		if p.cur.str != "" && p.cur.mp == nil {
			p.cur.str += "\n" + lt
		}
		return nil
	}
	ks, ke := trimSpan(lt, 0, sep)
	vs, ve := trimSpan(lt, sep+1, len(lt))
	if isLoneQuote(lt[vs:ve]) {
		return &ParseError{Line: i + 1, Msg: "value is a lone quote, which the AWS SDK cannot read"}
	}
	if p.csection == "" {
		return nil
	}
	key := strings.ToLower(lt[ks:ke])
	outer := vs
	if isQuoted(lt[vs:ve]) {
		vs, ve = vs+1, ve-1
	}
	if p.cur == nil || p.cur.key == "" || p.cur.str != "" {
		// The SDK reads it as a key of its own, trimming a comment
		// after unquoting.
		ve = vs + propertyCommentCut(lt[vs:ve])
		vs, ve = trimSpan(lt, vs, ve)
		l := &p.f.lines[i]
		l.kStart, l.kEnd, l.vStart, l.vEnd, l.vOuter = off+ks, off+ke, off+vs, off+ve, off+outer
		p.define(i, key, lt[vs:ve])
		return nil
	}
	if p.cur.mp == nil {
		p.cur.mp, p.cur.str = map[string]string{}, ""
	}
	p.cur.mp[key] = lt[vs:ve]
	p.own(i, lineSub)
	return nil
}

func (p *parser) define(i int, key, value string) {
	e := &entry{section: p.csection, key: key, lines: []int{i}, str: value}
	p.f.lines[i].kind = lineProperty
	p.f.values[p.csection][key] = e
	p.f.all[p.csection][key] = append(p.f.all[p.csection][key], e)
	p.cur = e
}

func (p *parser) own(i int, k lineKind) {
	p.f.lines[i].kind = k
	p.cur.lines = append(p.cur.lines, i)
}

func isComment(s string) bool {
	t := strings.TrimLeft(s, " \t")
	return strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")
}

// sectionName recognises a header the way the SDK does: comments are cut at
// the first # or ; anywhere, and "[ type   name ]" becomes "type name".
func sectionName(content string) (string, bool) {
	if i := strings.IndexAny(content, "#;"); i >= 0 {
		content = content[:i]
	}
	t := strings.TrimSpace(content)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return "", false
	}
	inner := strings.TrimSpace(t[1 : len(t)-1])
	typ, name := splitSection(inner)
	if typ != "" {
		return typ + " " + name, true
	}
	return name, true
}

// splitSection splits "type name" at the first run of spaces or tabs; the
// name keeps any later spacing.
func splitSection(s string) (typ, name string) {
	first := -1
	for i, r := range s {
		if r == ' ' || r == '\t' {
			if first < 0 {
				first = i
			}
		} else if first >= 0 {
			return s[:first], s[i:]
		}
	}
	if first < 0 {
		return "", s
	}
	return "", ""
}

// propertyCommentCut is the index where the SDK cuts an inline comment: a
// # or ; preceded by a space or tab.
func propertyCommentCut(s string) int {
	cut := len(s)
	for _, pat := range []string{" #", " ;", "\t#", "\t;"} {
		if i := strings.Index(s, pat); i >= 0 && i < cut {
			cut = i
		}
	}
	return cut
}

// sepIndex is where the SDK splits key from value: the first "=", unless a
// ":" comes earlier (or there is no "=").
func sepIndex(s string) int {
	eq, colon := strings.IndexByte(s, '='), strings.IndexByte(s, ':')
	if eq < 0 || colon >= 0 && colon < eq {
		return colon
	}
	return eq
}

// trimSpan returns the bounds of strings.TrimSpace(s[start:end]) in s.
func trimSpan(s string, start, end int) (int, int) {
	seg := s[start:end]
	left := strings.TrimLeftFunc(seg, unicode.IsSpace)
	start += len(seg) - len(left)
	return start, start + len(strings.TrimRightFunc(left, unicode.IsSpace))
}

func isQuoted(s string) bool {
	return len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'')
}

func isLoneQuote(s string) bool { return s == `"` || s == `'` }
