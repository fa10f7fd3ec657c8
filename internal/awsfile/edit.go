package awsfile

import (
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Sentinel errors of Set and Delete.
var (
	// ErrBadValue: a value with a line break, or that the SDK would read
	// back differently (surrounding spaces, " #" comments, quotes).
	ErrBadValue = errors.New("value cannot be written so that the aws sdk reads it back unchanged")
	// ErrBadName: a profile or key name that cannot be written as such.
	ErrBadName = errors.New("name cannot be written to an aws shared file")
	// ErrUnsafeEdit: the edit would change how the SDK reads other keys.
	ErrUnsafeEdit = errors.New("edit would change other values of the file")
)

// Kind reports which shared file f is.
func (f *File) Kind() Kind { return f.kind }

// Bytes returns the file's contents: for an unedited File exactly the bytes
// given to Parse.
func (f *File) Bytes() []byte {
	var b strings.Builder
	for _, l := range f.lines {
		b.WriteString(l.raw)
	}
	return []byte(b.String())
}

// Profiles lists the profiles the SDK finds in f, in order of first
// appearance.
func (f *File) Profiles() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range f.order {
		p, ok := f.profileOf(s)
		if ok && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// profileOf maps a section name to the profile it defines, if any, with the
// SDK's rules for each kind of file.
func (f *File) profileOf(section string) (string, bool) {
	if section == "" {
		return "", false
	}
	if f.kind == Credentials {
		return section, !strings.HasPrefix(section, "profile ")
	}
	if p, ok := strings.CutPrefix(section, "profile "); ok {
		return p, true
	}
	if strings.EqualFold(section, "default") {
		// The SDK drops [default] when [profile default] exists.
		_, shadowed := f.values["profile "+section]
		return section, !shadowed
	}
	return "", false
}

// sectionFor returns the section name that holds profile, and whether such a
// section exists.
func (f *File) sectionFor(profile string) (string, bool) {
	if f.kind == Credentials {
		_, ok := f.values[profile]
		return profile, ok && !strings.HasPrefix(profile, "profile ")
	}
	if _, ok := f.values["profile "+profile]; ok {
		return "profile " + profile, true
	}
	if _, ok := f.values[profile]; ok && strings.EqualFold(profile, "default") {
		return profile, true
	}
	if profile == "default" {
		return profile, false
	}
	return "profile " + profile, false
}

// HasProfile reports whether f has a section for profile.
func (f *File) HasProfile(profile string) bool {
	_, ok := f.sectionFor(profile)
	return ok
}

// Get returns the value the SDK reads for key (case-insensitive) in profile:
// the last definition wins across duplicate sections; continuation lines are
// joined with "\n".
func (f *File) Get(profile, key string) (string, bool) {
	sec, ok := f.sectionFor(profile)
	if !ok {
		return "", false
	}
	e, ok := f.values[sec][strings.ToLower(key)]
	if !ok {
		return "", false
	}
	return e.str, true
}

// Keys lists the keys the SDK reads in profile, in order of definition.
func (f *File) Keys(profile string) []string {
	sec, ok := f.sectionFor(profile)
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	cur := ""
	for _, l := range f.lines {
		switch {
		case l.kind == lineSection:
			cur = l.name
		case l.kind == lineProperty && cur == sec:
			k := strings.ToLower(l.raw[l.kStart:l.kEnd])
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// ProfilesWithKey lists every profile whose aws_access_key_id is keyID:
// profiles that share a key must all be updated when it is rotated.
func (f *File) ProfilesWithKey(keyID string) []string {
	var out []string
	for _, p := range f.Profiles() {
		if v, ok := f.Get(p, "aws_access_key_id"); ok && v == keyID {
			out = append(out, p)
		}
	}
	return out
}

// Set makes the SDK read value for key in profile. Every definition of the
// key in the profile is rewritten in place (so no stale copy of an old secret
// stays behind), keeping the key's spelling, the spacing around "=", quotes
// and the line ending; continuation lines of the old value are removed. A
// missing key is added after the profile's last key line, in the style of
// that line; a missing profile is appended as a new section. Nothing else in
// the file changes.
func (f *File) Set(profile, key, value string) error {
	return f.SetBefore(profile, key, value)
}

// SetBefore is Set, except that a missing key is added just before the
// profile's first line defining one of the keys before, in the style of that
// line: where it takes their place when they are then deleted (a key line
// replaced by another). Without such a line it is added as Set adds it.
func (f *File) SetBefore(profile, key, value string, before ...string) error {
	key = strings.ToLower(key)
	if err := checkNames(f.kind, profile, key); err != nil {
		return err
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("set %s in profile %q: %w", key, profile, ErrBadValue)
	}
	sec, exists := f.sectionFor(profile)
	if name, ok := sectionName("[" + sec + "]"); !exists && (!ok || name != sec) {
		return fmt.Errorf("set %s in profile %q: %w", key, profile, ErrBadName)
	}
	var attempts [][]string
	switch {
	case len(f.all[sec][key]) > 0 && exists:
		attempts = [][]string{f.replaced(sec, key, value)}
	case exists && f.firstDefinition(sec, before) >= 0:
		at := f.firstDefinition(sec, before)
		attempts = [][]string{insertAfter(f.rawLines(), at-1, f.styled(at, key, value), f.eol),
			insertAfter(f.rawLines(), at-1, key+" = "+value, f.eol)}
	case exists:
		attempts = [][]string{f.inserted(sec, key, value, true), f.inserted(sec, key, value, false)}
	default:
		attempts = [][]string{f.appended(sec, key, value)}
	}
	var err error
	for _, raw := range attempts {
		if err = f.apply(raw, sec, key, &value); err == nil {
			return nil
		}
	}
	return fmt.Errorf("set %s in profile %q: %w", key, profile, err)
}

// Delete removes every definition of key in profile with its continuation
// lines. Deleting a key that is not there is not an error.
func (f *File) Delete(profile, key string) error {
	key = strings.ToLower(key)
	sec, ok := f.sectionFor(profile)
	if !ok || len(f.all[sec][key]) == 0 {
		return nil
	}
	drop := map[int]bool{}
	for _, e := range f.all[sec][key] {
		for _, i := range e.lines {
			drop[i] = true
		}
	}
	var raw []string
	for i, l := range f.lines {
		if !drop[i] {
			raw = append(raw, l.raw)
		}
	}
	if err := f.apply(raw, sec, key, nil); err != nil {
		return fmt.Errorf("delete %s in profile %q: %w", key, profile, err)
	}
	return nil
}

func checkNames(kind Kind, profile, key string) error {
	if profile == "" || key == "" || strings.ContainsAny(profile+key, "\r\n") ||
		strings.ContainsAny(key, "=:#;[] \t") ||
		kind == Credentials && strings.HasPrefix(profile, "profile ") {
		return fmt.Errorf("set %q in profile %q: %w", key, profile, ErrBadName)
	}
	return nil
}

// apply re-parses the edited lines and accepts them only if the SDK would
// read exactly the intended change (want nil: key gone).
func (f *File) apply(raw []string, sec, key string, want *string) error {
	nf, err := Parse([]byte(strings.Join(raw, "")), f.kind)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	if err := sameExcept(f, nf, sec, key, want); err != nil {
		return err
	}
	*f = *nf
	return nil
}

// sameExcept checks that nf reads like f except for sec/key.
func sameExcept(f, nf *File, sec, key string, want *string) error {
	for name, vals := range nf.values {
		if _, ok := f.values[name]; !ok && name != sec {
			return ErrUnsafeEdit
		}
		for k, e := range vals {
			if name == sec && k == key {
				continue
			}
			old, ok := f.values[name][k]
			if !ok || old.str != e.str || !maps.Equal(old.mp, e.mp) {
				return ErrUnsafeEdit
			}
		}
	}
	for name, vals := range f.values {
		if _, ok := nf.values[name]; !ok {
			return ErrUnsafeEdit
		}
		for k := range vals {
			if _, ok := nf.values[name][k]; !ok && !(name == sec && k == key) {
				return ErrUnsafeEdit
			}
		}
	}
	got, ok := nf.values[sec][key]
	switch {
	case want == nil && ok:
		return ErrUnsafeEdit
	case want != nil && (!ok || got.str != *want || got.mp != nil):
		return ErrBadValue
	}
	return nil
}
