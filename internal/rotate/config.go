package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/bounded"
	"github.com/keywarden/keywarden/internal/span"
	"go.yaml.in/yaml/v3"
)

// Config is a rotations file (`keywarden rotate --config rotations.yaml`):
// the keys a team rotates, kept in git beside the code that uses them.
//
//	grace: 7d            # defaults for every entry
//	max_age: 90d
//	rotations:
//	  - user: ci-deployer
//	    to: [secretsmanager:ci/deployer, "github:acme/api:production"]
//	    max_age: 60d
//	  - profile: default
//	  - profile: prod
//	    grace: 0d
type Config struct {
	Entries []Entry
}

// Entry is one rotation of a Config, with the file's defaults already applied.
type Entry struct {
	Profile string   // a profile of ~/.aws/credentials whose key is rotated (and rewritten)
	User    string   // an IAM user whose key is rotated and delivered to To
	KeyID   string   // the key to replace when the user has two; empty: the only active one
	To      []string // target specs (target.Parse), checked for a known KIND: prefix only
	// MaxAge rotates only a key at least this old (--if-older-than); 0: not set, the CLI's default.
	MaxAge time.Duration
	// Grace is how long the old key lives after deactivation. GraceSet tells an
	// explicit 0d (delete at once) from "not set" (the CLI's default).
	Grace    time.Duration
	GraceSet bool
	Line     int // the entry's line in the file, for messages about it
}

// maxConfigSize bounds what LoadConfig reads: a rotations file is a few
// hundred lines, and a huge one is a mistake, not something to parse.
const maxConfigSize = 4 << 20

// LoadConfig reads and parses the rotations file at path.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("read rotations file: %w", err)
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxConfigSize, "a rotations file")
	if err != nil {
		return Config{}, fmt.Errorf("read rotations file %s: %w", path, err)
	}
	return ParseConfig(data, path)
}

// ParseConfig parses a rotations file; name (its path) prefixes every error,
// with the line at fault: "rotations.yaml:7: unknown key \"maxage\"".
func ParseConfig(data []byte, name string) (Config, error) {
	root, err := decodeOne(data)
	if err == nil {
		var cfg Config
		if cfg, err = parseRoot(root); err == nil {
			return cfg, nil
		}
	}
	var le *lineError
	if errors.As(err, &le) {
		return Config{}, fmt.Errorf("%s%w", name, err)
	}
	return Config{}, fmt.Errorf("%s: %w", name, err)
}

// decodeOne decodes the file's single YAML document; a second document would
// be ignored by a plain Unmarshal, and with it the rotations it lists.
func decodeOne(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: want a rotations: list")
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &lineError{line: extra.Line, msg: "a second YAML document (---): keep every rotation in one"}
	case !errors.Is(err, io.EOF):
		return nil, yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("empty file: want a rotations: list")
	}
	return doc.Content[0], nil
}

// yamlError turns the library's "yaml: line 3: msg" into the file:line form
// of every other error here.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, _ := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); err == nil {
			return &lineError{line: n, msg: "not valid YAML: " + text}
		}
	}
	return fmt.Errorf("not valid YAML: %s", msg)
}

// lineError is an error at one line of the file; ParseConfig prefixes the name.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf(":%d: %s", e.line, e.msg) }

func errAt(n *yaml.Node, format string, args ...any) error {
	return &lineError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

// defaults are the top-level values every entry inherits.
type defaults struct {
	maxAge   time.Duration
	grace    time.Duration
	graceSet bool
}

func parseRoot(root *yaml.Node) (Config, error) {
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return Config{}, errAt(root, "want a mapping with a rotations: list, found %s", kindName(root))
	}
	var (
		def       defaults
		rotations *yaml.Node
	)
	err := eachKey(root, []string{"grace", "max_age", "rotations"}, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "grace":
			def.grace, err = durationValue(k, v, true)
			def.graceSet = true
		case "max_age":
			def.maxAge, err = durationValue(k, v, false)
		case "rotations":
			rotations = v
		}
		return err
	})
	if err != nil {
		return Config{}, err
	}
	if rotations == nil {
		return Config{}, errAt(root, "no rotations: list")
	}
	return parseEntries(rotations, def)
}

func parseEntries(list *yaml.Node, def defaults) (Config, error) {
	list = deref(list)
	if list.Kind != yaml.SequenceNode {
		return Config{}, errAt(list, "rotations: want a list of entries, found %s", kindName(list))
	}
	if len(list.Content) == 0 {
		return Config{}, errAt(list, "rotations: the list is empty")
	}
	var cfg Config
	seen := map[string]int{} // "profile default" -> line, so a key is not rotated twice in one run
	for i, n := range list.Content {
		e, err := parseEntry(deref(n), def)
		if err != nil {
			return Config{}, err
		}
		id := "profile " + e.Profile
		if e.User != "" {
			id = "user " + e.User + " key " + e.KeyID
		}
		if line, dup := seen[id]; dup {
			return Config{}, errAt(n, "rotations[%d]: %s is already listed at line %d", i, strings.TrimSuffix(id, " key "), line)
		}
		seen[id] = e.Line
		cfg.Entries = append(cfg.Entries, e)
	}
	return cfg, nil
}

var entryKeys = []string{"profile", "user", "key_id", "to", "max_age", "grace"}

func parseEntry(n *yaml.Node, def defaults) (Entry, error) {
	if n.Kind != yaml.MappingNode {
		return Entry{}, errAt(n, "a rotation: want a mapping with profile: or user:, found %s", kindName(n))
	}
	e := Entry{MaxAge: def.maxAge, Grace: def.grace, GraceSet: def.graceSet, Line: n.Line}
	err := eachKey(n, entryKeys, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "profile":
			e.Profile, err = nameValue(k, v, validProfile)
		case "user":
			e.User, err = nameValue(k, v, validUser)
		case "key_id":
			e.KeyID, err = nameValue(k, v, validKeyID)
		case "to":
			e.To, err = targetsValue(k, v)
		case "max_age":
			e.MaxAge, err = durationValue(k, v, false)
		case "grace":
			e.Grace, err = durationValue(k, v, true)
			e.GraceSet = true
		}
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	switch {
	case e.Profile == "" && e.User == "":
		return Entry{}, errAt(n, "a rotation needs profile: or user:")
	case e.Profile != "" && e.User != "":
		return Entry{}, errAt(n, "a rotation has both profile: %s and user: %s; want exactly one", e.Profile, e.User)
	case e.User != "" && len(e.To) == 0:
		return Entry{}, errAt(n, "user %s: want to: with at least one target, or its new key is lost", e.User)
	}
	return e, nil
}

// eachKey calls f for every key of mapping m, refusing keys not in known
// (a typo such as "maxage" must not silently drop a setting) and keys given twice.
func eachKey(m *yaml.Node, known []string, f func(key string, k, v *yaml.Node) error) error {
	lines := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return errAt(k, "want a key such as %s, found %s", known[0], kindName(k))
		}
		if !slices.Contains(known, k.Value) {
			return errAt(k, "unknown key %q (known keys: %s)", k.Value, strings.Join(known, ", "))
		}
		if line, dup := lines[k.Value]; dup {
			return errAt(k, "%s: given twice (first at line %d)", k.Value, line)
		}
		lines[k.Value] = k.Line
		if err := f(k.Value, k, deref(v)); err != nil {
			return err
		}
	}
	return nil
}

// deref follows an alias (*name) to the node it names, so teams may share a
// target list with an anchor; the walk is of fixed depth, so aliases cannot
// make it expand without bound.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	default:
		return "an alias"
	}
}

// scalar returns v's text, refusing lists, mappings and empty values.
func scalar(k, v *yaml.Node, want string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
		return "", errAt(v, "%s: want %s, found %s", k.Value, want, kindName(v))
	}
	return v.Value, nil
}

func nameValue(k, v *yaml.Node, valid func(string) bool) (string, error) {
	s, err := scalar(k, v, "a name")
	if err != nil {
		return "", err
	}
	if !valid(s) {
		return "", errAt(v, "%s: %q is not a valid %s", k.Value, s, strings.ReplaceAll(k.Value, "_", " "))
	}
	return s, nil
}

// validUser follows IAM's user name rule: 1-64 of letters, digits and +=,.@_-.
func validUser(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("+=,.@_-", r) {
			return false
		}
	}
	return true
}

// validProfile refuses what cannot be a section name of ~/.aws/credentials.
func validProfile(s string) bool {
	if len(s) > 256 || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '[' || r == ']' {
			return false
		}
	}
	return true
}

// validKeyID accepts an access key id's shape: 16-128 upper-case letters and digits.
func validKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// targetKinds are the KIND: prefixes of target.Forms plus the shared-file
// targets this package delivers itself (SharedFileTarget). Specs are only
// checked for their kind here: resolving one may need credentials or network.
var targetKinds = []string{"secretsmanager", "ssm", "envfile", "github", "gitlab", "exec", "credentials", "config"}

// targetsValue reads to:, a list of specs or a single one.
func targetsValue(k, v *yaml.Node) ([]string, error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		if len(items) == 0 {
			return nil, errAt(v, "to: the list is empty")
		}
	}
	var specs []string
	for _, it := range items {
		it = deref(it)
		s, err := scalar(k, it, "a target such as secretsmanager:NAME")
		if err != nil {
			return nil, err
		}
		kind, rest, ok := strings.Cut(s, ":")
		if !ok || !slices.Contains(targetKinds, kind) {
			return nil, errAt(it, "to: %q: want KIND:VALUE with KIND one of %s", s, strings.Join(targetKinds, ", "))
		}
		if rest == "" {
			return nil, errAt(it, "to: %q: nothing after %s:", s, kind)
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// durationValue reads an age such as 90d, 12w or 36h; a bare number is days.
// Zero is allowed only where it means something (grace: delete at once).
func durationValue(k, v *yaml.Node, zeroOK bool) (time.Duration, error) {
	s, err := scalar(k, v, "a duration such as 90d")
	if err != nil {
		return 0, err
	}
	d, err := span.Parse(s)
	if err != nil || d == 0 && !zeroOK {
		what := "a positive whole number"
		if zeroOK {
			what = "a whole number"
		}
		return 0, errAt(v, "%s: %q: want %s with a unit h, d or w (e.g. 90d)", k.Value, s, what)
	}
	return d, nil
}
