package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// spellings are the field-name pairs secrets in the wild use for a key; the
// first is what a new or field-less object gets.
var spellings = [][2]string{
	{"AccessKeyId", "SecretAccessKey"},
	{"aws_access_key_id", "aws_secret_access_key"},
	{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
	{"accessKeyId", "secretAccessKey"},
}

var errNotJSONObject = errors.New("value is not a JSON object")

type member struct {
	key string
	raw json.RawMessage
}

// CheckKeyFields says whether SetKeyFields can write into old: a JSON object,
// or empty. Its error never quotes old.
func CheckKeyFields(old string) error {
	if strings.TrimSpace(old) == "" {
		return nil
	}
	_, err := parseObject(old)
	return err
}

// SetKeyFields returns the JSON object old with the key fields it already uses
// set to c (both halves of every spelling it uses), every other member kept in
// its order; an object with none of them gets AccessKeyId/SecretAccessKey. An
// empty old is a new object. Anything but a JSON object is an error that never
// quotes old (it may hold a secret).
func SetKeyFields(old string, c Credentials) (string, error) {
	var members []member
	if strings.TrimSpace(old) != "" {
		var err error
		if members, err = parseObject(old); err != nil {
			return "", err
		}
	}
	id, _ := json.Marshal(c.AccessKeyID)
	sec, _ := json.Marshal(c.SecretAccessKey.Reveal())
	used := make([]bool, len(spellings))
	found := false
	for i := range members {
		for s, names := range spellings {
			switch members[i].key {
			case names[0]:
				members[i].raw, used[s], found = id, true, true
			case names[1]:
				members[i].raw, used[s], found = sec, true, true
			}
		}
	}
	if !found {
		used[0] = true
	}
	for s, names := range spellings {
		if used[s] {
			members = addMissing(members, names[0], id)
			members = addMissing(members, names[1], sec)
		}
	}
	return encodeObject(members), nil
}

func addMissing(ms []member, key string, raw json.RawMessage) []member {
	for _, m := range ms {
		if m.key == key {
			return ms
		}
	}
	return append(ms, member{key, raw})
}

// parseObject reads a JSON object member by member, so that order and
// duplicate keys survive a rewrite.
func parseObject(s string) ([]member, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotJSONObject
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil, errNotJSONObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errNotJSONObject
		}
		ms = append(ms, member{key, raw})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errNotJSONObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", errNotJSONObject)
	}
	return ms, nil
}

func encodeObject(ms []member) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		if err := json.Compact(&b, m.raw); err != nil {
			b.Write(m.raw) // cannot happen: raw came from the decoder or Marshal
		}
	}
	b.WriteByte('}')
	return b.String()
}
