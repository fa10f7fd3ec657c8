package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// maxDocument bounds what Parse accepts. IAM's own limits are a few KiB;
// anything this large is not a policy document.
const maxDocument = 1 << 20

// Effect of a statement.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed policy document (identity, boundary or trust policy).
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one policy statement. Exactly one of Action and NotAction is
// set; at most one of Resource and NotResource, and of Principal and
// NotPrincipal.
type Statement struct {
	Sid          string
	Effect       Effect
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Principal    *Principal
	NotPrincipal *Principal
	Condition    Condition
}

// Principal is the Principal (or NotPrincipal) element of a statement.
type Principal struct {
	All           bool // the bare string "*": everyone
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition maps operator -> condition key -> values, as written. Scalar
// values (booleans, numbers) are kept in their JSON text form.
type Condition map[string]map[string][]string

// Conditional reports whether the statement carries any condition.
func (s Statement) Conditional() bool { return len(s.Condition) > 0 }

// Parse reads a policy document as IAM returns it: plain JSON, or JSON
// percent-encoded as GetAccountAuthorizationDetails and GetRolePolicy return
// it. Every string-or-array element is normalised to a slice.
func Parse(doc string) (Document, error) {
	if len(doc) > maxDocument {
		return Document{}, fmt.Errorf("policy document is %d bytes, more than the %d accepted", len(doc), maxDocument)
	}
	text := strings.TrimSpace(doc)
	if text == "" {
		return Document{}, errors.New("policy document is empty")
	}
	if !strings.HasPrefix(text, "{") {
		decoded, err := url.PathUnescape(text)
		if err != nil {
			return Document{}, fmt.Errorf("policy document is neither JSON nor percent-encoded JSON: %w", err)
		}
		text = strings.TrimSpace(decoded)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		return Document{}, fmt.Errorf("policy document is not a JSON object: %w", err)
	}
	var d Document
	var err error
	for _, key := range sortedKeys(top) {
		raw := top[key]
		switch key {
		case "Version":
			d.Version, err = str(raw, "Version")
			if err == nil && d.Version != "2012-10-17" && d.Version != "2008-10-17" {
				err = fmt.Errorf("unknown Version %q (want 2012-10-17)", d.Version)
			}
		case "Id":
			d.ID, err = str(raw, "Id")
		case "Statement":
			d.Statements, err = statements(raw)
		default:
			err = fmt.Errorf("unknown policy element %q", key)
		}
		if err != nil {
			return Document{}, err
		}
	}
	if _, ok := top["Statement"]; !ok {
		return Document{}, errors.New("policy document has no Statement")
	}
	return d, nil
}

// statements accepts a single statement object or an array of them.
func statements(raw json.RawMessage) ([]Statement, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		raw = append(append([]byte("["), raw...), ']')
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("Statement must be an object or an array of objects")
	}
	out := make([]Statement, 0, len(items))
	for i, item := range items {
		s, err := statement(item)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func statement(raw json.RawMessage) (Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Statement{}, errors.New("not a JSON object")
	}
	var s Statement
	for _, key := range sortedKeys(fields) {
		v := fields[key]
		if err := s.set(key, v); err != nil {
			return Statement{}, err
		}
	}
	return s, s.validate(fields)
}

func (s *Statement) set(key string, v json.RawMessage) error {
	var err error
	switch key {
	case "Sid":
		s.Sid, err = str(v, key)
	case "Effect":
		var e string
		e, err = str(v, key)
		s.Effect = Effect(e)
	case "Action":
		s.Action, err = strList(v, key)
	case "NotAction":
		s.NotAction, err = strList(v, key)
	case "Resource":
		s.Resource, err = strList(v, key)
	case "NotResource":
		s.NotResource, err = strList(v, key)
	case "Principal":
		s.Principal, err = principal(v, key)
	case "NotPrincipal":
		s.NotPrincipal, err = principal(v, key)
	case "Condition":
		s.Condition, err = condition(v)
	default:
		err = fmt.Errorf("unknown statement element %q", key)
	}
	return err
}

func (s *Statement) validate(fields map[string]json.RawMessage) error {
	has := func(k string) bool { _, ok := fields[k]; return ok }
	switch {
	case s.Effect != Allow && s.Effect != Deny:
		return fmt.Errorf("Effect %q must be Allow or Deny", s.Effect)
	case has("Action") == has("NotAction"):
		return errors.New("needs exactly one of Action and NotAction")
	case has("Resource") && has("NotResource"):
		return errors.New("has both Resource and NotResource")
	case has("Principal") && has("NotPrincipal"):
		return errors.New("has both Principal and NotPrincipal")
	}
	return nil
}

func str(raw json.RawMessage, name string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || isNull(raw) {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return s, nil
}

// strList accepts a string or a non-empty array of strings.
func strList(raw json.RawMessage, name string) ([]string, error) {
	var one string
	if isNull(raw) {
		return nil, fmt.Errorf("%s must not be null", name)
	}
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, fmt.Errorf("%s must be a string or a non-empty array of strings", name)
	}
	return many, nil
}

func principal(raw json.RawMessage, name string) (*Principal, error) {
	var star string
	if err := json.Unmarshal(raw, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf(`%s string must be "*", got %q`, name, star)
		}
		return &Principal{All: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf(`%s must be "*" or an object`, name)
	}
	p := &Principal{}
	for key, v := range m {
		list, err := strList(v, name+"."+key)
		if err != nil {
			return nil, err
		}
		switch key {
		case "AWS":
			p.AWS = list
		case "Service":
			p.Service = list
		case "Federated":
			p.Federated = list
		case "CanonicalUser":
			p.CanonicalUser = list
		default:
			return nil, fmt.Errorf("unknown %s type %q", name, key)
		}
	}
	return p, nil
}

func condition(raw json.RawMessage) (Condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, errors.New("Condition must map operators to objects of condition keys")
	}
	c := make(Condition, len(ops))
	for op, keys := range ops {
		c[op] = make(map[string][]string, len(keys))
		for key, v := range keys {
			vals, err := scalars(v)
			if err != nil {
				return nil, fmt.Errorf("Condition %s %s: %w", op, key, err)
			}
			c[op][key] = vals
		}
	}
	return c, nil
}

// scalars accepts a scalar or an array of scalars; IAM allows booleans and
// numbers as condition values ("aws:SecureTransport": false).
func scalars(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		var v any
		if err := json.Unmarshal(item, &v); err != nil {
			return nil, errors.New("bad value")
		}
		switch t := v.(type) {
		case string:
			out = append(out, t)
		case bool, float64:
			out = append(out, string(bytes.TrimSpace(item)))
		default:
			return nil, errors.New("values must be strings, numbers or booleans")
		}
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// sortedKeys makes error messages deterministic when a document has several
// problems.
func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
