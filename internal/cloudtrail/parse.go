package cloudtrail

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// parser reads JSON in place from data at pos, in one pass: the record
// decoder takes the fields it types and keeps the rest as byte ranges of
// the record, so a record is read once rather than split out by one scan
// and decoded by another. It follows encoding/json's grammar (RFC 8259, and
// the same string decoding), except that object keys match exactly: a
// hostile "EventName" cannot stand in for "eventName".
type parser struct {
	data  []byte
	pos   int
	depth int
	names *names  // interns repeated field values; nil allocates each
	slab  *[]byte // where records are copied to (see keep); nil clones each
	// typeErr is the first field of the record with the wrong JSON type:
	// the record is skipped, the stream read on.
	typeErr error
}

// errMore says the value runs past the end of data: a stream reads more
// and parses again; a whole input is truncated.
var errMore = errors.New("unexpected end of JSON input")

// maxDepth bounds nesting, as encoding/json does, so hostile input cannot
// exhaust the stack.
const maxDepth = 10000

// errTooDeep is input nested past maxDepth: the file ends there.
var errTooDeep = &syntaxError{fmt.Sprintf("JSON nested deeper than %d levels", maxDepth)}

// syntaxError is JSON that is not JSON: a stream cannot be read past it.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// isFatal reports whether err ends the parse of the input (as opposed to
// a record of the wrong shape, which is skipped).
func isFatal(err error) bool {
	var se *syntaxError
	return errors.Is(err, errMore) || errors.As(err, &se)
}

func (p *parser) syntax(context string) error {
	if p.pos >= len(p.data) {
		return errMore
	}
	return &syntaxError{fmt.Sprintf("invalid character %s %s", quoteChar(p.data[p.pos]), context)}
}

// quoteChar prints a byte the way encoding/json's errors do.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= utf8.RuneSelf:
		return fmt.Sprintf("%q", string(rune(c)))
	}
	return "'" + string(c) + "'"
}

// ws skips whitespace. Most calls find none: the first test says so.
func (p *parser) ws() {
	for p.pos < len(p.data) && p.data[p.pos] <= ' ' {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next significant byte without consuming it.
func (p *parser) peek() (byte, error) {
	p.ws()
	if p.pos >= len(p.data) {
		return 0, errMore
	}
	return p.data[p.pos], nil
}

// strByte marks the bytes that end the fast scan of a string: the quote,
// the backslash, control characters and non-ASCII.
var strByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

// Eight bytes at a time: lanes has 1 in every byte, highs the high bits.
const (
	lanes = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainRun returns how many bytes from i are plain string bytes (not
// strByte), testing eight bytes per step: strings are most of a record.
func plainRun(data []byte, i int) int {
	start := i
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		quote, slash := x^(lanes*'"'), x^(lanes*'\\')
		// A lane's high bit ends up set where the byte is '"' or '\\'
		// (a zero after the xor), below 0x20, or 0x80 and above.
		stop := ((quote - lanes) &^ quote) | ((slash - lanes) &^ slash) | ((x - lanes*0x20) &^ x) | x
		if stop &= highs; stop != 0 {
			return i - start + bits.TrailingZeros64(stop)/8
		}
	}
	for i < len(data) && !strByte[data[i]] {
		i++
	}
	return i - start
}

// str consumes the string at pos and returns its content between the
// quotes. plain means the content is its own value: no escapes, valid UTF-8.
func (p *parser) str() (content []byte, plain bool, err error) {
	start := p.pos + 1
	plain = true
	ascii := true
	for i := start; i < len(p.data); i++ {
		i += plainRun(p.data, i)
		if i >= len(p.data) {
			break
		}
		switch c := p.data[i]; {
		case c == '"':
			p.pos = i + 1
			content = p.data[start:i]
			return content, plain && (ascii || utf8.Valid(content)), nil
		case c == '\\':
			plain = false
			n, err := p.escape(i)
			if err != nil {
				return nil, false, err
			}
			i += n
		case c < 0x20:
			p.pos = i
			return nil, false, p.syntax("in string literal")
		default:
			ascii = false
		}
	}
	return nil, false, errMore
}

// escape checks the escape sequence whose backslash is at i and returns
// how many bytes follow the backslash.
func (p *parser) escape(i int) (int, error) {
	if i+1 >= len(p.data) {
		return 0, errMore
	}
	switch p.data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1, nil
	case 'u':
		for k := i + 2; k < i+6; k++ {
			if k >= len(p.data) {
				return 0, errMore
			}
			if !isHex(p.data[k]) {
				p.pos = k
				return 0, p.syntax("in \\u hexadecimal character escape")
			}
		}
		return 5, nil
	}
	p.pos = i + 1
	return 0, p.syntax("in string escape code")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// text turns a string's content into a Go string; plain content is taken
// as is (interned when asked), the rest is decoded as encoding/json does
// (escapes, invalid UTF-8 replaced).
func (p *parser) text(content []byte, plain, intern bool) string {
	switch {
	case !plain:
		quoted := make([]byte, 0, len(content)+2)
		quoted = append(append(append(quoted, '"'), content...), '"')
		var s string
		_ = json.Unmarshal(quoted, &s) // str checked the syntax: this cannot fail
		return s
	case intern && p.names != nil:
		return p.names.get(content)
	}
	return string(content)
}

// skip consumes one value of any type, checking its syntax. Containers
// are walked with a stack rather than by recursion: most of a record's
// bytes are in values kept raw, and this is the loop that reads them.
func (p *parser) skip() error {
	var buf [32]byte
	stack := buf[:0] // the open containers: '{' or '['
	for {
		c, err := p.peek()
		if err != nil {
			return err
		}
		opened := false
		if c != '{' && c != '[' {
			err = p.scalar(c)
		} else {
			stack, opened, err = p.open(stack, c)
		}
		if err != nil {
			return err
		}
		if opened {
			continue // a value comes next
		}
		// After a value: close containers until one goes on.
		for ; len(stack) > 0; stack = stack[:len(stack)-1] {
			top := stack[len(stack)-1]
			closing, context := byte(']'), "after array element"
			if top == '{' {
				closing, context = '}', "after object key:value pair"
			}
			done, err := p.next(closing, context)
			if err != nil {
				return err
			}
			if !done {
				break
			}
		}
		if len(stack) == 0 {
			return nil
		}
		if stack[len(stack)-1] == '{' {
			if _, _, err := p.memberKey(); err != nil {
				return err
			}
		}
	}
}

// open consumes an opening bracket and pushes it (opened), and an
// object's first key; an empty container is consumed whole instead.
func (p *parser) open(stack []byte, c byte) (_ []byte, opened bool, err error) {
	if p.depth+len(stack) >= maxDepth {
		return stack, false, errTooDeep
	}
	p.pos++
	closing := byte(']')
	if c == '{' {
		closing = '}'
	}
	if next, err := p.peek(); err != nil {
		return stack, false, err
	} else if next == closing {
		p.pos++
		return stack, false, nil
	}
	if c == '{' {
		if _, _, err := p.memberKey(); err != nil {
			return stack, false, err
		}
	}
	return append(stack, c), true, nil
}

// scalar consumes a string, number, true, false or null starting with c.
func (p *parser) scalar(c byte) error {
	switch c {
	case '"':
		_, _, err := p.str()
		return err
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	}
	if c == '-' || c >= '0' && c <= '9' {
		return p.number()
	}
	return p.syntax("looking for beginning of value")
}

// literal consumes true, false or null.
func (p *parser) literal(word string) error {
	for i := range len(word) {
		if p.pos >= len(p.data) {
			return errMore
		}
		if p.data[p.pos] != word[i] {
			return p.syntax("in literal " + word + " (expecting '" + word[i:i+1] + "')")
		}
		p.pos++
	}
	return nil
}

// number consumes a number. (A number that ends where a stream's window
// does could go on past it; only a bare top-level one can, which is not a
// record either way.)
func (p *parser) number() error {
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if err := p.digits(true); err != nil {
		return err
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if err := p.digits(false); err != nil {
			return err
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		return p.digits(false)
	}
	return nil
}

// digits consumes one or more digits; an integer part may not have a
// leading zero followed by more digits.
func (p *parser) digits(integer bool) error {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		if integer && p.pos-start == 1 && p.data[start] == '0' {
			break
		}
	}
	if p.pos == start {
		return p.syntax("in numeric literal")
	}
	return nil
}

// object consumes an object, calling member with each key (decoded) once
// the colon is consumed; member must consume the value.
func (p *parser) object(member func(key []byte) error) error {
	if err := p.enter('{'); err != nil {
		return err
	}
	defer p.leave()
	if c, err := p.peek(); err != nil {
		return err
	} else if c == '}' {
		p.pos++
		return nil
	}
	for {
		key, plain, err := p.memberKey()
		if err != nil {
			return err
		}
		if !plain {
			key = []byte(p.text(key, false, false))
		}
		if err := member(key); err != nil {
			return err
		}
		if done, err := p.next('}', "after object key:value pair"); done || err != nil {
			return err
		}
	}
}

// key consumes `"name":` when it comes next.
func (p *parser) key(name string) (bool, error) {
	if c, err := p.peek(); err != nil || c != '"' {
		return false, err
	}
	if content, _, err := p.str(); err != nil || string(content) != name {
		return false, err
	}
	if c, err := p.peek(); err != nil || c != ':' {
		return false, err
	}
	p.pos++
	return true, nil
}

// skipMember consumes one `"key": value` of an object.
func (p *parser) skipMember() error {
	if _, _, err := p.memberKey(); err != nil {
		return err
	}
	return p.skip()
}

// memberKey consumes an object's `"key":` and returns the key as str does.
func (p *parser) memberKey() (content []byte, plain bool, err error) {
	if c, err := p.peek(); err != nil || c != '"' {
		return nil, false, p.syntax("looking for beginning of object key string")
	}
	if content, plain, err = p.str(); err != nil {
		return nil, false, err
	}
	if c, err := p.peek(); err != nil || c != ':' {
		return nil, false, p.syntax("after object key")
	}
	p.pos++
	return content, plain, nil
}

// array consumes an array, calling element for each element.
func (p *parser) array(element func() error) error {
	if err := p.enter('['); err != nil {
		return err
	}
	defer p.leave()
	if c, err := p.peek(); err != nil {
		return err
	} else if c == ']' {
		p.pos++
		return nil
	}
	for {
		if err := element(); err != nil {
			return err
		}
		if done, err := p.next(']', "after array element"); done || err != nil {
			return err
		}
	}
}

// next consumes the comma before another member or element (false) or
// the closing bracket (true).
func (p *parser) next(closing byte, context string) (bool, error) {
	c, err := p.peek()
	if err != nil {
		return false, err
	}
	switch c {
	case ',':
		p.pos++
		return false, nil
	case closing:
		p.pos++
		return true, nil
	}
	return false, p.syntax(context)
}

// enter consumes an opening bracket, counting the depth.
func (p *parser) enter(open byte) error {
	if c, err := p.peek(); err != nil || c != open {
		return p.syntax("looking for beginning of value")
	}
	if p.depth++; p.depth > maxDepth {
		return errTooDeep
	}
	p.pos++
	return nil
}

func (p *parser) leave() { p.depth-- }

// kind names the JSON type of the value at pos, for type errors.
func (p *parser) kind() string {
	c, _ := p.peek()
	switch c {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a bool"
	case 'n':
		return "null"
	}
	return "a number"
}

// wrongType records that field holds a value of the wrong type and skips it.
func (p *parser) wrongType(field, want string) error {
	if p.typeErr == nil {
		p.typeErr = fmt.Errorf("want %s, got %s", want, p.kind())
		if field != "" {
			p.typeErr = fmt.Errorf("%s: %w", field, p.typeErr)
		}
	}
	return p.skip()
}

// validValue reports whether b is exactly one JSON value.
func validValue(b []byte) bool {
	p := parser{data: b}
	if err := p.skip(); err != nil {
		return false
	}
	p.ws()
	return p.pos == len(b)
}

// names interns the field values that repeat from record to record
// (services, event names, regions, principals), so a day of logs does not
// allocate the same strings a million times. It is a direct-mapped cache:
// a slot holds the last value that hashed to it, so high-cardinality input
// costs a miss, never memory. The hash reads only the first and last eight
// bytes and the length, where these values differ; a collision is a miss.
type names [4096]string

func (n *names) get(b []byte) string {
	slot := &n[quickHash(b)%uint64(len(n))]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

func quickHash(b []byte) uint64 {
	h := uint64(len(b)) * 0x9e3779b97f4a7c15
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b) * 0xff51afd7ed558ccd
		h ^= binary.LittleEndian.Uint64(b[len(b)-8:]) * 0xc4ceb9fe1a85ec53
	} else {
		for _, c := range b {
			h = (h ^ uint64(c)) * 0x100000001b3
		}
	}
	return h ^ h>>29
}
